// PlainPodTable against a plain Map under random churn: int32 and string values, growth, deletes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlainPodTable } from '../../src/index/pod-table.ts';

test('behaves as a Map of pod keys under random churn, through growth', () => {
  let seed = 777;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const table = new PlainPodTable();
  const reference = new Map<string, number | string>();
  const key = () => `ns-${Math.floor(random() * 30)}/pod-${Math.floor(random() * 400)}`;
  for (let step = 0; step < 60_000; step++) {
    const k = key();
    const r = random();
    if (r < 0.5) {
      const value = r < 0.45 ? Math.floor(random() * 2 ** 32) | 0 : `fd00::${step} 10.0.0.${step % 256}`;
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
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
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

/** Equal as sets of lines (sorts `actual`). deepEqual of arrays this long is slow, and far slower to explain a difference: the first one is enough. */
function same(actual: string[], expected: readonly string[], message: string): void {
  actual.sort();
  const i = expected.findIndex((e, k) => actual[k] !== e);
  if (i >= 0 || actual.length !== expected.length)
    assert.fail(`${message}: ${actual.length} entries, ${expected.length} expected; #${i}: ${actual[i]} instead of ${expected[i]}`);
}

/** A copy's entries read slot by slot, as the snapshot writer reads them, from slot `from` on. */
function slotEntries(copy: ReturnType<PlainPodTable['copy']>, from: number, to = copy.slots): string[] {
  const decoder = new TextDecoder();
  const entries: string[] = [];
  for (let i = from; i < to; i++) {
    const at = copy.at(i);
    if (at === 0) continue;
    const length = (copy.arena[at - 1] as number) | ((copy.arena[at] as number) << 8);
    entries.push(`${decoder.decode(copy.arena.subarray(at + 1, at + 1 + length))} ${copy.v4(i)}`);
  }
  return entries;
}

test('a copy is the table as it was when taken, through every change that moves slots (copy-on-write)', () => {
  const table = new PlainPodTable();
  for (let i = 0; i < 20_000; i++) table.set(`ns-${i % 7}/p-${i}`, i);
  table.set('ns/v6', 'fd00::1');
  const before = [...table].map(String).sort();
  const beforeSlots = slotEntries(table.copy(), 0).sort();
  const changes: [string, () => void, () => void][] = [
    // Backward shifts move entries into the holes of deletes; new values overwrite slots.
    [
      'deletes and new values',
      () => {
        for (let i = 0; i < 12_000; i += 2) table.delete(`ns-${i % 7}/p-${i}`);
        for (let i = 1; i < 12_000; i += 2) table.set(`ns-${i % 7}/p-${i}`, -i);
        table.set('ns/v6', 'fd00::2');
      },
      () => {
        for (let i = 0; i < 12_000; i++) table.set(`ns-${i % 7}/p-${i}`, i);
        table.set('ns/v6', 'fd00::1');
      },
    ],
    // Growth makes new arrays and a new arena; the copy keeps reading the old ones.
    [
      'growth',
      () => {
        for (let i = 0; i < 20_000; i++) table.set(`other/q-${i}`, i);
      },
      () => {
        for (let i = 0; i < 20_000; i++) table.delete(`other/q-${i}`);
      },
    ],
    // One pod replaced over and over touches a slot or two, but fills the arena with dead keys: a
    // compaction then rewrites every slot's offset in place.
    [
      'compaction',
      () => {
        const arena = table.arenaBytes;
        for (let i = 0; i < 10_000; i++) table.set(`churn/${'x'.repeat(250)}`, i);
        assert.equal(table.arenaBytes, arena, 'compacted, not grown');
      },
      () => {
        table.delete(`churn/${'x'.repeat(250)}`);
      },
    ],
  ];
  for (const [what, change, undo] of changes) {
    for (const readFirst of [0, 0.5]) {
      const copy = table.copy();
      // Part of it read before the change (the writer is in the middle), the rest after.
      const cut = Math.floor(copy.slots * readFirst);
      const early = slotEntries(copy, 0, cut);
      change();
      same([...early, ...slotEntries(copy, cut)], beforeSlots, `${what}, changed after ${readFirst * 100}% was read`);
      same([...copy].map(String), before, `${what}: its entries`);
      copy.release();
      undo();
      same([...table].map(String), before, `${what}: undone`);
    }
  }
});

test('copies taken at different moments each keep their moment; a released one stops costing', () => {
  const table = new PlainPodTable();
  for (let i = 0; i < 20_000; i++) table.set(`ns/p-${i}`, i);
  const first = table.copy();
  const atFirst = slotEntries(first, 0).sort();
  for (let i = 0; i < 10_000; i++) table.delete(`ns/p-${i}`);
  const second = table.copy();
  const atSecond = slotEntries(second, 0).sort();
  assert.equal(atSecond.length, 10_000);
  for (let i = 10_000; i < 20_000; i++) table.set(`ns/p-${i}`, -1);
  for (let i = 0; i < 5_000; i++) table.set(`ns/new-${i}`, i);
  same(slotEntries(first, 0), atFirst, 'the first copy');
  same(slotEntries(second, 0), atSecond, 'the second copy');
  first.release();
  second.release();
  second.release(); // a second release is harmless
  // Once released, a copy is no longer kept up: it may show later changes, and the table works on.
  for (let i = 0; i < 5_000; i++) table.delete(`ns/new-${i}`);
  assert.equal(table.size, 10_000);
  const values = [...table.copy()].map(([, v]) => v);
  assert.equal(values.length, 10_000);
  assert.ok(
    values.every((v) => v === -1),
    'a copy taken now is the table now',
  );
});
