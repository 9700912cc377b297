// Wires the parts together: a cluster source feeds the index, the zone answers from it, the
// processor runs the handler chain for both transports. cli.ts only parses flags and signals;
// tests start the same thing in-process.
import { existsSync } from 'node:fs';
import { ClusterIndex } from './index/index.ts';
// Type only: the module itself (client-node, undici: ~25 MiB of RSS) is imported where a cluster
// is watched, so --workers replicas and --manifests never load it.
import type { KubernetesSourceOptions } from './kube/kubernetes.ts';
import { startManifestSource } from './index/manifests.ts';
import { KINDS } from './objects/kinds.ts';
import { formatBytes, restoreSnapshot, SnapshotError, startSnapshotWriter } from './index/snapshot.ts';
import type { Config, HostPort } from './config.ts';
import { healthRoutes, readyRoutes, startHealthProbe, startHttpEndpoint, type HttpEndpoint } from './observe/health.ts';
import { debugRoutes } from './observe/debug.ts';
import { memoryReleaser } from './observe/memory.ts';
import { rateLimitedLog, type Logger } from './observe/log.ts';
import { Metrics, RenderedText, serverLabel, type WatchStatus } from './observe/metrics.ts';
import { QueryCounters } from './server/counters.ts';
import { CounterTotals, type CountedParts, type CountersSnapshot } from './replica/totals.ts';
import { udpKernelStats } from './server/kernel.ts';
import { startListeners } from './server/listen.ts';
import { BindError } from './server/bind-error.ts';
import { QueryProcessor, type QueryObserver } from './server/processor.ts';
import type { CacheStats, ForwardStats } from './upstream/stats.ts';
import { rcodeName, typeName } from './dns/constants.ts';
import { KubernetesZone } from './zone/kubernetes.ts';
import type { Handler } from './dns/message.ts';
import { Autopath } from './upstream/autopath.ts';
import { ExternalNameChaser, Forwarder } from './upstream/forward.ts';

export interface ClusterDns {
  readonly index: ClusterIndex;
  readonly processor: QueryProcessor;
  /** The bound DNS addresses (port 0 resolved). */
  readonly dns: readonly HostPort[];
  readonly health: HostPort | null;
  readonly ready: HostPort | null;
  readonly metrics: HostPort | null;
  /** --debug-endpoints (/debug/resolve), loopback only; null when off. */
  readonly debug: HostPort | null;
  /** The Prometheus families (also when --metrics is off, for tests and tools). */
  readonly registry: Metrics;
  /** What this process counts queries with (a --workers replica reports it to the watching one). */
  counted(): CountedParts;
  /** SIGTERM's first step: /ready answers 503 "lameduck" while DNS keeps answering. */
  lameduck(): void;
  close(): Promise<void>;
}

/** Counters of parts built elsewhere (the forwarder, the cache, the watches), read at scrape time. */
export interface ObservedParts {
  forward?: ForwardStats | null;
  cache?: CacheStats | null;
  watches?: (() => Iterable<WatchStatus>) | null;
}

export class StartupError extends Error {
  override name = 'StartupError';
  readonly code = 'CDNS_ERR_STARTUP';
}

/** Knobs that are not flags: tests and benchmarks shorten the API retry timings with them. */
export interface Tuning {
  readonly kubernetes?: Pick<KubernetesSourceOptions, 'backoff' | 'stallTimeoutMs' | 'pageSize' | 'watchTimeoutSeconds' | 'progressIntervalMs'>;
  /**
   * A --workers replica: the index is fed by the watching process (over IPC), so no cluster
   * source is started here, and the sockets share their ports.
   */
  readonly replica?: { readonly index: ClusterIndex };
  /** SO_REUSEPORT on the DNS sockets (the watching process, when there are --workers). */
  readonly reusePort?: boolean;
  /**
   * The --workers replicas' counters, asked for at every scrape (in the watching process), so
   * /metrics reports the sums over all processes.
   */
  readonly peers?: { collect(): Promise<readonly CountersSnapshot[]> };
}

export async function startClusterDns(config: Config, logger: Logger, version = '0.0.0', tuning: Tuning = {}): Promise<ClusterDns> {
  const index = tuning.replica?.index ?? new ClusterIndex();
  // Filled in as the parts that own these counters are started.
  const observed: ObservedParts = {};
  let servingSnapshot = false;
  let dnsPorts: number[] = [];
  const stops: (() => unknown)[] = [];
  const closeAll = async () => {
    for (const stop of stops.reverse()) await stop();
  };

  try {
    // Created first, so that every part reports to it from its start. It reads the parts below
    // (declared later in this block) only at scrape time, and nothing scrapes before startup ends.
    const metrics = new Metrics({
      get stats() {
        return totals?.stats ?? processor.stats;
      },
      get counters() {
        return totals?.counters ?? counters;
      },
      index,
      version,
      get forward() {
        return observed.forward ? (totals?.forward ?? observed.forward) : null;
      },
      get cache() {
        return observed.cache ? (totals?.cache ?? observed.cache) : null;
      },
      watches: () => observed.watches?.() ?? [],
      notReadyReason: () => readiness.notReadyReason(),
      servingSnapshot: () => servingSnapshot,
      udpKernel: () => udpKernelStats(new Set(dnsPorts)),
    });
    if (tuning.replica) {
      // Fed by the watching process.
    } else if (config.source.kind === 'manifests') {
      const source = await startManifestSource({ path: config.source.path, index, logger, maxBytes: config.source.maxBytes });
      stops.push(() => source.stop());
    } else {
      const { loadKubeConfig, startKubernetesSource } = await import('./kube/kubernetes.ts');
      const kubeConfig = loadKubeConfig(config.source.kubeconfig ?? undefined);
      if (!kubeConfig) {
        throw new StartupError('no kubeconfig found: give --kubeconfig, set $KUBECONFIG, or run in a pod (the service account token needs $KUBERNETES_SERVICE_HOST beside it)');
      }
      if (config.snapshot) servingSnapshot = restoreFromSnapshot(config.snapshot, config.zone, index, logger);
      const listed = new Set<string>();
      const releaser = memoryReleaser(logger);
      stops.push(() => releaser.cancel());
      const source = startKubernetesSource({
        kubeConfig,
        index,
        logger,
        ...tuning.kubernetes,
        onListed: (kind, first) => {
          listed.add(kind);
          const reason = first ? `${kind} synced` : `${kind} relisted`;
          // The first sync's release waits for every kind: taken between two lists, it paused the
          // Pod list (~150 ms at 150k pods, before ready) and the rest of that list undid it.
          if (first && listed.size < KINDS.length) releaser.hold(reason);
          else releaser.schedule(reason);
          if (servingSnapshot && listed.size === KINDS.length) {
            servingSnapshot = false;
            logger.info({ path: config.snapshot?.path }, 'live sync replaced the snapshot');
          }
        },
        onProgramming: (kind, triggerMs) => metrics.kubernetes.observeProgramming(kind, triggerMs),
        onWatchToAnswer: (seconds) => metrics.kubernetes.observeWatchToAnswer(seconds),
      });
      observed.watches = () => source.statuses();
      stops.push(() => source.stop());
      if (config.snapshot) {
        const writer = startSnapshotWriter({
          ...config.snapshot,
          zone: config.zone,
          index,
          logger,
          live: () => listed.size === KINDS.length,
          // When every kind last heard from the API server (a list, an event, a bookmark).
          heardAt: () => {
            const times = source.statuses().map((s) => s.lastEventAt);
            return times.length === 0 || times.includes(null) ? null : Math.min(...(times as number[]));
          },
        });
        // Registered after the source, so it runs before the source stops: the last write at shutdown.
        stops.push(() => writer.stop());
      }
    }

    const zone = new KubernetesZone({ index, zone: config.zone, ttl: config.ttl, pods: config.pods });
    const log = logger.child({ component: 'server' });
    const forwarding = config.forward.upstreams.length > 0 || config.forward.stubDomains.length > 0;
    const forwarder = forwarding ? new Forwarder({ config: config.forward, logger }) : null;
    if (forwarder) {
      stops.push(() => forwarder.close());
      observed.forward = forwarder.stats;
      observed.cache = forwarder.cacheStats;
    }
    // transport → [autopath] → cluster zone (ExternalName CNAMEs chased upstream) → forward + cache
    const zoneHandler = forwarder ? new ExternalNameChaser(zone, forwarder) : zone;
    const handlers: Handler[] = [];
    if (config.forward.autopath) {
      handlers.push(new Autopath({ index, zone: zoneHandler, zoneName: config.zone, forwarder, ttl: config.ttl, search: config.forward.autopathSearch }));
    }
    handlers.push(zoneHandler);
    if (forwarder) handlers.push(forwarder.cacheHandler(), forwarder);
    const countersOptions = { servers: config.listen.length, zones: [config.zone], plugins: handlers.map((h) => h.name) };
    const counters = new QueryCounters(countersOptions);
    let lameduck = false;
    const readiness = {
      notReadyReason: () =>
        lameduck ? 'lameduck' : index.synced ? null : `kubernetes: not synced yet (${index.unsyncedKinds().join(', ')})`,
    };
    const limited = rateLimitedLog(log, { onSuppressed: (n) => metrics.process.countSuppressedLog(n) });
    const processor = new QueryProcessor({
      handlers,
      maxUdpSize: config.maxUdpSize,
      onError: (err) => limited('error', 'query failed', { err }, 'query failed'),
      // With --metrics off the query path skips the counting (and the clock reads) altogether.
      ...(config.metrics ? { counters } : {}),
      onQuery: config.logQueries ? queryLogger(logger.child({ component: 'query' }), config.logQueriesSample) : undefined,
    });
    const counted = (): CountedParts => ({
      stats: processor.stats,
      counters: config.metrics ? counters : null,
      cache: observed.cache ?? null,
      forward: observed.forward ?? null,
    });
    // With --workers, /metrics reports the sums over every process (src/replica/totals.ts).
    const totals = tuning.peers ? new CounterTotals(counted, countersOptions) : null;
    const listeners = await named('--listen', () =>
      startListeners(config.listen, processor, {
        tcpIdleTimeoutMs: config.tcpIdleTimeoutMs,
        tcpMaxConnections: config.tcpMaxConnections,
        tcpMaxConnectionsPerClient: config.tcpMaxConnectionsPerClient,
        udpReceiveBuffer: config.udpReceiveBuffer,
        busyPollUs: config.busyPollUs,
        udpIo: config.udpIo,
        reusePort: tuning.reusePort === true || tuning.replica !== undefined,
      }),
    );
    stops.push(() => listeners.close());
    metrics.setServers(listeners.addresses().map((a) => serverLabel(a.host, a.port)));
    dnsPorts = listeners.addresses().map((a) => a.port);

    let health: HttpEndpoint | null = null;
    let ready: HttpEndpoint | null = null;
    let metricsEndpoint: HttpEndpoint | null = null;
    let debugEndpoint: HttpEndpoint | null = null;
    if (config.health) {
      const at = config.health;
      health = await named('--health', () => startHttpEndpoint(at, healthRoutes()));
      stops.push(() => health?.close());
      const stopProbe = startHealthProbe(health.address, (seconds, ok) => metrics.process.observeHealth(seconds, ok));
      stops.push(stopProbe);
    }
    // A --workers replica counts (for the watching process's scrapes) but serves no endpoint.
    if (config.metrics && !tuning.replica) {
      const peers = tuning.peers;
      // Rendered at most once a second, whatever the number of scrapers.
      const scrape = new RenderedText(async () => {
        if (totals && peers) totals.refresh(await peers.collect());
        return metrics.text();
      });
      const at = config.metrics;
      metricsEndpoint = await named('--metrics', () =>
        startHttpEndpoint(at, {
          '/metrics': async () => ({ status: 200, body: await scrape.get(), contentType: metrics.contentType }),
        }),
      );
      stops.push(() => metricsEndpoint?.close());
    }
    // Opt-in and on loopback only (config.ts refuses anything else): it names index objects that
    // the DNS answers themselves do not reveal.
    if (config.debugEndpoints && !tuning.replica) {
      const at = config.debugEndpoints;
      debugEndpoint = await named('--debug-endpoints', () => startHttpEndpoint(at, debugRoutes(zone, index, config.zone)));
      stops.push(() => debugEndpoint?.close());
    }
    if (config.ready) {
      const at = config.ready;
      ready = await named('--ready', () => startHttpEndpoint(at, readyRoutes(readiness)));
      stops.push(() => ready?.close());
    }
    if (forwarder) {
      // Our listeners are up: a loop probe that comes back can be caught now.
      forwarder.start();
    } else {
      logger.warn({ from: config.forward.upstreamsFrom }, 'no upstreams: names outside the cluster zone get REFUSED');
    }
    const dns = listeners.addresses();
    // What was bound (ports chosen for 0 resolved); the rest of the config is in `starting` and,
    // whole, in the debug line `config`.
    logger.info(
      {
        dns,
        udpIo: listeners.udpIo,
        health: health?.address ?? null,
        ready: ready?.address ?? null,
        metrics: metricsEndpoint?.address ?? null,
        debug: debugEndpoint?.address ?? null,
      },
      'serving',
    );
    return {
      index,
      processor,
      dns,
      health: health?.address ?? null,
      ready: ready?.address ?? null,
      metrics: metricsEndpoint?.address ?? null,
      debug: debugEndpoint?.address ?? null,
      registry: metrics,
      counted,
      lameduck: () => {
        if (lameduck) return;
        lameduck = true;
        metrics.process.setLameduck(true);
        logger.info({ lameduckMs: config.lameduckMs }, 'lameduck');
      },
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** A bind failure named by the flag that asked for the address. */
async function named<T>(flag: string, bind: () => Promise<T>): Promise<T> {
  try {
    return await bind();
  } catch (err) {
    throw err instanceof BindError ? err.forFlag(flag) : err;
  }
}

/**
 * Serves the last snapshot until the live sync replaces it; a missing or unusable file only
 * means starting empty (and SERVFAIL until the sync), never a failed start.
 */
function restoreFromSnapshot(snapshot: NonNullable<Config['snapshot']>, zone: string, index: ClusterIndex, logger: Logger): boolean {
  const { path } = snapshot;
  if (!existsSync(path)) {
    logger.info({ path }, 'no snapshot yet');
    return false;
  }
  try {
    const started = performance.now();
    const restored = restoreSnapshot(path, index, { zone, maxBytes: snapshot.maxBytes, maxAgeMs: snapshot.maxAgeMs });
    if (restored.dropped > 0) {
      logger.warn({ path, dropped: restored.dropped, problems: restored.problems }, 'snapshot objects that fail the checks were left out');
    }
    logger.warn(
      { path, writtenAt: new Date(restored.writtenAt).toISOString(), size: formatBytes(restored.bytes), counts: restored.counts, dropped: restored.dropped, ms: Math.round(performance.now() - started) },
      'serving from snapshot until the live sync',
    );
    return true;
  } catch (err) {
    if (!(err instanceof SnapshotError)) throw err;
    logger.warn({ path, err: err.message }, 'snapshot ignored');
    return false;
  }
}

/**
 * The opt-in query log: one line per answered query (CoreDNS's `log` plugin fields), for a
 * `sample` fraction of queries. ~2.5 µs a line, hence off by default.
 */
function queryLogger(log: Logger, sample: number): QueryObserver {
  return (query, context, rcode, plugin, replySize, seconds) => {
    if (sample < 1 && Math.random() >= sample) return;
    log.info(
      {
        remote: context.remoteAddress,
        id: query.id,
        // A FORMERR for a question that could not be read has neither.
        name: query.questionEnd === 0 ? null : query.name === '' ? '.' : `${query.name}.`,
        type: query.questionEnd === 0 ? null : typeName(query.type),
        proto: context.protocol,
        do: query.edns?.dnssecOk ?? false,
        rcode: rcodeName(rcode),
        plugin,
        rsize: replySize,
        // Milliseconds, to the microsecond: from the query's arrival to its reply.
        ms: Math.round(seconds * 1e6) / 1000,
      },
      'query',
    );
  };
}
