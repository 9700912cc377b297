// The IPv4 network counts behind the reverse zone's empty non-terminals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { V4Prefixes } from '../../src/index/v4-prefixes.ts';

const ip = (a: number, b = 0, c = 0, d = 0) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

test('the /8, /16 and /24 above each address, counted per address', () => {
  const p = new V4Prefixes();
  p.add(ip(10, 96, 1, 1));
  p.add(ip(10, 96, 1, 2) | 0); // signed, as the index keeps them
  p.add(ip(192, 168, 0, 1));
  assert.ok(p.has(ip(10), 1));
  assert.ok(p.has(ip(10, 96), 2));
  assert.ok(p.has(ip(10, 96, 1), 3));
  assert.ok(p.has(ip(192, 168, 0) | 0, 3));
  assert.ok(!p.has(ip(10, 97), 2));
  assert.ok(!p.has(ip(10, 96, 2), 3));
  assert.ok(!p.has(ip(96), 1), 'octets count from the left');
  assert.equal(p.size, 6, 'shared networks once');
  p.remove(ip(10, 96, 1, 1));
  assert.ok(p.has(ip(10, 96, 1), 3), '10.96.1.2 is still there');
  p.remove(ip(10, 96, 1, 2));
  assert.ok(!p.has(ip(10, 96, 1), 3));
  assert.ok(!p.has(ip(10), 1));
  assert.ok(p.has(ip(192), 1));
  assert.equal(p.size, 3);
});
