import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, integerIn, optionTable, switchOption } from '../../src/base/options.ts';
import { deepFreeze, helpEntry, renderFlagTable, resolveOptions, type Assignment } from '../../src/config/table.ts';

// A table of its own, so that the rules are seen apart from any real option.
const TOY = optionTable({
  count: { flag: 'count', group: 'dns', arg: 'N', default: '3', parse: integerIn(1, 9), help: 'how many', doc: 'how many' },
  names: {
    flag: 'name',
    group: 'dns',
    arg: 'NAME',
    repeatable: true,
    default: { value: [] as readonly string[], text: '' },
    parse: (text: string) => [text],
    help: 'a name; repeatable',
    doc: 'a name',
  },
  loud: switchOption({ flag: 'loud', group: 'dns', help: 'shout', doc: 'shout' }),
});
const flag = (name: string, value: string | boolean): Assignment => ({ flag: name, value, from: { kind: 'flag' } });
const corefile = (name: string, value: string | boolean, line: number): Assignment => ({
  flag: name,
  value,
  from: { kind: 'corefile', file: '/etc/coredns/Corefile', line, directive: 'toy' },
});

test('defaults come from the default text through the parser; given values say so', () => {
  const d = resolveOptions(TOY, []);
  assert.deepEqual(d.values, { count: 3, names: [], loud: false });
  assert.equal(d.given('count'), false);
  const r = resolveOptions(TOY, [
    flag('count', '5'),
    flag('count', '7'),
    flag('name', 'a'),
    flag('name', 'b'),
    flag('loud', true),
    flag('other', 'x'),
  ]);
  assert.deepEqual(
    r.values,
    { count: 7, names: ['a', 'b'], loud: true },
    "the last flag wins; repeatable ones add up; other tables' flags are left alone",
  );
  assert.equal(r.given('count'), true);
  assert.deepEqual(r.origins.count, { kind: 'flag' });
});

test('a Corefile value is parsed alike, and named by its place when it is wrong', () => {
  const r = resolveOptions(TOY, [corefile('count', '4', 3), corefile('name', 'a', 5), corefile('name', 'b', 6)]);
  assert.deepEqual(r.values, { count: 4, names: ['a', 'b'], loud: false });
  assert.deepEqual(r.origins.count, { kind: 'corefile', file: '/etc/coredns/Corefile', line: 3, directive: 'toy' });
  assert.throws(
    () => resolveOptions(TOY, [corefile('count', '10', 3)]),
    (err: unknown) =>
      err instanceof ConfigError && err.message === '/etc/coredns/Corefile:3: toy: must be an integer from 1 to 9 (got "10")',
  );
  assert.throws(
    () => resolveOptions(TOY, [corefile('loud', 'maybe', 8)]),
    /^ConfigError: \/etc\/coredns\/Corefile:8: toy: takes no value \(got "maybe"\)$/,
  );
  assert.throws(
    () => resolveOptions(TOY, [flag('name', 'a'), corefile('name', 'b', 6)]),
    /^ConfigError: --name: also set at \/etc\/coredns\/Corefile:6: toy: set it in one place$/,
  );
});

test('--help entries wrap under one column; README rows leave an empty default empty', () => {
  const long = { ...TOY.count, flag: 'a-rather-long-flag-name', help: Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ') };
  const lines = helpEntry(long).split('\n');
  assert.ok(lines.length > 1);
  assert.match(lines[0]!, /^ {2}--a-rather-long-flag-name N {2}word0 /);
  for (const line of lines.slice(1)) assert.match(line, /^ {26}\S/);
  assert.ok(lines.every((l) => l.length <= 112));
  assert.match(lines.at(-1)!, /\(default 3\)$/);
  assert.equal(
    renderFlagTable([TOY.names, TOY.loud], []).split('\n').slice(2).join('\n'),
    '| `--name NAME` | | a name |\n| `--loud` | off | shout |',
  );
});

test('deepFreeze freezes nested objects and arrays', () => {
  const v = deepFreeze({ a: [{ b: 1 }], c: { d: [2] } });
  assert.ok(Object.isFrozen(v.a) && Object.isFrozen(v.a[0]) && Object.isFrozen(v.c.d));
});
