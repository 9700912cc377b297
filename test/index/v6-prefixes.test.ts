// The IPv6 nibble-prefix counts behind ip6.arpa's empty non-terminals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { V6Prefixes } from '../../src/index/v6-prefixes.ts';

test('every prefix of 1-31 nibbles above each address, shared prefixes once', () => {
  const p = new V6Prefixes();
  assert.ok(p.add('fd00:10:96::1'));
  assert.ok(p.add('FD00:10:96:0::2'), 'any spelling');
  assert.ok(!p.add('10.96.0.1'), 'not an IPv6 address');
  const full = 'fd000010009600000000000000000001';
  for (let n = 1; n <= 31; n++) assert.ok(p.has(full.slice(0, n)), `prefix of ${n} nibbles`);
  assert.ok(!p.has(full), 'a whole address is no prefix');
  assert.ok(!p.has('fd01'));
  assert.equal(p.size, 31, 'the two addresses share all 31 prefixes');
  p.add('fd00:10:97::1');
  assert.equal(p.size, 31 + 20, 'a sibling adds only the prefixes from where it forks (nibble 12 of 31)');
});

test('a prefix stays while any address below it does, and goes with the last', () => {
  const p = new V6Prefixes();
  p.add('fd00:10:96::1');
  p.add('fd00:10:96::2');
  p.add('fd00:10:97::1');
  p.remove('fd00:10:96::1');
  assert.ok(p.has('fd000010009600000000000000000'), 'fd00:10:96::2 is still below');
  p.remove('fd00:10:96::2');
  assert.ok(!p.has('fd0000100096'));
  assert.ok(p.has('fd0000100097'));
  assert.ok(p.has('fd00'), 'fd00:10:97::1 keeps the shared prefixes');
  assert.equal(p.size, 31);
  p.remove('fd00:10:97::1');
  assert.equal(p.size, 0);
  p.remove('fd00:10:97::1');
  assert.equal(p.size, 0, 'removing an absent address changes nothing');
});
