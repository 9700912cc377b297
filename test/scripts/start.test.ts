import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUNDLED_EXAMPLE } from '../../src/config.ts';
import { START_DEFAULTS, startArgs } from '../../scripts/start.ts';

const DEFAULTS = [
  '--manifests',
  BUNDLED_EXAMPLE,
  '--listen',
  '127.0.0.1:1053',
  '--health',
  '127.0.0.1:8080',
  '--ready',
  '127.0.0.1:8181',
  '--metrics',
  '127.0.0.1:9153',
  '--debug-endpoints',
  '127.0.0.1:9154',
];

test('npm start: the example cluster, every port on loopback, DNS off 5353 (mDNS)', () => {
  assert.deepEqual(startArgs([]), DEFAULTS);
  for (const [flag, value] of START_DEFAULTS) if (flag !== '--manifests') assert.match(value, /^127\.0\.0\.1:\d+$/, flag);
  assert.ok(!startArgs([]).includes('127.0.0.1:5353'));
});

test('npm start: a flag after -- replaces its default (either spelling); other flags are added', () => {
  assert.deepEqual(startArgs(['--listen', '127.0.0.1:5454']), [
    ...DEFAULTS.filter((_, i) => i !== 2 && i !== 3),
    '--listen',
    '127.0.0.1:5454',
  ]);
  assert.deepEqual(
    startArgs(['--listen=127.0.0.1:5454', '--listen', '[::1]:5454']).filter((a) => a.includes('5454') || a.includes('1053')),
    ['--listen=127.0.0.1:5454', '[::1]:5454'],
  );
  assert.deepEqual(startArgs(['--metrics', 'off']).slice(-2), ['--metrics', 'off']);
  assert.ok(!startArgs(['--metrics', 'off']).includes('127.0.0.1:9153'));
  assert.deepEqual(startArgs(['--log-format', 'text']), [...DEFAULTS, '--log-format', 'text']);
});

test('npm start: another cluster source replaces the example', () => {
  const kube = startArgs(['--kubeconfig', '/k']);
  assert.ok(!kube.includes('--manifests'), 'the two sources cannot be combined');
  assert.deepEqual(kube.slice(-2), ['--kubeconfig', '/k']);
  assert.deepEqual(
    startArgs(['--manifests', 'mine.yaml']).filter((a) => a.endsWith('.yaml')),
    ['mine.yaml'],
  );
});
