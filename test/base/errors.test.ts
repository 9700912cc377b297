import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClusterDnsError } from '../../src/base/errors.ts';
import { ConfigError } from '../../src/base/options.ts';
import { MalformedMessageError } from '../../src/dns/reader.ts';
import { PluginOptionError } from '../../src/plugins/errors.ts';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const sources = (readdirSync(SRC, { recursive: true }) as string[])
  .filter((f) => f.endsWith('.ts'))
  .map((file) => ({ file, text: readFileSync(join(SRC, file), 'utf8') }));

test('every error class of src/ extends ClusterDnsError, and only base/errors.ts extends Error', () => {
  const direct = sources.flatMap(({ file, text }) => [...text.matchAll(/class (\w+) extends Error\b/g)].map((m) => `${file}: ${m[1]}`));
  assert.deepEqual(direct, ['base/errors.ts: ClusterDnsError']);
  const named = sources.flatMap(({ file, text }) =>
    [...text.matchAll(/class (\w+Error) extends (\w+)/g)].map((m) => ({ file, name: m[1]!, base: m[2]! })),
  );
  assert.ok(named.length >= 18, `${named.length} error classes`);
  assert.deepEqual(
    named.filter(({ name, base }) => base !== 'ClusterDnsError' && name !== 'ClusterDnsError'),
    [],
  );
});

test('each error code is CDNS_ERR_ and upper-case words, and no two classes share one', () => {
  const codes = sources.flatMap(({ file, text }) => [...text.matchAll(/readonly code = '([^']+)'/g)].map((m) => ({ file, code: m[1]! })));
  const bad = codes.filter(({ code }) => !/^CDNS_ERR_[A-Z]+(?:_[A-Z]+)*$/.test(code));
  assert.deepEqual(bad, []);
  const seen = new Map<string, string>();
  for (const { file, code } of codes) {
    assert.equal(seen.get(code), undefined, `${code} in ${file} and ${seen.get(code)}`);
    seen.set(code, file);
  }
  const classes = sources.reduce((n, { text }) => n + [...text.matchAll(/extends ClusterDnsError\b/g)].length, 0);
  assert.equal(codes.length, classes, 'one code per error class');
});

test('the errors are instances of the base class and carry their code', () => {
  const errors = [
    new ConfigError('--ttl', 'not a number'),
    new MalformedMessageError('shorter than a header'),
    new PluginOptionError('hosts', 'bad line'),
  ];
  assert.deepEqual(
    errors.map((e) => [e instanceof ClusterDnsError, e instanceof Error, e.code, e.name]),
    [
      [true, true, 'CDNS_ERR_CONFIG', 'ConfigError'],
      [true, true, 'CDNS_ERR_MALFORMED_MESSAGE', 'MalformedMessageError'],
      [true, true, 'CDNS_ERR_PLUGIN_OPTION', 'PluginOptionError'],
    ],
  );
});
