// --workers: every process counts its own queries (typed arrays and plain numbers, as ever); at
// scrape time the watching process asks each worker for its counters over IPC and /metrics
// reports the sums, so coredns_dns_*, coredns_cache_*, coredns_forward_* / coredns_proxy_* and the
// per-query cluster_dns_* counters cover every process, as one CoreDNS pod's would. Nothing of
// this runs per query: a snapshot is taken only when asked.
import type { HistogramJson } from '../base/histogram.ts';
import { QueryCounters, type QueryCountersJson, type QueryCountersOptions } from '../server/counters.ts';
import { ServerStats } from '../server/processor.ts';
import { CacheStats, ForwardStats } from '../upstream/stats.ts';

interface UpstreamPlain {
  readonly to: string;
  readonly requests: number;
  readonly responses: [string, number][];
  readonly durations: [string, HistogramJson][];
  readonly healthcheckFailures: number;
  readonly downs: number;
}

/** One process's counters, as plain JSON (what crosses the IPC channel). */
export interface CountersSnapshot {
  readonly stats: Record<string, number>;
  readonly counters: QueryCountersJson | null;
  readonly cache: {
    readonly entries: { success: number; denial: number };
    readonly hits: { success: number; denial: number };
    readonly evictions: { success: number; denial: number };
    readonly misses: number;
    readonly requests: number;
    readonly prefetches: number;
    readonly servedStale: number;
  } | null;
  readonly forward: {
    readonly maxConcurrentRejects: number;
    readonly clientRejects: number;
    readonly shed: number;
    readonly spoofedReplies: number;
    readonly healthcheckBroken: number;
    readonly upstreams: UpstreamPlain[];
  } | null;
}

/** What a process counts with; each part may be missing (metrics off, no forwarding). */
export interface CountedParts {
  readonly stats: ServerStats;
  readonly counters: QueryCounters | null;
  readonly cache: CacheStats | null;
  readonly forward: ForwardStats | null;
}

export function snapshotCounters(parts: CountedParts): CountersSnapshot {
  parts.stats.settle();
  const stats: Record<string, number> = {};
  for (const [key, value] of Object.entries(parts.stats)) if (typeof value === 'number') stats[key] = value;
  const c = parts.counters;
  const cache = parts.cache;
  const forward = parts.forward;
  return {
    stats,
    counters: c === null ? null : c.toJSON(),
    cache: cache && {
      entries: { ...cache.entries },
      hits: { ...cache.hits },
      evictions: { ...cache.evictions },
      misses: cache.misses,
      requests: cache.requests,
      prefetches: cache.prefetches,
      servedStale: cache.servedStale,
    },
    forward: forward && {
      maxConcurrentRejects: forward.maxConcurrentRejects,
      clientRejects: forward.clientRejects,
      shed: forward.shed,
      spoofedReplies: forward.spoofedReplies,
      healthcheckBroken: forward.healthcheckBroken,
      upstreams: [...forward.upstreams.values()].map((u) => ({
        to: u.to,
        requests: u.requests,
        responses: [...u.responses],
        durations: [...u.durations].map(([rcode, h]) => [rcode, h.toJSON()]),
        healthcheckFailures: u.healthcheckFailures,
        downs: u.downs,
      })),
    },
  };
}

/**
 * The sums over processes, in the same classes the metrics read, so `Metrics` reports them
 * unchanged: `refresh` rebuilds them from the own parts plus the workers' snapshots.
 */
export class CounterTotals {
  readonly stats = new ServerStats();
  readonly counters: QueryCounters;
  readonly cache = new CacheStats();
  readonly forward = new ForwardStats();
  readonly #own: () => CountedParts;

  constructor(own: () => CountedParts, options: QueryCountersOptions) {
    this.#own = own;
    this.counters = new QueryCounters(options);
  }

  refresh(workers: readonly CountersSnapshot[]): void {
    this.counters.clear();
    const stats = this.stats as unknown as Record<string, number>;
    for (const key of Object.keys(stats)) if (typeof stats[key] === 'number') stats[key] = 0;
    this.cache.entries.success = this.cache.entries.denial = 0;
    this.cache.hits.success = this.cache.hits.denial = 0;
    this.cache.evictions.success = this.cache.evictions.denial = 0;
    this.cache.misses = this.cache.requests = this.cache.prefetches = this.cache.servedStale = 0;
    this.forward.maxConcurrentRejects = this.forward.clientRejects = this.forward.shed = 0;
    this.forward.spoofedReplies = this.forward.healthcheckBroken = 0;
    this.forward.upstreams.clear();
    for (const snapshot of [snapshotCounters(this.#own()), ...workers]) this.#add(snapshot);
  }

  #add(s: CountersSnapshot): void {
    const stats = this.stats as unknown as Record<string, number>;
    for (const [key, value] of Object.entries(s.stats)) if (typeof stats[key] === 'number') stats[key] += value;
    if (s.counters) this.counters.add(s.counters);
    if (s.cache) {
      const c = this.cache;
      for (const kind of ['success', 'denial'] as const) {
        c.entries[kind] += s.cache.entries[kind];
        c.hits[kind] += s.cache.hits[kind];
        c.evictions[kind] += s.cache.evictions[kind];
      }
      c.misses += s.cache.misses;
      c.requests += s.cache.requests;
      c.prefetches += s.cache.prefetches;
      c.servedStale += s.cache.servedStale;
    }
    if (s.forward) {
      const f = this.forward;
      f.maxConcurrentRejects += s.forward.maxConcurrentRejects;
      f.clientRejects += s.forward.clientRejects;
      f.shed += s.forward.shed;
      f.spoofedReplies += s.forward.spoofedReplies;
      f.healthcheckBroken += s.forward.healthcheckBroken;
      for (const u of s.forward.upstreams) {
        const into = f.upstream(u.to);
        into.requests += u.requests;
        into.healthcheckFailures += u.healthcheckFailures;
        into.downs += u.downs;
        for (const [rcode, n] of u.responses) into.responses.set(rcode, (into.responses.get(rcode) ?? 0) + n);
        for (const [rcode, h] of u.durations) f.duration(u.to, rcode).add(h);
      }
    }
  }
}
