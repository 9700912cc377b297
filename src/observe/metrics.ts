// Prometheus metrics under CoreDNS's names, types, labels and buckets, so that the dashboards and
// alerts operators already run (kube-prometheus-stack's CoreDNS dashboard, coredns-mixin) work on
// cluster-dns unchanged; plus our own `cluster_dns_*` figures. Nothing here runs per query: the
// query path bumps typed-array slots (src/server/counters.ts) and plain counters (ServerStats,
// ForwardStats, CacheStats), and every family is filled from them at scrape time, on a private
// Registry so that two servers in one process (tests) never collide. Each owner's families are in
// its file under metrics/; this module only composes them.
import { Registry } from 'prom-client';
import { cacheFamilies, type CacheMetricsInput } from './metrics/cache.ts';
import { forwardFamilies, type ForwardMetricsInput } from './metrics/forward.ts';
import { KubernetesMetrics, type KubernetesMetricsInput } from './metrics/kubernetes.ts';
import { ProcessMetrics, type ProcessMetricsInput } from './metrics/process.ts';
import { serverFamilies, type ServerMetricsInput } from './metrics/server.ts';

export { HEALTH_BUCKETS } from './metrics/process.ts';
export { PROGRAMMING_BUCKETS, SERVICE_KINDS, type ServiceKindLabel, type WatchStatus } from './metrics/kubernetes.ts';

/**
 * What the families read. Every field is read at scrape time, never at construction, so the
 * registry can be created first and a field may be a getter over a part started after it.
 */
export interface MetricsOptions
  extends ServerMetricsInput,
    ProcessMetricsInput,
    CacheMetricsInput,
    ForwardMetricsInput,
    KubernetesMetricsInput {
  /** `server` label per listen address, as CoreDNS writes it: `dns://:53`, `dns://127.0.0.1:5353`. */
  readonly servers?: readonly string[];
}

/** The `server` label CoreDNS writes for a listen address: `dns://:53` when bound to every address. */
export function serverLabel(host: string, port: number): string {
  if (host === '' || host === '0.0.0.0' || host === '::') return `dns://:${port}`;
  return host.includes(':') ? `dns://[${host}]:${port}` : `dns://${host}:${port}`;
}

export class Metrics {
  readonly registry = new Registry();
  /** What the sources report to (DNS programming, watch-to-answer latency). */
  readonly kubernetes: KubernetesMetrics;
  /** What the health probe, the rate-limited log and lameduck report to. */
  readonly process: ProcessMetrics;
  readonly #options: MetricsOptions;
  #servers: readonly string[];

  constructor(options: MetricsOptions) {
    this.#options = options;
    this.#servers = options.servers ?? ['dns://:53'];
    const servers = (): readonly string[] => this.#servers;
    const registers = [this.registry];
    this.process = new ProcessMetrics(this.registry, options, servers);
    serverFamilies(registers, options, servers);
    cacheFamilies(registers, options, servers);
    forwardFamilies(registers, options);
    this.kubernetes = new KubernetesMetrics(registers, options);
  }

  /** Set once the listeners are bound (port 0 resolved). */
  setServers(servers: readonly string[]): void {
    this.#servers = [...servers];
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
 * between, so the DNS thread's cost (rendering the whole text) no longer
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
