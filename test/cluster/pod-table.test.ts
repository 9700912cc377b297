// PlainPodTable against a plain Map under random churn: int32 and string values, growth, deletes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlainPodTable } from '../../src/cluster/pod-table.ts';

test('behaves as a Map of pod keys under random churn, through growth', () => {
  let seed = 777;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const table = new PlainPodTable();
  const reference = new Map<string, number | string>();
  const key = () => `ns-${Math.floor(random() * 30)}/pod-${Math.floor(random() * 400)}`;
  for (let step = 0; step < 60_000; step++) {
    const k = key();
    const r = random();
    if (r < 0.5) {
      const value = r < 0.45 ? (Math.floor(random() * 2 ** 32) | 0) : `fd00::${step} 10.0.0.${step % 256}`;
      table.set(k, value);
      reference.set(k, value);
    } else {
      assert.equal(table.delete(k), reference.delete(k), `delete ${k}`);
    }
    assert.equal(table.get(k), reference.get(k), k);
    if (step % 5000 === 0) for (const [rk, rv] of reference) assert.equal(table.get(rk), rv, rk);
  }
  assert.equal(table.size, reference.size);
  assert.deepEqual(new Map(table), reference);
  assert.deepEqual(new Set(table.keys()), new Set(reference.keys()));
  for (const k of [...reference.keys()]) assert.ok(table.delete(k));
  assert.equal(table.size, 0);
  assert.equal(table.get('ns-1/pod-1'), undefined);
});
