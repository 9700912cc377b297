// A live cluster as the index's source: four reflectors (Namespaces, Services, EndpointSlices,
// Pods) on one KubeConfig, each listing and watching its kind as src/objects/ describes it (path,
// field selector, protobuf reader, converter, key).
import { existsSync } from 'node:fs';
import { KubeConfig } from './client-node.ts';
import { KubeConfigError } from './kubeconfig-error.ts';
import { ClientNodeApi } from './api.ts';
import type { KubernetesApi } from './types.ts';
import type { ClusterIndex } from '../index/index.ts';
import { SERVICE_NAME_LABEL } from '../objects/endpoint-slice.ts';
import { type Kind, OBJECT_KINDS } from '../objects/kinds.ts';
import type { RawObject } from '../objects/meta.ts';
import { Reflector, type ReflectorStatus, type ResourceSpec } from './reflector.ts';
import { IN_CLUSTER_TOKEN } from '../config.ts';
import type { Logger } from '../observe/log.ts';

/**
 * The KubeConfig for `path`, else $KUBECONFIG (a ':'-list, merged), else the pod's service
 * account; null when there is none. Never client-node's silent fallback to localhost:8080.
 */
export function loadKubeConfig(path?: string, env: NodeJS.ProcessEnv = process.env): KubeConfig | null {
  const config = new KubeConfig();
  let where: string;
  try {
    if (path) {
      where = path;
      config.loadFromFile(path);
    } else if (env.KUBECONFIG) {
      where = `$KUBECONFIG (${env.KUBECONFIG})`;
      const missing = env.KUBECONFIG.split(':').filter((p) => p !== '' && !existsSync(p));
      if (missing.length > 0) throw new Error(`no such file: ${missing.join(', ')}`);
      config.loadFromDefault();
    } else if (env.KUBERNETES_SERVICE_HOST && existsSync(IN_CLUSTER_TOKEN)) {
      where = 'the in-cluster service account';
      config.loadFromCluster();
    } else {
      return null;
    }
  } catch (err) {
    throw new KubeConfigError(`kubeconfig ${path ?? env.KUBECONFIG ?? ''}: ${((err as Error).message ?? String(err)).split('\n')[0]}`);
  }
  const cluster = config.getCurrentCluster();
  if (!cluster?.server) throw new KubeConfigError(`kubeconfig ${where}: no current context with a cluster server`);
  const user = config.getCurrentUser();
  const credentials = user && (user.token || user.password || user.keyData || user.keyFile || user.authProvider || user.exec || (user as { tokenFile?: string }).tokenFile);
  if (credentials && isClearTextRemote(cluster.server)) {
    // A bearer token or password sent in clear text to another machine is a token anyone on the path can use.
    throw new KubeConfigError(`kubeconfig ${where}: refusing to send the user's credentials to ${cluster.server} over plain http (use https, or kubectl proxy on loopback)`);
  }
  return config;
}

/** An http:// server that is not this machine's loopback. */
function isClearTextRemote(server: string): boolean {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return false; // client-node reports the malformed URL at the first request
  }
  if (url.protocol !== 'http:') return false;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return !(host === 'localhost' || host.startsWith('127.') || host === '::1');
}

/** What each reflector lists and watches: every kind, as its module in src/objects/ describes it. */
export const RESOURCES: { readonly [K in Kind]: ResourceSpec<K> } = OBJECT_KINDS;

export interface KubernetesSourceOptions {
  readonly kubeConfig?: KubeConfig;
  /** Instead of a KubeConfig (tests). */
  readonly api?: KubernetesApi;
  readonly index: ClusterIndex;
  readonly logger: Logger;
  readonly pageSize?: number;
  readonly watchTimeoutSeconds?: number;
  readonly stallTimeoutMs?: number;
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** While a list runs, a progress line this often per kind (default 5 s; 0 for none). */
  readonly progressIntervalMs?: number;
  /** An EndpointSlice change carrying `endpoints.kubernetes.io/last-change-trigger-time` reached the index. */
  readonly onProgramming?: (serviceKind: 'cluster_ip' | 'headless_with_selector' | 'headless_without_selector', triggerMs: number) => void;
  /** A kind finished a full list (the first sync or a relist). */
  readonly onListed?: (kind: Kind, first: boolean) => void;
  /** A watch event reached the index, `seconds` after it was read off the wire. */
  readonly onWatchToAnswer?: (seconds: number) => void;
}

export interface KubernetesSource {
  statuses(): ReflectorStatus[];
  stop(): Promise<void>;
}

const TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';
const MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';

export function startKubernetesSource(options: KubernetesSourceOptions): KubernetesSource {
  const { index, logger } = options;
  const api = options.api ?? new ClientNodeApi(options.kubeConfig ?? failNoConfig());
  const log = logger.child({ component: 'kubernetes' });
  if (api instanceof ClientNodeApi) log.info({ server: api.server }, 'watching the cluster');

  const programming = (type: string, obj: RawObject) => {
    if (!options.onProgramming || type === 'DELETED') return;
    const trigger = Date.parse(obj.metadata?.annotations?.[TRIGGER_TIME] ?? '');
    if (Number.isNaN(trigger)) return;
    const labels = obj.metadata?.labels ?? {};
    const svc = index.service((obj.metadata?.namespace ?? '').toLowerCase(), (labels[SERVICE_NAME_LABEL] ?? '').toLowerCase());
    if (!svc || svc.kind === 'ExternalName') return;
    const kind =
      svc.kind === 'ClusterIP'
        ? 'cluster_ip'
        : labels[MANAGED_BY] === 'endpointslice-controller.k8s.io'
          ? 'headless_with_selector'
          : 'headless_without_selector';
    options.onProgramming(kind, trigger);
  };

  const reflectors = (Object.values(RESOURCES) as ResourceSpec<Kind>[]).map((resource) => {
    const onApplied = (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: RawObject, receivedAt: number) => {
      options.onWatchToAnswer?.((performance.now() - receivedAt) / 1000);
      if (resource.kind === 'EndpointSlice') programming(type, obj);
    };
    return new Reflector({
      resource,
      api,
      index,
      logger,
      onApplied,
      ...(options.onListed ? { onListed: options.onListed } : {}),
      ...(options.pageSize !== undefined ? { pageSize: options.pageSize } : {}),
      ...(options.watchTimeoutSeconds !== undefined ? { watchTimeoutSeconds: options.watchTimeoutSeconds } : {}),
      ...(options.stallTimeoutMs !== undefined ? { stallTimeoutMs: options.stallTimeoutMs } : {}),
      ...(options.backoff !== undefined ? { backoff: options.backoff } : {}),
      ...(options.progressIntervalMs !== undefined ? { progressIntervalMs: options.progressIntervalMs } : {}),
    });
  });
  index.require(reflectors.map((r) => r.kind));
  for (const reflector of reflectors) reflector.start();
  return {
    statuses: () => reflectors.map((r) => r.status()),
    stop: async () => {
      await Promise.all(reflectors.map((r) => r.stop()));
      await api.close?.();
    },
  };
}

function failNoConfig(): never {
  throw new KubeConfigError('no kubeconfig and no API client given');
}
