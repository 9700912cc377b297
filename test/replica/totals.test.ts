// --workers metrics: the sums over processes are what one process would have counted, through the
// JSON that crosses the IPC channel, and refreshing twice never double-counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CounterTotals, snapshotCounters, type CountedParts } from '../../src/replica/totals.ts';
import { QueryCounters } from '../../src/server/counters.ts';
import { ServerStats } from '../../src/server/processor.ts';
import { CacheStats, ForwardStats } from '../../src/upstream/stats.ts';

const OPTIONS = { servers: 1, zones: ['cluster.local'], plugins: ['kubernetes', 'forward'] };

function process(queries: number, upstreamReplies: number): CountedParts {
  const stats = new ServerStats();
  const counters = new QueryCounters(OPTIONS);
  const cache = new CacheStats();
  const forward = new ForwardStats();
  for (let i = 0; i < queries; i++) {
    stats.received++;
    stats.udp++;
    stats.noerror++;
    counters.count(0, 2, 0, 0, 1, false, 40, 0, 1, 80);
    counters.observeDuration(0, 2, 0.0001);
  }
  cache.hits.success = queries;
  cache.entries.success = 3;
  for (let i = 0; i < upstreamReplies; i++) forward.observe('127.0.0.1:53', 'NOERROR', 0.002);
  forward.upstream('127.0.0.1:53').requests = upstreamReplies;
  forward.upstream('127.0.0.1:53').downs = upstreamReplies;
  forward.healthcheckBroken = queries;
  forward.clientRejects = queries * 2;
  forward.shed = queries * 3;
  return { stats, counters, cache, forward };
}

test('totals: own counters plus workers, as JSON snapshots, refreshed without double counting', () => {
  const own = process(5, 1);
  const workers = [process(7, 2), process(11, 0)].map((p) => JSON.parse(JSON.stringify(snapshotCounters(p))));
  const totals = new CounterTotals(() => own, OPTIONS);
  totals.refresh(workers);
  totals.refresh(workers);

  assert.equal(totals.stats.received, 23);
  assert.equal(totals.stats.noerror, 23);
  assert.equal(
    totals.counters.requests.reduce((a, b) => a + b, 0),
    23,
  );
  assert.equal(
    totals.counters.responses.reduce((a, b) => a + b, 0),
    23,
  );
  assert.equal(
    totals.counters.duration.totals.reduce((a, b) => a + b, 0),
    23,
  );
  assert.equal(
    totals.counters.responseSize.totals.reduce((a, b) => a + b, 0),
    23,
  );
  assert.equal(totals.cache.hits.success, 23);
  assert.equal(totals.cache.entries.success, 9);
  const upstream = totals.forward.upstreams.get('127.0.0.1:53')!;
  assert.equal(upstream.requests, 3);
  assert.equal(upstream.responses.get('NOERROR'), 3);
  assert.equal(upstream.durations.get('NOERROR')!.count, 3);
  assert.equal(upstream.downs, 3);
  assert.equal(totals.forward.healthcheckBroken, 23, 'per query, in every process');
  assert.equal(totals.forward.clientRejects, 46);
  assert.equal(totals.forward.shed, 69);

  // The own process keeps counting between scrapes; the next refresh sees it.
  own.stats.received += 10;
  totals.refresh(workers);
  assert.equal(totals.stats.received, 33);
});

test('a snapshot brings in counts kept elsewhere first (the UDP addon holds its send errors)', () => {
  const parts = process(1, 0);
  let held = 2;
  parts.stats.countedElsewhere(() => {
    parts.stats.udpSendErrors += held;
    held = 0;
  });
  assert.equal(snapshotCounters(parts).stats.udpSendErrors, 2);
  assert.equal(snapshotCounters(parts).stats.udpSendErrors, 2);
});
