// Prometheus metrics under CoreDNS's names, types, labels and buckets, so that the dashboards and
// alerts operators already run (kube-prometheus-stack's CoreDNS dashboard, coredns-mixin) work on
// cluster-dns unchanged; plus our own `cluster_dns_*` figures. Nothing here runs per query: the
// query path bumps typed-array slots (src/server/counters.ts) and plain counters (ServerStats,
// ForwardStats, CacheStats), and every family is filled from them in `collect()` at scrape time,
// on a private Registry so that two servers in one process (tests) never collide.
import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client';
import type { ClusterIndex } from '../index/index.ts';
import { FAMILY_LABELS, PROTO_LABELS, RCODE_SLOTS, rcodeLabel, TYPE_LABELS, type BucketCounts, type QueryCounters } from '../server/counters.ts';
import type { ServerStats } from '../server/processor.ts';
import { DURATION_BUCKETS, type CacheStats, type DurationHistogram, type ForwardStats } from '../upstream/stats.ts';

/** CoreDNS's kubernetes/object DurationSinceFunc buckets: 1 ms · 2^n, 20 of them (to ~9 min). */
export const PROGRAMMING_BUCKETS: readonly number[] = Array.from({ length: 20 }, (_, i) => 0.001 * 2 ** i);
/** CoreDNS's health plugin SlimTimeBuckets: ExponentialBuckets(0.00025, 10, 5). */
export const HEALTH_BUCKETS: readonly number[] = Array.from({ length: 5 }, (_, i) => 0.00025 * 10 ** i);

/** `service_kind` values of coredns_kubernetes_dns_programming_duration_seconds. */
export const SERVICE_KINDS = ['cluster_ip', 'headless_with_selector', 'headless_without_selector'] as const;
export type ServiceKindLabel = (typeof SERVICE_KINDS)[number];

/**
 * What one watched kind reports. The reflector (src/cluster/reflector.ts) owns these as plain
 * fields; metrics only read them at scrape time.
 */
export interface WatchStatus {
  readonly kind: string;
  readonly synced: boolean;
  /** Epoch ms of the last list, event or bookmark from the API server; null before the first. */
  readonly lastEventAt: number | null;
  readonly relists: number;
  readonly restarts: number;
  /** Watch events by type (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR). */
  readonly events: Readonly<Record<string, number>>;
}

export interface MetricsOptions {
  readonly stats: ServerStats;
  readonly counters: QueryCounters;
  readonly index: ClusterIndex;
  /** `server` label per listen address, as CoreDNS writes it: `dns://:53`, `dns://127.0.0.1:5353`. */
  servers?: readonly string[];
  readonly version: string;
  readonly revision?: string;
  /** The forwarder's and the cache's counters, once they exist. */
  readonly forward?: ForwardStats | null;
  readonly cache?: CacheStats | null;
  /** The watches' state, when the source is a Kubernetes API server. */
  readonly watches?: (() => Iterable<WatchStatus>) | null;
  /** Why the server is not ready, or null (cluster_dns_ready). */
  readonly notReadyReason?: () => string | null;
  /** The kernel's drop and queue figures for our UDP sockets (Linux), read at scrape time. */
  readonly udpKernel?: () => { readonly drops: number; readonly queuedBytes: number } | null;
  /** True while answers come from a --snapshot file, not yet from a live sync. */
  readonly servingSnapshot?: () => boolean;
  readonly now?: () => number;
}

/** The `server` label CoreDNS writes for a listen address: `dns://:53` when bound to every address. */
export function serverLabel(host: string, port: number): string {
  if (host === '' || host === '0.0.0.0' || host === '::') return `dns://:${port}`;
  return host.includes(':') ? `dns://[${host}]:${port}` : `dns://${host}:${port}`;
}

type Labels = Record<string, string>;

/**
 * A histogram whose buckets are counted elsewhere (typed arrays, DurationHistogram) and read at
 * scrape time. prom-client's Histogram can only `observe()`, one value at a time, so this speaks
 * the registry's metric interface (name, help, type, get) directly, as its own metrics do.
 */
class PrecomputedHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #read: () => Iterable<{ labels: Labels; bounds: readonly number[]; cumulative: readonly number[]; sum: number }>;

  constructor(
    name: string,
    help: string,
    read: () => Iterable<{ labels: Labels; bounds: readonly number[]; cumulative: readonly number[]; sum: number }>,
  ) {
    this.name = name;
    this.help = help;
    this.#read = read;
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: object[] }> {
    const values: object[] = [];
    for (const { labels, bounds, cumulative, sum } of this.#read()) {
      bounds.forEach((le, i) => {
        values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le }, value: cumulative[i] ?? 0 });
      });
      const count = cumulative[bounds.length] ?? 0;
      values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: count });
      values.push({ metricName: `${this.name}_sum`, labels, value: sum });
      values.push({ metricName: `${this.name}_count`, labels, value: count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    // Nothing to reset: the counts belong to whoever observes them.
  }
}

/** A histogram observed off the query path (rare events), kept as a DurationHistogram-like array. */
class EventHistogram {
  readonly bounds: readonly number[];
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > (this.bounds[i] as number)) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }

  cumulative(): number[] {
    let running = 0;
    return Array.from(this.counts, (c) => (running += c));
  }
}

function cumulativeOf(h: DurationHistogram): number[] {
  let running = 0;
  return Array.from(h.counts, (c) => (running += c));
}

export class Metrics {
  readonly registry = new Registry();
  readonly #options: MetricsOptions;
  #servers: readonly string[];
  readonly #programming = new Map<ServiceKindLabel, EventHistogram>();
  readonly #watchToAnswer = new EventHistogram(PROGRAMMING_BUCKETS);
  readonly #health = new EventHistogram(HEALTH_BUCKETS);
  #healthFailures = 0;
  #lameduck = false;
  #logDropped = 0;

  constructor(options: MetricsOptions) {
    this.#options = options;
    this.#servers = options.servers ?? ['dns://:53'];
    const register = this.registry;
    const registers = [register];
    collectDefaultMetrics({ register });
    // prom-client adds totals of the typed nodejs_active_* gauges as gauges named *_total, a suffix
    // Prometheus reserves for counters (`promtool check metrics` fails); sum() of the typed ones is the same.
    for (const total of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      register.removeSingleMetric(total);
    }
    const o = options;
    const counters = o.counters;
    const stats = o.stats;
    const now = o.now ?? Date.now;

    // ---- the server: coredns_dns_* ----
    const servers = (): readonly string[] => this.#servers;
    const zones = counters.zoneLabels;
    const serverOf = (s: number): string => servers()[s] ?? servers()[0] ?? '';

    new Counter({
      name: 'coredns_dns_requests_total',
      help: 'Counter of DNS requests made per zone, protocol and family.',
      labelNames: ['server', 'zone', 'view', 'proto', 'family', 'type'],
      registers,
      collect() {
        this.reset();
        const a = counters.requests;
        const types = TYPE_LABELS.length;
        for (let i = 0; i < a.length; i++) {
          const v = a[i] as number;
          if (v === 0) continue;
          let rest = i;
          const type = rest % types;
          rest = (rest - type) / types;
          const family = rest % 2;
          rest = (rest - family) / 2;
          const proto = rest % 2;
          rest = (rest - proto) / 2;
          const zone = rest % zones.length;
          const server = (rest - zone) / zones.length;
          this.inc(
            {
              server: serverOf(server),
              zone: zones[zone] ?? '',
              view: '',
              proto: PROTO_LABELS[proto] ?? '',
              family: FAMILY_LABELS[family] ?? '',
              type: TYPE_LABELS[type] ?? 'other',
            },
            v,
          );
        }
      },
    });

    const plugins = counters.pluginLabels;
    new Counter({
      name: 'coredns_dns_responses_total',
      help: 'Counter of response status codes.',
      labelNames: ['server', 'zone', 'view', 'rcode', 'plugin'],
      registers,
      collect() {
        this.reset();
        const a = counters.responses;
        for (let i = 0; i < a.length; i++) {
          const v = a[i] as number;
          if (v === 0) continue;
          const plugin = i % plugins.length;
          let rest = (i - plugin) / plugins.length;
          const rcode = rest % RCODE_SLOTS;
          rest = (rest - rcode) / RCODE_SLOTS;
          const zone = rest % zones.length;
          const server = (rest - zone) / zones.length;
          this.inc(
            { server: serverOf(server), zone: zones[zone] ?? '', view: '', rcode: rcodeLabel(rcode), plugin: plugins[plugin] ?? '' },
            v,
          );
        }
      },
    });

    new Counter({
      name: 'coredns_dns_do_requests_total',
      help: 'Counter of DNS requests with DO bit set per zone.',
      labelNames: ['server', 'zone', 'view'],
      registers,
      collect() {
        this.reset();
        counters.doRequests.forEach((v, i) => {
          if (v === 0) return;
          const zone = i % zones.length;
          this.inc({ server: serverOf((i - zone) / zones.length), zone: zones[zone] ?? '', view: '' }, v);
        });
      },
    });

    const perServerZone = (b: BucketCounts, withProto: boolean) =>
      function* () {
        const width = withProto ? 2 : 1;
        for (let series = 0; series < b.totals.length; series++) {
          if (b.totals[series] === 0) continue;
          const proto = series % width;
          const sz = (series - proto) / width;
          const zone = sz % zones.length;
          const labels: Labels = { server: serverOf((sz - zone) / zones.length), zone: zones[zone] ?? '', view: '' };
          if (withProto) labels.proto = PROTO_LABELS[proto] ?? '';
          yield { labels, bounds: b.bounds, cumulative: b.cumulative(series), sum: b.sums[series] ?? 0 };
        }
      };
    this.#register(
      new PrecomputedHistogram(
        'coredns_dns_request_duration_seconds',
        'Histogram of the time (in seconds) each request took per zone.',
        perServerZone(counters.duration, false),
      ),
    );
    this.#register(
      new PrecomputedHistogram(
        'coredns_dns_request_size_bytes',
        'Size of the request in bytes per zone and protocol.',
        perServerZone(counters.requestSize, true),
      ),
    );
    this.#register(
      new PrecomputedHistogram(
        'coredns_dns_response_size_bytes',
        'Size of the returned response in bytes per zone and protocol.',
        perServerZone(counters.responseSize, true),
      ),
    );

    simpleCounter(registers, 'coredns_panics_total', 'A metrics that counts the number of panics.', () => stats.panics);
    new Gauge({
      name: 'coredns_build_info',
      help: 'A metric with a constant 1 value labeled by version, revision, and goversion (here: the Node.js version) from which cluster-dns was built.',
      labelNames: ['version', 'revision', 'goversion'],
      registers,
      collect() {
        this.reset();
        this.set({ version: o.version, revision: o.revision ?? '', goversion: process.version }, 1);
      },
    });
    new Gauge({
      name: 'coredns_plugin_enabled',
      help: 'A metric that indicates whether a plugin is enabled on per server and zone basis.',
      labelNames: ['server', 'zone', 'view', 'name'],
      registers,
      collect() {
        this.reset();
        for (const server of servers()) {
          for (const name of plugins) if (name !== '') this.set({ server, zone: '.', view: '', name }, 1);
        }
      },
    });

    // ---- health ----
    this.#register(
      new PrecomputedHistogram('coredns_health_request_duration_seconds', 'Histogram of the time (in seconds) each request took.', () => [
        { labels: {}, bounds: this.#health.bounds, cumulative: this.#health.cumulative(), sum: this.#health.sum },
      ]),
    );
    simpleCounter(registers, 'coredns_health_request_failures_total', 'The number of times the health check failed.', () => this.#healthFailures);

    // ---- cache: coredns_cache_* (zeros until a cache is wired in, so dashboards draw a flat line) ----
    const cacheLabels = (extra: Labels = {}): Labels => ({ server: servers()[0] ?? '', zones: '.', view: '', ...extra });
    const cache = (): CacheStats | null => o.cache ?? null;
    new Gauge({
      name: 'coredns_cache_entries',
      help: 'The number of elements in the cache.',
      labelNames: ['server', 'type', 'zones', 'view'],
      registers,
      collect() {
        this.reset();
        const c = cache();
        this.set(cacheLabels({ type: 'success' }), c?.entries.success ?? 0);
        this.set(cacheLabels({ type: 'denial' }), c?.entries.denial ?? 0);
      },
    });
    for (const [name, help, read] of [
      ['coredns_cache_hits_total', 'The count of cache hits.', (c: CacheStats | null, t: 'success' | 'denial') => c?.hits[t] ?? 0],
      ['coredns_cache_evictions_total', 'The count of cache evictions.', (c: CacheStats | null, t: 'success' | 'denial') => c?.evictions[t] ?? 0],
    ] as const) {
      new Counter({
        name,
        help,
        labelNames: ['server', 'type', 'zones', 'view'],
        registers,
        collect() {
          this.reset();
          this.inc(cacheLabels({ type: 'success' }), read(cache(), 'success'));
          this.inc(cacheLabels({ type: 'denial' }), read(cache(), 'denial'));
        },
      });
    }
    for (const [name, help, read] of [
      ['coredns_cache_misses_total', 'The count of cache misses. Deprecated, derive misses from cache hits/requests counters.', (c: CacheStats) => c.misses],
      ['coredns_cache_requests_total', 'The count of cache requests.', (c: CacheStats) => c.requests],
      ['coredns_cache_prefetch_total', 'The number of times the cache has prefetched a cached item.', (c: CacheStats) => c.prefetches],
      ['coredns_cache_served_stale_total', 'The number of requests served from stale cache entries.', (c: CacheStats) => c.servedStale],
    ] as const) {
      new Counter({
        name,
        help,
        labelNames: ['server', 'zones', 'view'],
        registers,
        collect() {
          this.reset();
          const c = cache();
          this.inc(cacheLabels(), c === null ? 0 : read(c));
        },
      });
    }

    // Ours: the failures the cache remembers (RFC 9520), held apart from the answers.
    simpleCounter(registers, 'cluster_dns_cache_servfail_hits_total', 'Queries answered SERVFAIL (or stale) from a remembered upstream failure, without asking upstream (also counted in coredns_cache_hits_total{type="denial"}, as CoreDNS counts its cached SERVFAILs).', () => cache()?.servfailHits ?? 0);
    new Gauge({
      name: 'cluster_dns_cache_servfail_entries',
      help: 'Upstream failures remembered now (--cache-servfail-ttl), apart from coredns_cache_entries.',
      registers,
      collect() {
        this.set(cache()?.servfailEntries ?? 0);
      },
    });

    // ---- forwarding: coredns_proxy_*, coredns_forward_* (and the pre-1.11 names dashboards still query) ----
    const upstreams = () => o.forward?.upstreams.values() ?? [].values();
    this.#register(
      new PrecomputedHistogram('coredns_proxy_request_duration_seconds', 'Histogram of the time each request took.', function* () {
        for (const u of upstreams()) {
          for (const [rcode, h] of u.durations) {
            yield { labels: { proxy_name: 'forward', to: u.to, rcode }, bounds: DURATION_BUCKETS, cumulative: cumulativeOf(h), sum: h.sum };
          }
        }
      }),
    );
    this.#register(
      new PrecomputedHistogram(
        'coredns_forward_request_duration_seconds',
        'Histogram of the time each request took (the name before CoreDNS 1.11).',
        function* () {
          for (const u of upstreams()) {
            for (const [rcode, h] of u.durations) {
              yield { labels: { to: u.to, rcode }, bounds: DURATION_BUCKETS, cumulative: cumulativeOf(h), sum: h.sum };
            }
          }
        },
      ),
    );
    new Counter({
      name: 'coredns_proxy_healthcheck_failures_total',
      help: 'Counter of the number of failed healthchecks.',
      labelNames: ['proxy_name', 'to'],
      registers,
      collect() {
        this.reset();
        for (const u of upstreams()) this.inc({ proxy_name: 'forward', to: u.to }, u.healthcheckFailures);
      },
    });
    new Counter({
      name: 'coredns_forward_healthcheck_failures_total',
      help: 'Counter of the number of failed healthchecks (the name before CoreDNS 1.11).',
      labelNames: ['to'],
      registers,
      collect() {
        this.reset();
        for (const u of upstreams()) this.inc({ to: u.to }, u.healthcheckFailures);
      },
    });
    new Counter({
      name: 'coredns_forward_requests_total',
      help: 'Counter of requests made per upstream (the name before CoreDNS 1.11).',
      labelNames: ['to'],
      registers,
      collect() {
        this.reset();
        for (const u of upstreams()) this.inc({ to: u.to }, u.requests);
      },
    });
    new Counter({
      name: 'coredns_forward_responses_total',
      help: 'Counter of responses received per upstream (the name before CoreDNS 1.11).',
      labelNames: ['to', 'rcode'],
      registers,
      collect() {
        this.reset();
        for (const u of upstreams()) for (const [rcode, v] of u.responses) this.inc({ to: u.to, rcode }, v);
      },
    });
    simpleCounter(
      registers,
      'coredns_forward_max_concurrent_rejects_total',
      'Counter of the number of queries rejected because the concurrent queries were at maximum.',
      () => o.forward?.maxConcurrentRejects ?? 0,
    );
    // As CoreDNS counts it: once per question that found every upstream down (and tried one anyway).
    simpleCounter(
      registers,
      'coredns_forward_healthcheck_broken_total',
      'Counter of the number of complete failures of the healthchecks.',
      () => o.forward?.healthcheckBroken ?? 0,
    );

    // ---- kubernetes ----
    this.#register(
      new PrecomputedHistogram(
        'coredns_kubernetes_dns_programming_duration_seconds',
        'Histogram of the time (in seconds) it took to program a dns instance.',
        () =>
          [...this.#programming].map(([kind, h]) => ({
            labels: { service_kind: kind },
            bounds: h.bounds,
            cumulative: h.cumulative(),
            sum: h.sum,
          })),
      ),
    );

    // ---- ours: cluster_dns_* ----
    const index = o.index;
    new Gauge({
      name: 'cluster_dns_index_objects',
      help: 'Objects held in the index, by kind.',
      labelNames: ['kind'],
      registers,
      collect() {
        this.reset();
        for (const [kind, n] of Object.entries(index.counts())) this.set({ kind }, n);
      },
    });
    new Gauge({
      name: 'cluster_dns_index_synced',
      help: '1 once every watched kind has completed its initial list, else 0.',
      registers,
      collect() {
        this.set(index.synced ? 1 : 0);
      },
    });
    new Gauge({
      name: 'cluster_dns_snapshot_serving',
      help: '1 while the index holds a --snapshot restored at start that no live sync has replaced yet.',
      registers,
      collect() {
        this.set(o.servingSnapshot?.() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'cluster_dns_index_version',
      help: 'DNS-relevant index changes since start.',
      registers,
      collect() {
        this.set(index.version);
      },
    });
    const watches = (): WatchStatus[] => [...(o.watches?.() ?? [])];
    new Counter({
      name: 'cluster_dns_watch_events_total',
      help: 'Watch events received from the API server, by kind and event type.',
      labelNames: ['kind', 'type'],
      registers,
      collect() {
        this.reset();
        for (const w of watches()) for (const [type, v] of Object.entries(w.events)) this.inc({ kind: w.kind, type }, v);
      },
    });
    new Counter({
      name: 'cluster_dns_relists_total',
      help: 'Full lists of a kind after the first (410 Gone, lost watch), by kind.',
      labelNames: ['kind'],
      registers,
      collect() {
        this.reset();
        for (const w of watches()) this.inc({ kind: w.kind }, w.relists);
      },
    });
    new Counter({
      name: 'cluster_dns_watch_restarts_total',
      help: 'Watches re-established after ending or failing, by kind.',
      labelNames: ['kind'],
      registers,
      collect() {
        this.reset();
        for (const w of watches()) this.inc({ kind: w.kind }, w.restarts);
      },
    });
    new Gauge({
      name: 'cluster_dns_seconds_since_last_sync',
      help: 'Seconds since the API server was last heard from (list, event or bookmark), by kind; no sample before the first.',
      labelNames: ['kind'],
      registers,
      collect() {
        this.reset();
        const t = now();
        // No sample until the first sync: a -1 would read as "just now" to max() and to alert thresholds.
        for (const w of watches()) if (w.lastEventAt !== null) this.set({ kind: w.kind }, Math.max(0, (t - w.lastEventAt) / 1000));
      },
    });
    this.#register(
      new PrecomputedHistogram(
        'cluster_dns_watch_to_answer_seconds',
        'Seconds from a watch event (or manifest change) reaching cluster-dns to the answers reflecting it.',
        () => [{ labels: {}, bounds: this.#watchToAnswer.bounds, cumulative: this.#watchToAnswer.cumulative(), sum: this.#watchToAnswer.sum }],
      ),
    );
    new Counter({
      name: 'cluster_dns_dropped_packets_total',
      help: 'Packets dropped without an answer: too short to be DNS, responses (QR=1), unreadable TCP frames.',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        this.inc({ reason: 'short' }, stats.droppedShort);
        this.inc({ reason: 'response' }, stats.droppedResponse);
        this.inc({ reason: 'tcp_bad_frame' }, stats.tcpBadFrames);
      },
    });
    simpleCounter(
      registers,
      'cluster_dns_spoofed_replies_total',
      'Upstream replies dropped for a wrong ID, question or source address.',
      () => o.forward?.spoofedReplies ?? 0,
    );
    simpleCounter(
      registers,
      'cluster_dns_upstream_scrubbed_records_total',
      'Records dropped from upstream replies: out of bailiwick, off the CNAME chain, or not allowed in their section.',
      () => o.forward?.scrubbedRecords ?? 0,
    );
    simpleCounter(
      registers,
      'cluster_dns_forward_client_rejects_total',
      'Upstream questions refused (REFUSED) because their client held its fair share of --max-concurrent.',
      () => o.forward?.clientRejects ?? 0,
    );
    simpleCounter(
      registers,
      'cluster_dns_forward_shed_total',
      'New upstream questions refused (REFUSED) while the event loop was behind, so cluster names kept being answered.',
      () => o.forward?.shed ?? 0,
    );
    new Counter({
      name: 'cluster_dns_forward_upstream_down_total',
      help: 'Times an upstream was marked down after --max-fails failed health probes in a row.',
      labelNames: ['to'],
      registers,
      collect() {
        this.reset();
        for (const u of upstreams()) this.inc({ to: u.to }, u.downs);
      },
    });
    simpleCounter(registers, 'cluster_dns_truncated_responses_total', 'Replies sent with TC set because they did not fit.', () => stats.truncated);
    new Counter({
      name: 'cluster_dns_udp_receive_drops_total',
      help: 'Queries the kernel dropped because our UDP receive queue was full (load shed under a flood).',
      registers,
      collect() {
        const k = o.udpKernel?.();
        this.reset();
        if (k) this.inc(k.drops);
      },
    });
    new Gauge({
      name: 'cluster_dns_udp_receive_queue_bytes',
      help: 'Bytes of queries waiting in our UDP receive queues at scrape time.',
      registers,
      collect() {
        this.set(o.udpKernel?.()?.queuedBytes ?? 0);
      },
    });
    simpleCounter(registers, 'cluster_dns_udp_send_errors_total', 'UDP replies the kernel refused to send.', () => stats.udpSendErrors);
    simpleCounter(registers, 'cluster_dns_udp_receive_errors_total', 'Failed UDP receives (socket errors other than a send), and datagrams lost with them.', () => stats.udpReceiveErrors);
    simpleCounter(registers, 'cluster_dns_tcp_connections_total', 'TCP connections accepted.', () => stats.tcpConnections);
    simpleCounter(registers, 'cluster_dns_tcp_rejected_total', 'TCP connections refused at --tcp-max-conns with no idle connection to close for them.', () => stats.tcpRejected);
    simpleCounter(registers, 'cluster_dns_tcp_idle_evictions_total', 'Idle TCP connections closed to admit a new one at --tcp-max-conns.', () => stats.tcpIdleEvictions);
    simpleCounter(registers, 'cluster_dns_tcp_client_limit_total', 'TCP connections refused because their source address held --tcp-max-conns-per-client already.', () => stats.tcpClientLimited);
    simpleCounter(registers, 'cluster_dns_tcp_read_timeouts_total', 'TCP connections closed because a query frame did not arrive whole in time (slow senders).', () => stats.tcpReadTimeouts);
    simpleCounter(registers, 'cluster_dns_tcp_idle_timeouts_total', 'TCP connections closed after --tcp-idle-timeout.', () => stats.tcpIdleTimeouts);
    simpleCounter(registers, 'cluster_dns_log_lines_suppressed_total', 'Repeated error log lines left out by rate limiting.', () => this.#logDropped);
    new Gauge({
      name: 'cluster_dns_ready',
      help: '1 while /ready answers 200, else 0 (not yet synced, or in lameduck).',
      registers,
      collect() {
        this.set(o.notReadyReason?.() === null ? 1 : 0);
      },
    });
    const self = this;
    new Gauge({
      name: 'cluster_dns_lameduck',
      help: '1 after SIGTERM while the server still answers before closing.',
      registers,
      collect() {
        this.set(self.#lameduck ? 1 : 0);
      },
    });
  }

  #register(metric: PrecomputedHistogram): void {
    // The registry formats whatever `get()` returns; the union type names only prom-client's own classes.
    this.registry.registerMetric(metric as unknown as Metric);
  }

  /** Set once the listeners are bound (port 0 resolved). */
  setServers(servers: readonly string[]): void {
    this.#servers = [...servers];
  }

  setLameduck(on: boolean): void {
    this.#lameduck = on;
  }

  /** For the rate-limited logger: lines it left out. */
  countSuppressedLog(n = 1): void {
    this.#logDropped += n;
  }

  /**
   * An EndpointSlice change reached the index: `triggerTimeMs` is its
   * `endpoints.kubernetes.io/last-change-trigger-time`, as CoreDNS measures it.
   */
  observeProgramming(kind: ServiceKindLabel, triggerTimeMs: number, nowMs = (this.#options.now ?? Date.now)()): void {
    let h = this.#programming.get(kind);
    if (!h) {
      h = new EventHistogram(PROGRAMMING_BUCKETS);
      this.#programming.set(kind, h);
    }
    h.observe(Math.max(0, (nowMs - triggerTimeMs) / 1000));
  }

  /** A watch event or manifest change (seen at `receivedMs`) is now what queries get. */
  observeWatchToAnswer(seconds: number): void {
    this.#watchToAnswer.observe(Math.max(0, seconds));
  }

  observeHealth(seconds: number, ok: boolean): void {
    this.#health.observe(seconds);
    if (!ok) this.#healthFailures++;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    this.#options.stats.settle();
    return this.registry.metrics();
  }
}

/**
 * /metrics rendered at most once per `maxAgeMs` and the same bytes served to every scraper in
 * between, so the DNS thread's cost (the whole text, ~2 ms at a few hundred series) no longer
 * grows with the number of scrapers. Scrapes that arrive while a render runs share it.
 */
export class RenderedText {
  readonly #render: () => Promise<string>;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  #text: Buffer | null = null;
  #renderedAt = 0;
  #pending: Promise<Buffer> | null = null;
  /** Renders so far (for tests and the bench). */
  renders = 0;

  constructor(render: () => Promise<string>, maxAgeMs = 1_000, now: () => number = () => performance.now()) {
    this.#render = render;
    this.#maxAgeMs = maxAgeMs;
    this.#now = now;
  }

  get(): Promise<Buffer> {
    if (this.#text !== null && this.#now() - this.#renderedAt < this.#maxAgeMs) return Promise.resolve(this.#text);
    this.#pending ??= this.#renderNow();
    return this.#pending;
  }

  async #renderNow(): Promise<Buffer> {
    const startedAt = this.#now();
    try {
      const text = Buffer.from(await this.#render());
      this.renders++;
      this.#text = text;
      this.#renderedAt = startedAt;
      return text;
    } finally {
      this.#pending = null;
    }
  }
}

function simpleCounter(registers: Registry[], name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers,
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}
