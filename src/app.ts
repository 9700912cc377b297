// Wires the parts together: a cluster source feeds the index, the zone answers from it, the
// processor runs the handler chain for both transports. cli.ts only parses flags and signals;
// tests start the same thing in-process.
import { ClusterIndex } from './index/index.ts';
import { objectKinds, type ConvertOptions } from './objects/kinds.ts';
import { ManifestSource } from './index/manifests.ts';
import { restoreSnapshotThenWrite, type SnapshotHandover } from './index/snapshot-handover.ts';
import type { Source } from './index/source.ts';
import { openKubernetesSource, type KubernetesSource, type KubernetesSourceOptions } from './kube/open.ts';
import type { Config, HostPort } from './config.ts';
import { healthRoutes, readyRoutes, ServingReadiness, startHealthProbe, startHttpEndpoint, type HttpEndpoint } from './observe/health.ts';
import { debugRoutes } from './observe/debug.ts';
import { rateLimitedLog, stdoutLines, type Logger } from './base/log.ts';
import { Metrics, RenderedText, serverLabel, type WatchStatus } from './observe/metrics.ts';
import { QueryCounters } from './server/counters.ts';
import { CounterTotals, type CountedParts, type CountersSnapshot } from './replica/totals.ts';
import { udpKernelStats } from './server/kernel.ts';
import { startListeners } from './server/listen.ts';
import { BindError } from './server/bind-error.ts';
import { QueryProcessor, type QueryObserver } from './server/processor.ts';
import { CACHE_OPTIONS, FORWARD_OPTIONS } from './upstream/options.ts';
import { queryLogger } from './observe/query-log.ts';
import type { CacheStats, ForwardStats } from './upstream/stats.ts';
import { KubernetesZone } from './zone/kubernetes.ts';
import { clusterHandlers } from './upstream/chain.ts';
import { Forwarder } from './upstream/forward.ts';
import type { Handler, RecordOrder } from './dns/message.ts';
import type { Plan } from './corefile/directives/index.ts';
import { buildPlugins, hostsKey } from './corefile/plugins.ts';
import { Chain } from './plugins/chain.ts';
import { PluginStage } from './plugins/stage.ts';

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
  /**
   * A reloaded Corefile's handlers, swapped in at once; hosts handlers whose options did not
   * change are kept. With `config` (the options it sets, with the flags), the options of
   * LIVE_OPTIONS apply too: a new zone for new answer options, a new forwarder for new upstreams
   * (the cache kept but for names whose upstreams changed), the query log; the index always
   * stays. Returns the options of LIVE_OPTIONS it could not apply. Only with `tuning.plan`.
   */
  applyPlan(plan: Plan, config?: Config): readonly string[];
  close(): Promise<void>;
}

/** Counters of parts built elsewhere (the forwarder, the cache, the watches), read at scrape time. */
export interface ObservedParts {
  forward?: ForwardStats | null;
  cache?: CacheStats | null;
  watches?: (() => Iterable<WatchStatus>) | null;
}

/** Knobs that are not flags: tests and benchmarks shorten the API retry timings with them. */
export interface Tuning {
  readonly kubernetes?: Pick<
    KubernetesSourceOptions,
    'backoff' | 'stallTimeoutMs' | 'pageSize' | 'watchTimeoutSeconds' | 'progressIntervalMs'
  >;
  /**
   * A --workers replica: its source is the watching process's feed (over IPC, holding the index),
   * so no cluster source is opened here, and the sockets share their ports.
   */
  readonly replica?: Source & { readonly index: ClusterIndex };
  /** SO_REUSEPORT on the DNS sockets (the watching process, when there are --workers). */
  readonly reusePort?: boolean;
  /**
   * The --workers replicas' counters, asked for at every scrape (in the watching process), so
   * /metrics reports the sums over all processes.
   */
  readonly peers?: { collect(): Promise<readonly CountersSnapshot[]> };
  /** A compiled Corefile (--conf): its blocks' handlers in front of the cluster chain. */
  readonly plan?: Plan;
  /** Where CoreDNS-format query lines go (tests); stdout by default. */
  readonly queryLines?: (line: string) => void;
}

export async function startClusterDns(config: Config, logger: Logger, version = '0.0.0', tuning: Tuning = {}): Promise<ClusterDns> {
  const index = tuning.replica?.index ?? new ClusterIndex();
  // Filled in as the parts that own these counters are started.
  const observed: ObservedParts = {};
  let snapshots: SnapshotHandover | null = null;
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
      servingSnapshot: () => snapshots?.serving() ?? false,
      udpKernel: () => udpKernelStats(new Set(dnsPorts)),
    });
    const source = tuning.replica ?? (await openSource(config, index, logger, metrics, tuning));
    stops.push(() => source.stop());
    if (isKubernetes(source)) {
      observed.watches = () => source.statuses();
      if (config.snapshot) {
        // Restored before the source starts filling the index. Stops run in reverse, so the
        // writer stops before the source: the last write at shutdown.
        const handover = restoreSnapshotThenWrite({
          ...config.snapshot,
          zone: config.zone,
          kinds: objectKinds(convertOptions(config).convert),
          index,
          logger,
          source,
        });
        snapshots = handover;
        stops.push(() => handover.stop());
      }
    }
    await source.start();

    const log = logger.child({ component: 'server' });
    // The zone's answers and the forwarder (with its cache): a Corefile reload may rebuild them.
    let { parts } = clusterParts(config, index, logger, null);
    // CoreDNS-format query lines go to stdout, as CoreDNS's log plugin writes them; one writer.
    let stdout: ((line: string) => void) | null = null;
    const queryLines = () => tuning.queryLines ?? (stdout ??= stdoutLines());
    let running = config;
    const retired: Forwarder[] = [];
    stops.push(() => {
      parts.forwarder?.close();
      for (const f of retired) f.close();
    });
    const observeForwarder = (forwarder: Forwarder | null) => {
      observed.forward = forwarder?.stats ?? null;
      observed.cache = forwarder?.cacheStats ?? null;
    };
    observeForwarder(parts.forwarder);
    const handlers = [...parts.handlers];
    // A Corefile's blocks come first; a block without handlers of its own passes to the cluster chain.
    const corefile = tuning.plan ? startPlugins(tuning.plan, new Chain(parts.handlers, 'cluster'), logger, version) : null;
    if (corefile) {
      handlers.unshift(corefile.stage);
      stops.push(() => corefile.stop());
    }
    const countersOptions = { servers: config.listen.length, zones: [config.zone], plugins: handlers.map((h) => h.name) };
    const counters = new QueryCounters(countersOptions);
    const readiness = new ServingReadiness(index, () => {
      metrics.process.setLameduck(true);
      logger.info({ lameduckMs: config.lameduckMs }, 'lameduck');
    });
    const limited = rateLimitedLog(log, { onSuppressed: (n) => metrics.process.countSuppressedLog(n) });
    const processor = new QueryProcessor({
      handlers,
      maxUdpSize: config.maxUdpSize,
      onError: (err) => limited('error', 'query failed', { err }, 'query failed'),
      // With --metrics off the query path skips the counting (and the clock reads) altogether.
      ...(config.metrics ? { counters } : {}),
      onQuery: queryLogOf(config, logger, queryLines) ?? undefined,
      ...(corefile?.recordOrder ? { recordOrder: corefile.recordOrder } : {}),
      // The stage answers CHAOS (chaos) and refuses the other classes itself.
      ...(corefile ? { otherClasses: true, nsid: corefile.nsid } : {}),
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
      debugEndpoint = await named('--debug-endpoints', () =>
        startHttpEndpoint(
          at,
          debugRoutes(() => parts.zone, index, config.zone),
        ),
      );
      stops.push(() => debugEndpoint?.close());
    }
    if (config.ready) {
      const at = config.ready;
      ready = await named('--ready', () => startHttpEndpoint(at, readyRoutes(readiness)));
      stops.push(() => ready?.close());
    }
    if (parts.forwarder) {
      // Our listeners are up: a loop probe that comes back can be caught now.
      parts.forwarder.start();
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
      lameduck: () => readiness.lameduck(),
      applyPlan: (plan: Plan, next?: Config) => {
        if (!corefile) throw new Error('applyPlan: started without a Corefile');
        let pending: string[] = [];
        let rest: Handler | null = null;
        if (next !== undefined) {
          const rebuilt = clusterParts(next, index, logger, { config: running, parts });
          pending = rebuilt.pending;
          running = rebuilt.config;
          if (rebuilt.parts !== parts) {
            const before = parts;
            parts = rebuilt.parts;
            processor.setHandlers([corefile.stage, ...parts.handlers]);
            rest = new Chain(parts.handlers, 'cluster');
            if (before.forwarder !== null && before.forwarder !== parts.forwarder) {
              // Queries in flight on the old forwarder finish before its sockets close.
              const old = before.forwarder;
              retired.push(old);
              setTimeout(() => {
                old.close();
                retired.splice(retired.indexOf(old), 1);
              }, running.forward.timeoutMs + 1_000).unref();
            }
            if (parts.forwarder !== before.forwarder) parts.forwarder?.start();
            observeForwarder(parts.forwarder);
          }
          processor.setOnQuery(queryLogOf(next, logger, queryLines));
        }
        const applied = corefile.apply(plan, rest);
        processor.setRecordOrder(applied.recordOrder);
        processor.setNsid(applied.nsid);
        return pending;
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

/** The cluster source --manifests or the kubeconfig names; not started yet. */
async function openSource(config: Config, index: ClusterIndex, logger: Logger, metrics: Metrics, tuning: Tuning): Promise<Source> {
  if (config.source.kind === 'manifests') {
    return new ManifestSource({ path: config.source.path, index, logger, maxBytes: config.source.maxBytes, ...convertOptions(config) });
  }
  return openKubernetesSource(config.source.kubeconfig, {
    index,
    logger,
    ...convertOptions(config),
    ...tuning.kubernetes,
    onProgramming: (kind, triggerMs) => metrics.kubernetes.observeProgramming(kind, triggerMs),
    onWatchToAnswer: (seconds) => metrics.kubernetes.observeWatchToAnswer(seconds),
  });
}

function isKubernetes(source: Source): source is KubernetesSource {
  return 'statuses' in source;
}

/** The zone's answers and what forwards: what a Corefile reload may rebuild while the index stays. */
interface ClusterParts {
  readonly zone: KubernetesZone;
  readonly forwarder: Forwarder | null;
  /** Behind the Corefile stage: [autopath] zone [cache forward]. */
  readonly handlers: readonly Handler[];
}

const ZONE_LIVE = ['ttl', 'pods', 'ignore-empty-service', 'fallthrough'];
const FORWARD_LIVE = [...Object.values(FORWARD_OPTIONS), ...Object.values(CACHE_OPTIONS)]
  .map((spec) => spec.flag)
  .filter((flag) => flag !== 'autopath');
const LOG_LIVE = ['log-queries', 'log-queries-sample', 'log-queries-format', 'log-queries-class', 'log-queries-zones'];

/**
 * The options a Corefile reload applies without a restart: the zone's answers, the upstreams and
 * their cache, the query log. The rest (addresses, the cluster source, what is watched) wait for
 * the next start.
 */
export const LIVE_OPTIONS: ReadonlySet<string> = new Set([...ZONE_LIVE, ...FORWARD_LIVE, ...LOG_LIVE]);

const sameZone = (a: Config, b: Config) =>
  a.ttl === b.ttl && a.pods === b.pods && a.ignoreEmptyService === b.ignoreEmptyService && a.fallthrough.join() === b.fallthrough.join();
const sameForward = (a: Config, b: Config) => JSON.stringify(a.forward) === JSON.stringify(b.forward);

/**
 * The parts for `config`; with `running`, what of them differs is rebuilt and the rest kept (the
 * same object when nothing differs). A change that would change the chain's shape (forwarding
 * turned on or off, autopath) is not applied: its options are returned as pending.
 */
function clusterParts(
  config: Config,
  index: ClusterIndex,
  logger: Logger,
  running: { readonly config: Config; readonly parts: ClusterParts } | null,
): { readonly parts: ClusterParts; readonly config: Config; readonly pending: string[] } {
  const forwarding = (c: Config) => c.forward.upstreams.length > 0 || c.forward.stubDomains.length > 0;
  let effective = config;
  const pending: string[] = [];
  if (running !== null) {
    const shapeChanges = forwarding(config) !== forwarding(running.config) || config.forward.autopath !== running.config.forward.autopath;
    if (shapeChanges) {
      pending.push(...FORWARD_LIVE, 'autopath');
      effective = { ...config, forward: running.config.forward };
    }
  }
  const zoneSame = running !== null && sameZone(effective, running.config);
  const forwardSame = running !== null && sameForward(effective, running.config);
  if (running !== null && zoneSame && forwardSame) return { parts: running.parts, config: effective, pending };
  const zone =
    running !== null && zoneSame
      ? running.parts.zone
      : new KubernetesZone({
          index,
          zone: effective.zone,
          ttl: effective.ttl,
          pods: effective.pods,
          ignoreEmptyService: effective.ignoreEmptyService,
          fallthrough: effective.fallthrough,
        });
  let forwarder: Forwarder | null;
  if (running !== null && forwardSame) forwarder = running.parts.forwarder;
  else if (!forwarding(effective)) forwarder = null;
  else {
    const previous = running?.parts.forwarder;
    forwarder = new Forwarder({ config: effective.forward, logger, cacheInFront: true, ...(previous ? { previous } : {}) });
  }
  const handlers = clusterHandlers({
    zone,
    index,
    zoneName: effective.zone,
    ttl: effective.ttl,
    forwarder,
    autopathSearch: effective.forward.autopath ? effective.forward.autopathSearch : null,
  });
  return { parts: { zone, forwarder, handlers }, config: effective, pending };
}

/** The query log --log-queries and its options ask for; null when off. */
function queryLogOf(config: Config, logger: Logger, lines: () => (line: string) => void): QueryObserver | null {
  if (!config.logQueries) return null;
  return queryLogger(
    logger.child({ component: 'query' }),
    { format: config.logQueriesFormat, classes: config.logQueriesClasses, zones: config.logQueriesZones, sample: config.logQueriesSample },
    lines(),
  );
}

/** What the zone's options change in the records a source makes; nothing when they are off. */
function convertOptions(config: Config): { convert?: ConvertOptions } {
  if (!config.endpointPodNames && !config.noEndpoints && config.namespaces.length === 0) return {};
  return { convert: { endpointPodNames: config.endpointPodNames, noEndpoints: config.noEndpoints, namespaces: config.namespaces } };
}

/** The Corefile's handlers, running: the stage, the record order, and the hosts files' polling. */
function startPlugins(plan: Plan, first: Handler, logger: Logger, version: string) {
  let rest = first;
  let built = buildPlugins(plan, rest, logger, { version });
  const stage = new PluginStage(built.blocks);
  for (const h of built.hosts) h.start();
  return {
    stage,
    recordOrder: built.recordOrder,
    nsid: built.nsid,
    /** Swaps in `next`'s handlers (ending in `cluster`, when it is new); returns what the processor applies to every reply. */
    apply(next: Plan, cluster: Handler | null = null): { recordOrder: RecordOrder | null; nsid: Uint8Array | null } {
      if (cluster !== null) rest = cluster;
      const kept = new Map(built.hosts.map((h) => [hostsKey(h.options), h]));
      const fresh = buildPlugins(next, rest, logger, { reuse: kept, version });
      for (const h of fresh.hosts) if (!built.hosts.includes(h)) h.start();
      stage.swap(fresh.blocks);
      for (const h of built.hosts) if (!fresh.hosts.includes(h)) h.stop();
      built = fresh;
      return { recordOrder: fresh.recordOrder, nsid: fresh.nsid };
    },
    stop(): void {
      for (const h of built.hosts) h.stop();
    },
  };
}
