// cluster-dns: parse the flags, start, stop on SIGTERM/SIGINT. Everything else is in app.ts.
// Loaded by main.ts once the Node.js version is known to be enough and the memory settings are
// in place.
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { LIVE_OPTIONS, startClusterDns } from './app.ts';
import { BindError } from './server/bind-error.ts';
import { KubeConfigError } from './kube/open.ts';
import { ManifestError } from './index/manifests.ts';
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import {
  BUNDLED_EXAMPLE,
  ConfigError,
  configForPlan,
  formatHostPort,
  loadConfiguration,
  OPTIONS,
  USAGE,
  type Config,
  type HostPort,
} from './config.ts';
import { describeConfiguration } from './config/check.ts';
import { CorefileError } from './corefile/errors.ts';
import { startReloading } from './config/reload.ts';
import type { Plan } from './corefile/directives/index.ts';
import { memoryLimit } from './launch.ts';
import { createLogger, type Logger } from './base/log.ts';
import { isReplica, ReplicaFeed, reportCounters, startReplicas, type Replicas } from './replica/workers.ts';
import { resolveUdpIo, UdpIoUnavailableError } from './server/udp.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function fail(message: string): never {
  process.stderr.write(`cluster-dns: ${message}\n`);
  process.exit(2);
}

function describeSource(source: Config['source']): string {
  if (source.kind === 'manifests') return `--manifests ${source.path}`;
  if (source.kubeconfig !== null) return `--kubeconfig ${source.kubeconfig}`;
  return process.env.KUBECONFIG ? `$KUBECONFIG ${process.env.KUBECONFIG}` : 'the in-cluster service account';
}

/** What main.ts's re-execution gave this process: the memory limit, V8's heap limit, the Node flags. */
function memorySettings() {
  const limit = memoryLimit(process.argv.slice(2), process.constrainedMemory());
  return {
    limitMiB: limit ? Math.round(limit.bytes / 1048576) : null,
    limitFrom: limit?.from ?? null,
    heapLimitMiB: Math.round(v8.getHeapStatistics().heap_size_limit / 1048576),
    nodeFlags: process.execArgv,
  };
}

function digHost({ host, port }: HostPort): string {
  const target = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `dig @${target}${port === 53 ? '' : ` -p ${port}`}`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  // --check validates what a start would use; a missing cluster source is the machine's, not the file's.
  const checking = argv.includes('--check');
  let parsed;
  try {
    parsed = await loadConfiguration(argv, {
      env: process.env,
      fileExists: existsSync,
      readText: (path) => readFileSync(path, 'utf8'),
      sourceMayBeMissing: checking,
    });
  } catch (err) {
    if (err instanceof ConfigError || err instanceof CorefileError) fail(err.message);
    throw err;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`cluster-dns ${VERSION}\n`);
    return;
  }
  const config = parsed.config;
  if (config.check) {
    process.stdout.write(describeConfiguration(OPTIONS, parsed.assignments, parsed.plan, parsed.implied));
    return;
  }
  const plan = parsed.plan;
  try {
    resolveUdpIo(config.udpIo);
  } catch (err) {
    if (err instanceof UdpIoUnavailableError) fail(err.message);
    throw err;
  }
  const logger = createLogger(config.logLevel, { format: config.logFormat });
  if (isReplica()) {
    await runReplica(config, logger, parsed.plan, argv);
    return;
  }
  // One short line; the whole config follows at debug.
  logger.info(
    {
      version: VERSION,
      node: process.version,
      source: describeSource(config.source),
      listen: config.listen.map(formatHostPort),
      upstreams: config.forward.upstreams.map(formatHostPort),
    },
    'starting',
  );
  // The whole Config: paths, addresses and numbers only (credentials stay in the kubeconfig).
  logger.debug({ config, memory: memorySettings() }, 'config');

  let app;
  let replicas: Replicas | null = null;
  try {
    // /metrics sums the workers' counters (asked at each scrape) with this process's.
    const peers = { collect: () => replicas?.collect() ?? Promise.resolve([]) };
    app = await startClusterDns(config, logger, VERSION, {
      reusePort: config.workers > 1,
      ...(config.workers > 1 ? { peers } : {}),
      ...(plan ? { plan } : {}),
    });
    if (config.workers > 1) replicas = startReplicas(config.workers - 1, app.index, app.dns, logger);
  } catch (err) {
    if (err instanceof ManifestError) fail(`--manifests: ${err.message}`);
    if (err instanceof KubeConfigError || err instanceof BindError) fail(err.message);
    throw err;
  }

  // The Corefile's edits: its handlers swap in as they are saved (options at the next start).
  const running = app;
  const reloading =
    plan && config.conf !== null
      ? await startReloading(running, config.conf, { logger, metrics: running.registry.process, running: plan, ...liveReload(argv) })
      : null;

  // The bundled example: say how to try it (these names exist in examples/cluster.yaml).
  if (config.source.kind === 'manifests' && resolve(config.source.path) === BUNDLED_EXAMPLE && config.zone === 'cluster.local') {
    const dig = digHost(app.dns[0]!);
    process.stderr.write(
      `\nServing the example cluster in examples/cluster.yaml. Try:\n` +
        `  ${dig} web.shop.svc.cluster.local A\n` +
        `  ${dig} _postgres._tcp.db.data.svc.cluster.local SRV\n` +
        `  ${dig} -x 10.96.10.20\n\n`,
    );
  }

  // SIGTERM: lameduck first, as CoreDNS's `health { lameduck }` does. /ready turns 503 so the
  // endpoint leaves the Service while DNS still answers the clients that have not noticed yet;
  // then the sockets close. SIGINT (or a second signal) closes at once.
  let closing = false;
  let lameduckTimer: NodeJS.Timeout | null = null;
  const close = (signal: string) => {
    if (closing) return;
    closing = true;
    if (lameduckTimer !== null) clearTimeout(lameduckTimer);
    logger.info({ signal }, 'shutting down');
    reloading?.close();
    Promise.resolve(replicas?.stop())
      .then(() => app.close())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => {
    if (lameduckTimer !== null || config.lameduckMs === 0) {
      close('SIGTERM');
      return;
    }
    app.lameduck();
    lameduckTimer = setTimeout(() => close('SIGTERM'), config.lameduckMs);
  });
  process.on('SIGINT', () => close('SIGINT'));
}

/** A --workers replica: the watching process's index, the same handlers, the shared ports. */
/** What a reload needs to apply the Corefile's live options: the same flags, the same machine. */
function liveReload(argv: readonly string[]) {
  const host = { env: process.env, fileExists: existsSync, readText: (path: string) => readFileSync(path, 'utf8') };
  return { configure: (plan: Plan) => configForPlan(argv, plan, host), live: LIVE_OPTIONS };
}

async function runReplica(config: Config, logger: Logger, plan: Plan | null, argv: readonly string[]): Promise<void> {
  const feed = new ReplicaFeed();
  await feed.start();
  const app = await startClusterDns(
    // --metrics stays set so that queries are counted; the watching process serves the sums.
    { ...config, listen: feed.listen, health: null, ready: null, debugEndpoints: null, snapshot: null, workers: 1 },
    logger.child({ worker: process.pid }),
    VERSION,
    { replica: feed, ...(plan ? { plan } : {}) },
  );
  reportCounters(() => app.counted());
  // Each replica reads the Corefile's edits itself, as the watching process does.
  const reloading =
    plan && config.conf !== null
      ? await startReloading(app, config.conf, { logger, metrics: app.registry.process, running: plan, ...liveReload(argv) })
      : null;
  const close = () => {
    reloading?.close();
    void app.close().then(() => process.exit(0));
  };
  // The watching process went away (or asked us to stop): nothing feeds the index any more.
  process.on('disconnect', close);
  process.on('SIGTERM', close);
  process.on('SIGINT', close);
}

main().catch((err: unknown) => {
  process.stderr.write(`cluster-dns: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
