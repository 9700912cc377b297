// The index's and the watches' families: CoreDNS's DNS programming latency, and ours (objects,
// sync, the snapshot, watch events, relists, restarts, watch-to-answer latency).
import { exponentialBuckets, Histogram } from '../../base/histogram.ts';
import type { ClusterIndex } from '../../index/index.ts';
import { counter, gauge, histogram, simpleGauge, type Registers } from './families.ts';

/** CoreDNS's kubernetes/object DurationSinceFunc buckets: ExponentialBuckets(0.001, 2, 20), to ~9 min. */
export const PROGRAMMING_BUCKETS: readonly number[] = exponentialBuckets(0.001, 2, 20);

/** `service_kind` values of coredns_kubernetes_dns_programming_duration_seconds. */
export const SERVICE_KINDS = ['cluster_ip', 'headless_with_selector', 'headless_without_selector'] as const;
export type ServiceKindLabel = (typeof SERVICE_KINDS)[number];

/**
 * What one watched kind reports. The reflector (src/kube/reflector.ts) owns these as plain
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

/** What the index's and the watches' families read, at every scrape. */
export interface KubernetesMetricsInput {
  readonly index: ClusterIndex;
  /** The watches' state, when the source is a Kubernetes API server. */
  readonly watches?: (() => Iterable<WatchStatus>) | null;
  /** True while answers come from a --snapshot file, not yet from a live sync. */
  readonly servingSnapshot?: () => boolean;
  readonly now?: () => number;
}

/** What the sources report as it happens (the only figures here not read at scrape time). */
export class KubernetesMetrics {
  readonly #programming = new Map<ServiceKindLabel, Histogram>();
  readonly #watchToAnswer = new Histogram(PROGRAMMING_BUCKETS);
  readonly #now: () => number;

  constructor(registers: Registers, o: KubernetesMetricsInput) {
    this.#now = o.now ?? Date.now;
    const now = this.#now;
    histogram(
      registers,
      'coredns_kubernetes_dns_programming_duration_seconds',
      'Histogram of the time (in seconds) it took to program a dns instance.',
      () => [...this.#programming].map(([kind, h]) => ({ labels: { service_kind: kind }, histogram: h, series: 0 })),
    );

    // ---- ours: cluster_dns_* ----
    const index = o.index;
    gauge(registers, 'cluster_dns_index_objects', 'Objects held in the index, by kind.', ['kind'], () =>
      Object.entries(index.counts()).map(([kind, value]) => ({ labels: { kind }, value })),
    );
    simpleGauge(registers, 'cluster_dns_index_synced', '1 once every watched kind has completed its initial list, else 0.', () =>
      index.synced ? 1 : 0,
    );
    simpleGauge(
      registers,
      'cluster_dns_snapshot_serving',
      '1 while the index holds a --snapshot restored at start that no live sync has replaced yet.',
      () => (o.servingSnapshot?.() ? 1 : 0),
    );
    simpleGauge(registers, 'cluster_dns_index_version', 'DNS-relevant index changes since start.', () => index.version);
    const watches = (): WatchStatus[] => [...(o.watches?.() ?? [])];
    counter(
      registers,
      'cluster_dns_watch_events_total',
      'Watch events received from the API server, by kind and event type.',
      ['kind', 'type'],
      () => watches().flatMap((w) => Object.entries(w.events).map(([type, value]) => ({ labels: { kind: w.kind, type }, value }))),
    );
    counter(registers, 'cluster_dns_relists_total', 'Full lists of a kind after the first (410 Gone, lost watch), by kind.', ['kind'], () =>
      watches().map((w) => ({ labels: { kind: w.kind }, value: w.relists })),
    );
    counter(registers, 'cluster_dns_watch_restarts_total', 'Watches re-established after ending or failing, by kind.', ['kind'], () =>
      watches().map((w) => ({ labels: { kind: w.kind }, value: w.restarts })),
    );
    gauge(
      registers,
      'cluster_dns_seconds_since_last_sync',
      'Seconds since the API server was last heard from (list, event or bookmark), by kind; no sample before the first.',
      ['kind'],
      function* () {
        const t = now();
        // No sample until the first sync: a -1 would read as "just now" to max() and to alert thresholds.
        for (const w of watches())
          if (w.lastEventAt !== null) yield { labels: { kind: w.kind }, value: Math.max(0, (t - w.lastEventAt) / 1000) };
      },
    );
    histogram(
      registers,
      'cluster_dns_watch_to_answer_seconds',
      'Seconds from a watch event (or manifest change) reaching cluster-dns to the answers reflecting it.',
      () => [{ labels: {}, histogram: this.#watchToAnswer, series: 0 }],
    );
  }

  /**
   * An EndpointSlice change reached the index: `triggerTimeMs` is its
   * `endpoints.kubernetes.io/last-change-trigger-time`, as CoreDNS measures it.
   */
  observeProgramming(kind: ServiceKindLabel, triggerTimeMs: number, nowMs = this.#now()): void {
    let h = this.#programming.get(kind);
    if (!h) {
      h = new Histogram(PROGRAMMING_BUCKETS);
      this.#programming.set(kind, h);
    }
    h.observe(Math.max(0, (nowMs - triggerTimeMs) / 1000));
  }

  /** A watch event or manifest change (seen at `receivedMs`) is now what queries get. */
  observeWatchToAnswer(seconds: number): void {
    this.#watchToAnswer.observe(Math.max(0, seconds));
  }
}
