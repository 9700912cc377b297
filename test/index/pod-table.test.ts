// PlainPodTable against a plain Map under random churn: int32 and string values, growth, deletes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlainPodTable } from '../../src/index/pod-table.ts';

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
  assert.deepEqual(new Set([...table].map(([k]) => k)), new Set(reference.keys()));
  for (const k of [...reference.keys()]) assert.ok(table.delete(k));
  assert.equal(table.size, 0);
  assert.equal(table.get('ns-1/pod-1'), undefined);
});

test('keys of any length and script round-trip; the arena is reused under churn', () => {
  const table = new PlainPodTable();
  const long = `ns/${'p'.repeat(70_000)}`; // past the 2-byte length: kept beside the arena
  const odd = ['ns/pöd-ü', 'ns/日本', 'ns/a b', 'ns/'];
  table.set(long, 167_772_161);
  odd.forEach((k, i) => table.set(k, i));
  assert.equal(table.get(long), 167_772_161);
  odd.forEach((k, i) => assert.equal(table.get(k), i, k));
  assert.equal(table.get('ns/pod-u'), undefined);
  assert.deepEqual(new Set([...table].map(([k]) => k)), new Set([long, ...odd]));
  // Many generations of the same 1,000 pods: the live keys stay readable through compactions.
  for (let generation = 0; generation < 50; generation++) {
    for (let p = 0; p < 1000; p++) table.set(`gen/pod-${generation}-${p}`, p);
    for (let p = 0; p < 1000; p++) if (generation > 0) assert.ok(table.delete(`gen/pod-${generation - 1}-${p}`));
  }
  // ~21 bytes a key, ~1,000 live at a time (2,000 just before a generation's deletes).
  assert.ok(table.arenaBytes <= 128 * 1024, `arena ${table.arenaBytes} bytes`);
  for (let p = 0; p < 1000; p++) assert.equal(table.get(`gen/pod-49-${p}`), p);
  assert.equal(table.size, 1000 + 1 + odd.length);
  assert.ok(table.delete(long));
  assert.equal(table.get(long), undefined);
});

test('marks follow their entries through deletes, growth and rewrites; unmarked keys are exactly the rest', () => {
  let seed = 4242;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const table = new PlainPodTable();
  const values = new Map<string, number | string>();
  // IPv6 values go to the table's side Map: its marks are kept apart.
  const value = (i: number): number | string => (i % 7 === 0 ? `fd00::${i}` : i);
  for (let i = 0; i < 3000; i++) {
    table.set(`ns-${i % 13}/pod-${i}`, value(i));
    values.set(`ns-${i % 13}/pod-${i}`, value(i));
  }
  for (let round = 0; round < 3; round++) {
    table.clearMarks();
    const marked = new Set<string>();
    const keys = [...values.keys()];
    for (let step = 0; step < 8000; step++) {
      const k = keys[Math.floor(random() * keys.length)] as string;
      const r = random();
      if (r < 0.4) {
        table.mark(k);
        if (values.has(k)) marked.add(k);
      } else if (r < 0.45) {
        // Deletes shift later entries of a run back: their marks must move with them.
        table.delete(k);
        values.delete(k);
        marked.delete(k);
      } else if (r < 0.55) {
        // A rewrite is a new entry, unmarked until marked again.
        const v = value(Math.floor(random() * 1e6));
        table.set(k, v);
        values.set(k, v);
        marked.delete(k);
      } else if (r < 0.75) {
        // New keys make the table grow (past 3,072 and 6,144 entries): marks survive the resize.
        const fresh = `grow-${round}/pod-${step}`;
        table.set(fresh, step);
        values.set(fresh, step);
        keys.push(fresh);
        if (random() < 0.5) {
          table.mark(fresh);
          marked.add(fresh);
        }
      } else {
        table.mark(`absent/pod-${step}`); // marking a key that is not there changes nothing
      }
    }
    const unmarked = [...values.keys()].filter((k) => !marked.has(k));
    assert.deepEqual(new Set(table.unmarkedKeys()), new Set(unmarked), `round ${round}`);
    assert.equal(table.unmarkedKeys().length, unmarked.length);
  }
  table.clearMarks();
  assert.equal(table.unmarkedKeys().length, values.size);
});

test('a copy is the table as it was when taken, whether changes come before, between or after its steps', () => {
  const table = new PlainPodTable();
  for (let i = 0; i < 100_000; i++) table.set(`ns-${i % 7}/p-${i}`, i);
  table.set('ns/v6', 'fd00::1');
  const before = [...table].sort();
  for (const changeAfterSteps of [0, 1, 3, Number.POSITIVE_INFINITY]) {
    const copy = table.copy();
    let steps = 0;
    while (steps < changeAfterSteps && !copy.step()) steps++;
    // Removals move entries (backward shift), additions grow the table (a resize) and its arena.
    for (let i = 0; i < 60_000; i += 2) table.delete(`ns-${i % 7}/p-${i}`);
    for (let i = 0; i < 100_000; i++) table.set(`other/q-${i}`, i);
    table.set('ns/v6', 'fd00::2');
    assert.deepEqual([...copy].sort(), before, `changed after ${steps} steps`);
    // Undo, for the next round.
    for (let i = 0; i < 100_000; i++) table.delete(`other/q-${i}`);
    for (let i = 0; i < 60_000; i += 2) table.set(`ns-${i % 7}/p-${i}`, i);
    table.set('ns/v6', 'fd00::1');
  }
});
