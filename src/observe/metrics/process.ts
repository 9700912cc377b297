// The process's families: prom-client's process_* and nodejs_* defaults, CoreDNS's build info,
// panics, plugin_enabled and health probe, and ours for the log, readiness and lameduck.
import { collectDefaultMetrics, type Registry } from 'prom-client';
import { exponentialBuckets, Histogram } from '../../base/histogram.ts';
import type { QueryCounters } from '../../server/counters.ts';
import type { ServerStats } from '../../server/processor.ts';
import { gauge, histogram, simpleCounter, simpleGauge } from './families.ts';

/** CoreDNS's health plugin SlimTimeBuckets: ExponentialBuckets(0.00025, 10, 5). */
export const HEALTH_BUCKETS: readonly number[] = exponentialBuckets(0.00025, 10, 5);

/** What the process's families read, at every scrape. */
export interface ProcessMetricsInput {
  readonly version: string;
  readonly revision?: string;
  /** Panics are counted by the server; the handler names (plugin_enabled) are the counters' labels. */
  readonly stats: ServerStats;
  readonly counters: QueryCounters;
  /** Why the server is not ready, or null (cluster_dns_ready). */
  readonly notReadyReason?: () => string | null;
}

/** What the process reports as it happens: health probes, suppressed log lines, lameduck. */
export class ProcessMetrics {
  readonly #health = new Histogram(HEALTH_BUCKETS);
  #healthFailures = 0;
  #lameduck = false;
  #logDropped = 0;
  #reloadFailures = 0;
  /** sha256 of the Corefile running (--conf); null without one. */
  #configHash: string | null = null;

  constructor(register: Registry, o: ProcessMetricsInput, servers: () => readonly string[]) {
    const registers = [register];
    collectDefaultMetrics({ register });
    // prom-client adds totals of the typed nodejs_active_* gauges as gauges named *_total, a suffix
    // Prometheus reserves for counters (`promtool check metrics` fails); sum() of the typed ones is the same.
    for (const total of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      register.removeSingleMetric(total);
    }
    simpleCounter(registers, 'coredns_panics_total', 'A metrics that counts the number of panics.', () => o.stats.panics);
    gauge(
      registers,
      'coredns_build_info',
      'A metric with a constant 1 value labeled by version, revision, and goversion (here: the Node.js version) from which cluster-dns was built.',
      ['version', 'revision', 'goversion'],
      () => [{ labels: { version: o.version, revision: o.revision ?? '', goversion: process.version }, value: 1 }],
    );
    gauge(
      registers,
      'coredns_plugin_enabled',
      'A metric that indicates whether a plugin is enabled on per server and zone basis.',
      ['server', 'zone', 'view', 'name'],
      function* () {
        const plugins = o.counters.pluginLabels;
        for (const server of servers())
          for (const name of plugins) if (name !== '') yield { labels: { server, zone: '.', view: '', name }, value: 1 };
      },
    );
    histogram(registers, 'coredns_health_request_duration_seconds', 'Histogram of the time (in seconds) each request took.', () => [
      { labels: {}, histogram: this.#health, series: 0 },
    ]);
    simpleCounter(
      registers,
      'coredns_health_request_failures_total',
      'The number of times the health check failed.',
      () => this.#healthFailures,
    );

    // The reload plugin's: a Corefile edit that could not be applied; which one runs.
    simpleCounter(registers, 'coredns_reload_failed_total', 'Counter of the number of failed reload attempts.', () => this.#reloadFailures);
    gauge(
      registers,
      'coredns_reload_version_info',
      'A metric with a constant 1 value labeled by hash, and value which type of hash generated.',
      ['hash', 'value'],
      () => (this.#configHash === null ? [] : [{ labels: { hash: 'sha256', value: this.#configHash }, value: 1 }]),
    );

    // ---- ours: cluster_dns_* ----
    simpleCounter(
      registers,
      'cluster_dns_log_lines_suppressed_total',
      'Repeated error log lines left out by rate limiting.',
      () => this.#logDropped,
    );
    simpleGauge(registers, 'cluster_dns_ready', '1 while /ready answers 200, else 0 (not yet synced, or in lameduck).', () =>
      o.notReadyReason?.() === null ? 1 : 0,
    );
    simpleGauge(registers, 'cluster_dns_lameduck', '1 after SIGTERM while the server still answers before closing.', () =>
      this.#lameduck ? 1 : 0,
    );
  }

  observeHealth(seconds: number, ok: boolean): void {
    this.#health.observe(seconds);
    if (!ok) this.#healthFailures++;
  }

  /** For the rate-limited logger: lines it left out. */
  countSuppressedLog(n = 1): void {
    this.#logDropped += n;
  }

  countReloadFailure(): void {
    this.#reloadFailures++;
  }

  setConfigHash(hash: string | null): void {
    this.#configHash = hash;
  }

  setLameduck(on: boolean): void {
    this.#lameduck = on;
  }
}
