// A live cluster as the index's source: four reflectors (Namespaces, Services, EndpointSlices,
// Pods) on one KubeConfig, each listing and watching its kind as src/objects/ describes it (path,
// field selector, protobuf reader, converter, key).
import { existsSync } from 'node:fs';
import { KubeConfig } from './client-node.ts';
import { KubeConfigError } from './kubeconfig-error.ts';
import { ClientNodeApi } from './api.ts';
import type { KubernetesApi } from './types.ts';
import { SERVICE_NAME_LABEL } from '../objects/endpoint-slice.ts';
import { type ConvertOptions, type Kind, OBJECT_KINDS, objectKinds } from '../objects/kinds.ts';
import type { RawObject } from '../objects/meta.ts';
import { Reflector, type ReflectorOptions, type ReflectorStatus, type ResourceSpec } from './reflector.ts';
import { IN_CLUSTER_TOKEN } from './options.ts';
import { ListedKinds, type ListedListener, type Source } from '../index/source.ts';

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
  const credentials =
    user &&
    (user.token ||
      user.password ||
      user.keyData ||
      user.keyFile ||
      user.authProvider ||
      user.exec ||
      (user as { tokenFile?: string }).tokenFile);
  if (credentials && isClearTextRemote(cluster.server)) {
    // A bearer token or password sent in clear text to another machine is a token anyone on the path can use.
    throw new KubeConfigError(
      `kubeconfig ${where}: refusing to send the user's credentials to ${cluster.server} over plain http (use https, or kubectl proxy on loopback)`,
    );
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

/** Each reflector's own options, passed on to all four. */
export interface KubernetesSourceOptions
  extends Pick<
    ReflectorOptions<Kind>,
    'index' | 'logger' | 'pageSize' | 'watchTimeoutSeconds' | 'stallTimeoutMs' | 'backoff' | 'progressIntervalMs'
  > {
  readonly kubeConfig?: KubeConfig;
  /** What the zone's options change in the records (endpoint_pod_names). */
  readonly convert?: ConvertOptions;
  /** Instead of a KubeConfig (tests). */
  readonly api?: KubernetesApi;
  /** An EndpointSlice change carrying `endpoints.kubernetes.io/last-change-trigger-time` reached the index. */
  readonly onProgramming?: (serviceKind: 'cluster_ip' | 'headless_with_selector' | 'headless_without_selector', triggerMs: number) => void;
  /** A watch event reached the index, `seconds` after it was read off the wire. */
  readonly onWatchToAnswer?: (seconds: number) => void;
}

const TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';
const MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';

/** One reflector per kind on one API client; each full list (sync, relist) is a listed event. */
export class KubernetesSource implements Source {
  readonly #options: KubernetesSourceOptions;
  readonly #api: KubernetesApi;
  readonly #reflectors: Reflector<Kind>[];
  readonly #listed: ListedKinds;
  #started: Promise<void> | null = null;

  constructor(options: KubernetesSourceOptions) {
    this.#options = options;
    const { index, logger } = options;
    this.#api = options.api ?? new ClientNodeApi(options.kubeConfig ?? failNoConfig());
    this.#listed = new ListedKinds(logger);
    const onListed = (kind: Kind, first: boolean) => this.#listed.listed(kind, first);
    const resources = Object.values(options.convert ? objectKinds(options.convert) : RESOURCES) as ResourceSpec<Kind>[];
    this.#listed.expect(resources.map((r) => r.kind));
    this.#reflectors = resources.map((resource) => {
      const onApplied = (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: RawObject, receivedAt: number) => {
        options.onWatchToAnswer?.((performance.now() - receivedAt) / 1000);
        if (resource.kind === 'EndpointSlice') this.#programming(type, obj);
      };
      return new Reflector({
        resource,
        api: this.#api,
        index,
        logger,
        onApplied,
        onListed,
        ...(options.pageSize !== undefined ? { pageSize: options.pageSize } : {}),
        ...(options.watchTimeoutSeconds !== undefined ? { watchTimeoutSeconds: options.watchTimeoutSeconds } : {}),
        ...(options.stallTimeoutMs !== undefined ? { stallTimeoutMs: options.stallTimeoutMs } : {}),
        ...(options.backoff !== undefined ? { backoff: options.backoff } : {}),
        ...(options.progressIntervalMs !== undefined ? { progressIntervalMs: options.progressIntervalMs } : {}),
      });
    });
  }

  /** Starts the reflectors; the lists run on from there (`synced()` and the index say when they are done). */
  start(): Promise<void> {
    if (this.#started) return this.#started;
    // At once, not a turn later: the index knows from here on which kinds it waits for.
    const log = this.#options.logger.child({ component: 'kubernetes' });
    if (this.#api instanceof ClientNodeApi) log.info({ server: this.#api.server }, 'watching the cluster');
    this.#options.index.require(this.#reflectors.map((r) => r.kind));
    for (const reflector of this.#reflectors) reflector.start();
    this.#started = Promise.resolve();
    return this.#started;
  }

  async stop(): Promise<void> {
    this.#listed.stop();
    await Promise.all(this.#reflectors.map((r) => r.stop()));
    await this.#api.close?.();
  }

  synced(): boolean {
    return this.#listed.synced();
  }

  onListed(listener: ListedListener): void {
    this.#listed.onListed(listener);
  }

  statuses(): ReflectorStatus[] {
    return this.#reflectors.map((r) => r.status());
  }

  /** When every kind last heard from the API server (a list, an event, a bookmark); null before. */
  heardAt(): number | null {
    const times = this.statuses().map((s) => s.lastEventAt);
    return times.length === 0 || times.includes(null) ? null : Math.min(...(times as number[]));
  }

  #programming(type: string, obj: RawObject): void {
    const { index, onProgramming } = this.#options;
    if (!onProgramming || type === 'DELETED') return;
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
    onProgramming(kind, trigger);
  }
}

/** A KubernetesSource, started (tests). */
export function startKubernetesSource(options: KubernetesSourceOptions): KubernetesSource {
  const source = new KubernetesSource(options);
  void source.start();
  return source;
}

function failNoConfig(): never {
  throw new KubeConfigError('no kubeconfig and no API client given');
}
