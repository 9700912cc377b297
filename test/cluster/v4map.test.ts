// V4Map against a plain Map under random inserts, updates and deletes (the backward-shift delete
// is where an open-addressing table goes wrong).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { V4Map } from '../../src/cluster/v4map.ts';

test('behaves as a Map under random churn, through growth, clustered and signed keys', () => {
  let seed = 12345;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
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
  }
  assert.equal(table.size, reference.size);
  for (let k = 0x0af40000 - 10; k < 0x0af40000 + 6010; k++) assert.equal(table.get(k), reference.get(k), String(k));
  assert.deepEqual(new Map(table.entries()), reference);
  for (const k of [...reference.keys()]) assert.ok(table.delete(k));
  assert.equal(table.size, 0);
  assert.equal(table.get(0x0af40001), undefined);
});
