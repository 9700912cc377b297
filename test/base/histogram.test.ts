// The one histogram: CoreDNS's bucket layouts, per-series counts, and the --workers JSON sums.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exponentialBuckets, Histogram, TIME_BUCKETS } from '../../src/base/histogram.ts';

test('TIME_BUCKETS is CoreDNS plugin.TimeBuckets: 0.25 ms doubling 16 times to 8.192 s', () => {
  assert.equal(TIME_BUCKETS.length, 16);
  assert.equal(TIME_BUCKETS[0], 0.00025);
  assert.equal(TIME_BUCKETS[1], 0.0005);
  assert.equal(TIME_BUCKETS[15], 8.192);
  assert.deepEqual(exponentialBuckets(0.00025, 10, 5), [0.00025, 0.0025, 0.025, 0.25, 2.5]);
});

test('observe counts a value in the first bucket it does not exceed, per series; +Inf last', () => {
  const h = new Histogram([1, 2, 4], 2);
  for (const v of [0.5, 1, 1.5, 3, 9]) h.observe(v);
  h.observe(2, 1);
  assert.deepEqual(h.cumulative(), [2, 3, 4, 5], 'a value equal to a bound is in that bucket (le)');
  assert.deepEqual(h.cumulative(1), [0, 1, 1, 1]);
  assert.equal(h.sums[0], 15);
  assert.equal(h.totals[0], 5);
  assert.equal(h.count, 6, 'count and sum span every series');
  assert.equal(h.sum, 17);
});

test('the JSON of one process adds into another slot by slot, and clear empties it', () => {
  const a = new Histogram(TIME_BUCKETS);
  const b = new Histogram(TIME_BUCKETS);
  a.observe(0.001);
  b.observe(0.001);
  b.observe(20);
  a.add(JSON.parse(JSON.stringify(b)));
  assert.equal(a.count, 3);
  assert.ok(Math.abs(a.sum - 20.002) < 1e-9, `sum ${a.sum}`);
  assert.equal(a.cumulative().at(-1), 3);
  assert.equal(a.cumulative().at(-2), 2, 'the value above the top bound is only in +Inf');
  a.clear();
  assert.equal(a.count, 0);
  assert.deepEqual(new Set(a.cumulative()), new Set([0]));
});
