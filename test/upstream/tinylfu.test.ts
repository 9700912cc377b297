// The store behind the response caches: the frequency sketch and W-TinyLFU, each with what it
// promises (who stays, who goes, what counts as an eviction).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AccessSketch, TinyLfuCache } from '../../src/upstream/tinylfu.ts';

function rig(max: number, seed = 11) {
  const log: string[] = [];
  const sketch = new AccessSketch(10 * max, seed);
  const cache = new TinyLfuCache<string>({
    max,
    sketch,
    onRemove: (value, key, evicted) => log.push(`${evicted ? 'evict' : 'drop'} ${key}=${value}`),
  });
  /** A lookup counted in the sketch (ResponseCache counts hits once a second; here every one), filled on a miss. */
  const ask = (key: string, value = 'v', times = 1) => {
    for (let i = 0; i < times; i++) {
      sketch.record(key);
      if (cache.get(key) === undefined) cache.set(key, value);
    }
  };
  return { log, sketch, cache, ask };
}

test('AccessSketch: first sightings stay in the doorkeeper, counts grow to 15 (+1), and age by half', () => {
  const s = new AccessSketch(1024, 7);
  const hot = s.hash('hot');
  assert.equal(s.frequency(hot), 0);
  s.record('hot');
  assert.equal(s.frequency(hot), 1, 'the doorkeeper only');
  for (let i = 0; i < 9; i++) s.record('hot');
  assert.equal(s.frequency(hot), 10);
  for (let i = 0; i < 30; i++) s.recordHash(hot);
  assert.equal(s.frequency(hot), 16, '4-bit counters saturate');
  // Once a sample (about 10 records an entry: here the cursor halves one word of 4 counters
  // every 3 records, 4,096 words, so one pass is 12,288 records) every count is halved once and
  // the doorkeeper cleared. 40 records so far.
  for (let i = 0; i < 12_288 - 40; i++) s.record(`once-${i}`);
  const aged = s.frequency(hot);
  assert.ok(aged >= 7 && aged <= 9, `halved from 15, plus collisions at most: ${aged}`);
  assert.ok(s.frequency(s.hash('never')) <= 2, 'a name never asked is (nearly) never frequent');
  assert.notEqual(new AccessSketch(64, 1).hash('x'), new AccessSketch(64, 2).hash('x'), 'seeded');
});

test('TinyLfuCache: names asked once do not replace names asked often', () => {
  const { log, cache, ask } = rig(20); // window 2, main 18
  for (let i = 0; i < 20; i++) ask(`hot${i}`, 'h', 6);
  for (let i = 0; i < 500; i++) ask(`once${i}`, 'o');
  assert.equal(cache.size, 20);
  const hotLeft = Array.from({ length: 20 }, (_, i) => cache.peek(`hot${i}`)).filter((v) => v !== undefined).length;
  assert.equal(hotLeft, 18, 'all of the main region; the 2 in the window made way');
  assert.ok(log.filter((l) => l.startsWith('evict once')).length >= 480, 'the one-hit names were the ones turned away');
});

test("TinyLfuCache: a second use protects an entry; frequent newcomers push out probation's coldest, not it", () => {
  const { log, cache, ask } = rig(10); // window 1, main 9 (protected 7)
  for (let i = 0; i < 10; i++) ask(`k${i}`);
  cache.get('k0'); // k0..k8 are in the main region's probation; now k0 is protected
  for (let i = 0; i < 12; i++) ask(`new${i}`, 'n', 4);
  assert.equal(cache.peek('k0'), 'v');
  for (let i = 1; i < 9; i++) assert.equal(cache.peek(`k${i}`), undefined, `k${i} made way`);
  assert.ok(log.includes('evict k1=v'));
  assert.equal(cache.size, 10);
});

test('TinyLfuCache: a full protected segment steps its coldest back to probation, which is not a removal', () => {
  const { log, cache, ask } = rig(10);
  for (let i = 0; i < 10; i++) ask(`k${i}`);
  for (let i = 0; i < 9; i++) cache.get(`k${i}`); // 7 fit in protected: k0 and k1 step back
  assert.deepEqual(log, []);
  assert.equal(cache.size, 10);
  ask('n0', 'n', 5); // k9, asked once, leaves the window and loses to k0 (asked twice)
  ask('n1', 'n', 5); // n0 leaves the window and beats k0, probation's coldest
  assert.deepEqual(log, ['evict k9=v', 'evict k0=v']);
});

test('TinyLfuCache: replacing is not an eviction and keeps the segment; delete is not either; max 1 is a window alone', () => {
  const { log, cache, ask } = rig(10);
  ask('a', '1');
  ask('b', '1'); // a into probation
  cache.get('a'); // protected
  cache.set('a', '2');
  cache.set('b', '2');
  assert.deepEqual(log, ['drop a=1', 'drop b=1']);
  assert.equal(cache.delete('b'), true);
  assert.equal(cache.delete('b'), false);
  assert.deepEqual(log, ['drop a=1', 'drop b=1', 'drop b=2']);
  for (let i = 0; i < 30; i++) ask(`n${i}`, 'x', 3);
  assert.equal(cache.peek('a'), '2', 'still protected after its replacement');

  const tiny = rig(1);
  tiny.ask('a', '1');
  tiny.ask('b', '2');
  assert.deepEqual([tiny.cache.peek('a'), tiny.cache.peek('b'), tiny.cache.size], [undefined, '2', 1]);
  assert.deepEqual(tiny.log, ['evict a=1']);
});
