// V4Map against a plain Map under random inserts, updates and deletes (the backward-shift delete
// is where an open-addressing table goes wrong).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { V4Map } from '../../src/index/v4map.ts';

test('behaves as a Map under random churn, through growth, clustered and signed keys', () => {
  let seed = 12345;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const table = new V4Map<string>();
  const reference = new Map<number, string>();
  // Keys from a few narrow ranges (pod CIDRs collide in the low bits) and both signs.
  const key = () => [0x0af40000, 0x7f000000, -0x3f57ff00][Math.floor(random() * 3)]! + Math.floor(random() * 6000);
  for (let step = 0; step < 60_000; step++) {
    const k = key();
    const r = random();
    if (r < 0.55) {
      table.set(k, `v${step}`);
      reference.set(k, `v${step}`);
    } else {
      assert.equal(table.delete(k), reference.delete(k), `delete ${k}`);
    }
    if (step % 5000 === 0) for (const [rk, rv] of reference) assert.equal(table.get(rk), rv);
    if (step % 997 === 0) assert.equal(table.distinctValues, new Set(reference.values()).size);
  }
  assert.equal(table.size, reference.size);
  for (let k = 0x0af40000 - 10; k < 0x0af40000 + 6010; k++) assert.equal(table.get(k), reference.get(k), String(k));
  assert.deepEqual(new Map(table.entries()), reference);
  for (const k of [...reference.keys()]) assert.ok(table.delete(k));
  assert.equal(table.size, 0);
  assert.equal(table.distinctValues, 0);
  assert.equal(table.get(0x0af40001), undefined);
});

test('a value shared by many keys is held once, and identity decides what is shared', () => {
  const table = new V4Map<string | string[]>();
  for (let k = 0; k < 5000; k++) table.set(k, `ns-${k % 3}`);
  assert.equal(table.distinctValues, 3);
  const shared = ['ns-a', 'ns-b'];
  table.set(1, shared);
  shared.push('ns-c'); // mutated in place, as the index does for host-network IPs
  assert.deepEqual(table.get(1), ['ns-a', 'ns-b', 'ns-c']);
  table.set(2, ['ns-a', 'ns-b']);
  assert.equal(table.distinctValues, 5);
  table.set(1, 'ns-0');
  table.delete(2);
  assert.equal(table.distinctValues, 3);
  for (let k = 0; k < 5000; k++) assert.equal(table.get(k), k === 2 ? undefined : `ns-${k === 1 ? 0 : k % 3}`);
});
