// The two API server calls a reflector makes, on client-node's KubeConfig (kubeconfig files,
// in-cluster service account with token refresh, TLS, exec/OIDC auth) and its `Watch` class.
// Lists go through the same authenticated undici dispatcher as raw bytes: the generated list
// calls would turn every item into model classes only for us to throw them away.
import { HttpMethod, type KubeConfig, RequestContext, Watch } from './client-node.ts';
import { Agent, type Dispatcher } from 'undici';
import type { RawObject } from '../objects/meta.ts';
import type { KubernetesApi, ListPage, ListParams, WatchHandle, WatchParams } from './types.ts';
import { splitListPage } from './list-items.ts';
import { PROTOBUF_CONTENT_TYPE, readList, readStatus } from './protobuf.ts';
import { type Body, BodyBuffers, itemsThenRelease } from './body-buffers.ts';
import { ClusterDnsError } from '../base/errors.ts';

interface RawResponse {
  readonly status: number;
  readonly contentType: string;
  /** The body's bytes, in a pooled buffer: `body.release()` once they have been read. */
  readonly body: Body;
}

/**
 * A GET through undici's dispatcher, the body gathered from its chunks as they come. fetch() would
 * pass each chunk (a TLS record) through a web stream, which costs more than the gathering (figures
 * in bench/RESULTS.md, "Figures behind the code"). Nor does this ask for gzip, as fetch does on its own: inflating the lists would cost us more
 * CPU than the bytes cost the network, and the apiserver the deflating.
 */
function get(
  dispatcher: Dispatcher,
  buffers: BodyBuffers,
  url: URL,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    let controller: Dispatcher.DispatchController | null = null;
    const onAbort = () => controller?.abort(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    const body = buffers.body();
    let status = 0;
    let contentType = '';
    dispatcher.dispatch(
      { origin: url.origin, path: url.pathname + url.search, method: 'GET', headers },
      {
        onRequestStart(c) {
          controller = c;
          if (signal.aborted) c.abort(signal.reason as Error);
        },
        onResponseStart(_c, statusCode, responseHeaders) {
          status = statusCode;
          contentType = String(responseHeaders['content-type'] ?? '');
        },
        onResponseData(_c, chunk) {
          body.append(chunk);
        },
        onResponseEnd() {
          signal.removeEventListener('abort', onAbort);
          resolve({ status, contentType, body });
        },
        onResponseError(_c, err) {
          signal.removeEventListener('abort', onAbort);
          body.release();
          reject(err);
        },
      },
    );
  });
}

/**
 * Pages whose items are smaller than this on average are parsed whole: quicker for small items,
 * whose page of objects is small garbage anyway; real pods of a few KB are cut item by item
 * (bench/RESULTS.md, "Figures behind the code").
 */
const CUT_FROM_ITEM_BYTES = 1024;

/** A non-2xx answer from the API server, with its Status reason. */
export class ApiError extends ClusterDnsError {
  override name = 'ApiError';
  readonly code = 'CDNS_ERR_KUBE_API';
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export class ClientNodeApi implements KubernetesApi {
  readonly #config: KubeConfig;
  readonly #server: string;
  readonly #listTimeoutMs: number;
  #dispatcher: Dispatcher | undefined;
  readonly #bodies = new BodyBuffers();

  constructor(config: KubeConfig, options: { listTimeoutMs?: number } = {}) {
    const cluster = config.getCurrentCluster();
    if (!cluster) throw new ApiError(0, 'the kubeconfig names no current cluster');
    this.#config = config;
    this.#server = cluster.server;
    this.#listTimeoutMs = options.listTimeoutMs ?? 60_000;
  }

  get server(): string {
    return this.#server;
  }

  async list(path: string, params: ListParams, signal: AbortSignal): Promise<ListPage> {
    const url = new URL(this.#server + path);
    url.searchParams.set('limit', String(params.limit));
    if (params.continue) url.searchParams.set('continue', params.continue);
    if (params.fieldSelector) url.searchParams.set('fieldSelector', params.fieldSelector);
    const context = new RequestContext(url.toString(), HttpMethod.GET);
    // As client-go does with ContentType protobuf: the server may still answer JSON.
    context.setHeaderParam('Accept', params.protobuf ? `${PROTOBUF_CONTENT_TYPE}, application/json` : 'application/json');
    await this.#config.applySecurityAuthentication(context);
    // KubeConfig builds a new undici Agent on every call (client-node 2.0.1): one TLS handshake
    // per list page, 300 for 150k pods. The first one is kept; the headers (a refreshed token)
    // are still taken fresh each time.
    this.#dispatcher ??= context.getDispatcher() ?? new Agent();
    const response = await get(
      this.#dispatcher,
      this.#bodies,
      url,
      context.getHeaders(),
      AbortSignal.any([signal, AbortSignal.timeout(this.#listTimeoutMs)]),
    );
    // The body goes back to the pool once read: here, unless its items are handed out to be
    // decoded one by one, and then once they have been.
    let lent = false;
    try {
      const page = readPage(path, params, response);
      if (!page.fromBody) return { metadata: page.metadata, items: page.items };
      lent = true;
      return { metadata: page.metadata, items: itemsThenRelease(page.items, () => response.body.release()) };
    } finally {
      if (!lent) response.body.release();
    }
  }

  /** Closes the kept connections. */
  async close(): Promise<void> {
    this.#bodies.releaseAll();
    const dispatcher = this.#dispatcher;
    this.#dispatcher = undefined;
    await dispatcher?.close();
  }

  async watch(
    path: string,
    params: WatchParams,
    onEvent: (type: string, obj: RawObject) => void,
    onDone: (err: unknown) => void,
    stallTimeoutMs?: number,
  ): Promise<WatchHandle> {
    const watch = new Watch(this.#config);
    if (stallTimeoutMs !== undefined) {
      // Watch's inactivity timeout (30 s) is private. With bookmarks asked for, silence means
      // a dead connection; the reflector picks how long that may last.
      (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = stallTimeoutMs;
    }
    const query: Record<string, string | number | boolean | undefined> = {
      resourceVersion: params.resourceVersion,
      allowWatchBookmarks: params.allowWatchBookmarks,
      timeoutSeconds: params.timeoutSeconds,
      fieldSelector: params.fieldSelector,
    };
    const controller = await watch.watch(
      path,
      query,
      // client-node types the watched object as `any`; it is the raw JSON of one event.
      (type: string, obj: RawObject) => onEvent(type, obj),
      (err: unknown) => {
        const status = (err as { statusCode?: unknown } | null)?.statusCode;
        onDone(typeof status === 'number' ? new ApiError(status, `watch ${path}: ${(err as Error).message}`) : err);
      },
    );
    return { abort: () => controller.abort() };
  }
}

/** The page in `response`; `fromBody` when its items are still to be read from the body's bytes. */
function readPage(path: string, params: ListParams, response: RawResponse): ListPage & { readonly fromBody: boolean } {
  if (response.status !== 200) throw new ApiError(response.status, statusMessage(response));
  const notAList = (why: string) => new ApiError(response.status, `${path}: the answer is not a list (${why})`);
  const body = response.body.bytes();
  if (params.protobuf && isProtobuf(response)) {
    try {
      return { ...readList(body, params.protobuf), fromBody: true };
    } catch (err) {
      throw notAList((err as Error).message);
    }
  }
  const split = splitListPage<RawObject>(body, CUT_FROM_ITEM_BYTES);
  let page: { metadata?: unknown; items?: unknown } | null;
  try {
    page = (split ? split.head : JSON.parse(body.toString('utf8'))) as typeof page;
  } catch (err) {
    throw notAList((err as Error).message);
  }
  if (page === null || typeof page !== 'object' || !Array.isArray(page.items)) throw notAList('no items array');
  const metadata = (page.metadata ?? {}) as ListPage['metadata'];
  return split ? { metadata, items: split.items, fromBody: true } : { metadata, items: page.items as RawObject[], fromBody: false };
}

function isProtobuf(response: RawResponse): boolean {
  return response.contentType.startsWith(PROTOBUF_CONTENT_TYPE);
}

function statusMessage(response: RawResponse): string {
  const body = response.body.bytes();
  try {
    const status = isProtobuf(response) ? readStatus(body) : (JSON.parse(body.toString('utf8')) as { message?: string; reason?: string });
    if (status.message) return `${response.status} ${status.reason ?? ''}: ${status.message}`.replace(' :', ':');
  } catch {
    // not a Status object: fall through to the raw text
  }
  return `${response.status}: ${body.toString('utf8', 0, 200)}`;
}
