// Wires the parts together: a cluster source feeds the index, the zone answers from it, the
// processor runs the handler chain for both transports. main.ts only parses flags and signals;
// tests start the same thing in-process.
import { ClusterIndex } from './cluster/index.ts';
import { startKubernetesSource, loadKubeConfig } from './cluster/kubernetes.ts';
import { startManifestSource } from './cluster/manifests.ts';
import type { Config, HostPort } from './config.ts';
import { healthRoutes, readyRoutes, startHttpEndpoint, type HttpEndpoint } from './observe/health.ts';
import type { Logger } from './observe/log.ts';
import { startListeners } from './server/listen.ts';
import { QueryProcessor } from './server/processor.ts';
import { KubernetesZone } from './zone/kubernetes.ts';

export interface ClusterDns {
  readonly index: ClusterIndex;
  readonly processor: QueryProcessor;
  /** The bound DNS addresses (port 0 resolved). */
  readonly dns: readonly HostPort[];
  readonly health: HostPort | null;
  readonly ready: HostPort | null;
  close(): Promise<void>;
}

export class StartupError extends Error {
  override name = 'StartupError';
  readonly code = 'CDNS_ERR_STARTUP';
}

export async function startClusterDns(config: Config, logger: Logger): Promise<ClusterDns> {
  const index = new ClusterIndex();
  const stops: (() => unknown)[] = [];
  const closeAll = async () => {
    for (const stop of stops.reverse()) await stop();
  };

  try {
    if (config.source.kind === 'manifests') {
      const source = startManifestSource({ path: config.source.path, index, logger });
      stops.push(() => source.stop());
    } else {
      const kubeConfig = loadKubeConfig(config.source.kubeconfig ?? undefined);
      if (!kubeConfig) throw new StartupError('no kubeconfig found: give --kubeconfig, set $KUBECONFIG, or run in a pod');
      const source = startKubernetesSource({ kubeConfig, index, logger });
      stops.push(() => source.stop());
    }

    const zone = new KubernetesZone({ index, zone: config.zone, ttl: config.ttl, pods: config.pods });
    const log = logger.child({ component: 'server' });
    const processor = new QueryProcessor({
      handlers: [zone],
      maxUdpSize: config.maxUdpSize,
      onError: (err) => log.error({ err }, 'query failed'),
    });
    const listeners = await startListeners(config.listen, processor, {
      tcpIdleTimeoutMs: config.tcpIdleTimeoutMs,
      tcpMaxConnections: config.tcpMaxConnections,
    });
    stops.push(() => listeners.close());

    const readiness = {
      notReadyReason: () => (index.synced ? null : `kubernetes: not synced yet (${index.unsyncedKinds().join(', ')})`),
    };
    let health: HttpEndpoint | null = null;
    let ready: HttpEndpoint | null = null;
    if (config.health) {
      health = await startHttpEndpoint(config.health, healthRoutes());
      stops.push(() => health?.close());
    }
    if (config.ready) {
      ready = await startHttpEndpoint(config.ready, readyRoutes(readiness));
      stops.push(() => ready?.close());
    }
    if (config.upstream.length > 0) {
      logger.warn({ upstream: config.upstream }, 'forwarding is not built yet: names outside the zone get REFUSED');
    }
    const dns = listeners.addresses();
    logger.info(
      {
        dns,
        health: health?.address ?? null,
        ready: ready?.address ?? null,
        zone: config.zone,
        ttl: config.ttl,
        pods: config.pods,
        source: config.source,
      },
      'serving',
    );
    return {
      index,
      processor,
      dns,
      health: health?.address ?? null,
      ready: ready?.address ?? null,
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
