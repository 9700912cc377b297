// The cache's families: CoreDNS's coredns_cache_* (zeros until a cache is wired in, so dashboards
// draw a flat line), and ours for the failures it remembers (RFC 9520), held apart from answers.
import type { CacheKind, CacheStats } from '../../upstream/stats.ts';
import { counter, gauge, simpleCounter, simpleGauge, type Registers } from './families.ts';

/** What the cache's families read, at every scrape. */
export interface CacheMetricsInput {
  /** The cache's counters, once it exists. */
  readonly cache?: CacheStats | null;
}

const KINDS: readonly CacheKind[] = ['success', 'denial'];

export function cacheFamilies(registers: Registers, o: CacheMetricsInput, servers: () => readonly string[]): void {
  const labels = (extra: Record<string, string> = {}) => ({ server: servers()[0] ?? '', zones: '.', view: '', ...extra });
  const cache = (): CacheStats | null => o.cache ?? null;
  const byKind = (read: (c: CacheStats | null, kind: CacheKind) => number) => () =>
    KINDS.map((type) => ({ labels: labels({ type }), value: read(cache(), type) }));
  const kindLabels = ['server', 'type', 'zones', 'view'];
  gauge(
    registers,
    'coredns_cache_entries',
    'The number of elements in the cache.',
    kindLabels,
    byKind((c, t) => c?.entries[t] ?? 0),
  );
  counter(
    registers,
    'coredns_cache_hits_total',
    'The count of cache hits.',
    kindLabels,
    byKind((c, t) => c?.hits[t] ?? 0),
  );
  counter(
    registers,
    'coredns_cache_evictions_total',
    'The count of cache evictions.',
    kindLabels,
    byKind((c, t) => c?.evictions[t] ?? 0),
  );
  for (const [name, help, read] of [
    [
      'coredns_cache_misses_total',
      'The count of cache misses. Deprecated, derive misses from cache hits/requests counters.',
      (c: CacheStats) => c.misses,
    ],
    ['coredns_cache_requests_total', 'The count of cache requests.', (c: CacheStats) => c.requests],
    ['coredns_cache_prefetch_total', 'The number of times the cache has prefetched a cached item.', (c: CacheStats) => c.prefetches],
    ['coredns_cache_served_stale_total', 'The number of requests served from stale cache entries.', (c: CacheStats) => c.servedStale],
  ] as const) {
    counter(registers, name, help, ['server', 'zones', 'view'], () => {
      const c = cache();
      return [{ labels: labels(), value: c === null ? 0 : read(c) }];
    });
  }

  // ---- ours: cluster_dns_cache_* ----
  simpleCounter(
    registers,
    'cluster_dns_cache_servfail_hits_total',
    'Queries answered SERVFAIL (or stale) from a remembered upstream failure, without asking upstream (also counted in coredns_cache_hits_total{type="denial"}, as CoreDNS counts its cached SERVFAILs).',
    () => cache()?.servfailHits ?? 0,
  );
  simpleGauge(
    registers,
    'cluster_dns_cache_servfail_entries',
    'Upstream failures remembered now (--cache-servfail-ttl), apart from coredns_cache_entries.',
    () => cache()?.servfailEntries ?? 0,
  );
}
