// The whole /metrics text, from a fixed set of counters, against a fixture taken before the metrics
// were split by owner: every family's name, type and help, every sample's labels and value (for
// one process and for the --workers sums). Process/Node.js defaults vary run to run, so only their
// HELP and TYPE lines are compared. Family order is not compared: Prometheus does not read it.
// Rewrite the fixture (only for an intended change): CLUSTER_DNS_WRITE_FIXTURE=1 node --test <this file>
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { ClusterIndex } from '../../src/index/index.ts';
import { Metrics, serverLabel, type WatchStatus } from '../../src/observe/metrics.ts';
import { CounterTotals, snapshotCounters, type CountedParts } from '../../src/replica/totals.ts';
import { QueryCounters } from '../../src/server/counters.ts';
import { ServerStats } from '../../src/server/processor.ts';
import { CacheStats, ForwardStats } from '../../src/upstream/stats.ts';

const FIXTURE = new URL('../fixtures/metrics-scrape.txt', import.meta.url);
const OPTIONS = { servers: 2, zones: ['cluster.local', 'example.org'], plugins: ['autopath', 'kubernetes', 'cache', 'forward'] };
const NOW = 1_700_000_000_000;

/** One process's counters, every field and slot kind touched, `k` scaling the values. */
function counted(k: number): CountedParts {
  const stats = new ServerStats();
  let n = 1;
  for (const key of Object.keys(stats) as (keyof ServerStats)[]) {
    if (typeof stats[key] === 'number') (stats as unknown as Record<string, number>)[key] = k * n++;
  }
  const counters = new QueryCounters(OPTIONS);
  // server, zone, proto, family, qtype, DO, request size, rcode, plugin, response size
  const queries: [number, number, number, number, number, boolean, number, number, number, number][] = [
    [0, 2, 0, 0, 1, false, 40, 0, 2, 80],
    [0, 2, 1, 1, 33, true, 60, 3, 2, 120],
    [1, 3, 0, 0, 28, false, 45, 2, 4, 45],
    [1, 1, 0, 1, 13, true, 600, 5, 0, -1],
    [0, 0, 1, 0, 65280, false, 12, 1, 0, 12],
    [0, 1, 0, 0, 65, false, 5000, 30, 3, 70_000],
    [1, 2, 1, 0, 252, true, 30, 16, 1, 511],
  ];
  for (let r = 0; r < k; r++) {
    for (const [i, q] of queries.entries()) {
      counters.count(...q);
      counters.observeDuration(q[0], q[1], 0.0001 * 3 ** i);
    }
  }
  const cache = new CacheStats();
  Object.assign(cache, { misses: 3 * k, requests: 9 * k, prefetches: k, servedStale: 2 * k, servfailHits: 4 * k, servfailEntries: 5 * k });
  Object.assign(cache.entries, { success: 7 * k, denial: 2 * k });
  Object.assign(cache.hits, { success: 11 * k, denial: 6 * k });
  Object.assign(cache.evictions, { success: k, denial: 0 });
  const forward = new ForwardStats();
  Object.assign(forward, {
    maxConcurrentRejects: k,
    clientRejects: 2 * k,
    shed: 3 * k,
    spoofedReplies: 4 * k,
    healthcheckBroken: 5 * k,
    scrubbedRecords: 6 * k,
  });
  for (const [to, rcode, seconds] of [
    ['10.0.0.53:53', 'NOERROR', 0.0001],
    ['10.0.0.53:53', 'NOERROR', 0.003],
    ['10.0.0.53:53', 'SERVFAIL', 20],
    ['[fd00::53]:53', 'NXDOMAIN', 0.5],
  ] as const) {
    for (let r = 0; r < k; r++) forward.observe(to, rcode, seconds);
  }
  Object.assign(forward.upstream('10.0.0.53:53'), { requests: 3 * k, healthcheckFailures: 2 * k, downs: k });
  Object.assign(forward.upstream('[fd00::53]:53'), { requests: k });
  return { stats, counters, cache, forward };
}

function metricsOf(parts: CountedParts): Metrics {
  const index = new ClusterIndex();
  index.upsert('Namespace', { name: 'shop' } as never);
  index.markSynced('Namespace');
  const watches: WatchStatus[] = [
    { kind: 'Service', synced: true, lastEventAt: NOW - 5_000, relists: 2, restarts: 3, events: { ADDED: 10, MODIFIED: 4, BOOKMARK: 1 } },
    { kind: 'Pod', synced: false, lastEventAt: null, relists: 0, restarts: 1, events: { ERROR: 2 } },
  ];
  const metrics = new Metrics({
    stats: parts.stats,
    counters: parts.counters as QueryCounters,
    index,
    version: '1.2.3',
    revision: 'abc',
    servers: [serverLabel('0.0.0.0', 53), serverLabel('::1', 5353)],
    forward: parts.forward,
    cache: parts.cache,
    watches: () => watches,
    notReadyReason: () => 'lameduck',
    udpKernel: () => ({ drops: 17, queuedBytes: 2048 }),
    servingSnapshot: () => true,
    now: () => NOW,
  });
  metrics.setServers([serverLabel('0.0.0.0', 53), serverLabel('127.0.0.1', 5353)]);
  metrics.process.setLameduck(true);
  metrics.process.countSuppressedLog(3);
  metrics.process.countSuppressedLog();
  metrics.kubernetes.observeProgramming('cluster_ip', NOW - 30, NOW);
  metrics.kubernetes.observeProgramming('headless_with_selector', NOW - 2_500, NOW);
  metrics.kubernetes.observeProgramming('headless_with_selector', NOW + 10, NOW);
  metrics.kubernetes.observeWatchToAnswer(0.004);
  metrics.kubernetes.observeWatchToAnswer(-1);
  metrics.process.observeHealth(0.0003, true);
  metrics.process.observeHealth(0.2, false);
  return metrics;
}

/** The families sorted by name; defaults reduced to HELP and TYPE, Node's version masked. */
function normalise(text: string): string {
  const families = new Map<string, string[]>();
  const head = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+)/.exec(line);
    const name = meta ? (meta[2] as string) : (/^[a-zA-Z_:][\w:]*/.exec(line)?.[0] ?? line);
    const family = meta
      ? name
      : ([...head.keys()].filter((f) => name === f || name.startsWith(`${f}_`)).sort((a, b) => b.length - a.length)[0] ?? name);
    if (meta) head.set(name, [...(head.get(name) ?? []), line]);
    else if (!/^(process|nodejs)_/.test(family))
      families.set(family, [...(families.get(family) ?? []), line.replace(`goversion="${process.version}"`, 'goversion="<node>"')]);
  }
  return [...head.keys()]
    .sort()
    .map((f) => [...(head.get(f) ?? []), ...(families.get(f) ?? []).sort()].join('\n'))
    .join('\n');
}

async function scrapes(): Promise<string> {
  const one = normalise(await metricsOf(counted(1)).text());
  const own = counted(1);
  const workers = [counted(2), counted(3)].map((p) => JSON.parse(JSON.stringify(snapshotCounters(p))));
  const totals = new CounterTotals(() => own, OPTIONS);
  totals.refresh(workers);
  const summed = normalise(await metricsOf(totals).text());
  return `## one process\n${one}\n## --workers: own + 2 workers\n${summed}\n`;
}

test('the /metrics families (names, types, help, labels, values) are those of the fixture', async () => {
  const text = await scrapes();
  if (process.env.CLUSTER_DNS_WRITE_FIXTURE === '1') writeFileSync(FIXTURE, text);
  const expected = readFileSync(FIXTURE, 'utf8');
  const [got, want] = [text.split('\n'), expected.split('\n')];
  const first = got.findIndex((line, i) => line !== want[i]);
  assert.equal(first, -1, `first difference at line ${first + 1}:\n  got:  ${got[first]}\n  want: ${want[first]}`);
  assert.equal(text, expected);
});
