// What a reflector asks of the API server (KubernetesApi: a list page, a watch) and what it gets
// back, apart from the client that does it (api.ts): the list reader (protobuf.ts) and the
// reflector depend on these types, not on the client or on each other.
import type { ItemReader, RawObject } from '../objects/meta.ts';

export interface ListPage {
  readonly metadata: { readonly resourceVersion?: string; readonly continue?: string };
  /** Parsed (list-items.ts) or decoded (protobuf.ts) one at a time as the iteration reaches them; iterate once. */
  readonly items: Iterable<RawObject>;
}

export interface WatchHandle {
  abort(): void;
}

export interface ListParams {
  readonly limit: number;
  readonly continue?: string | undefined;
  readonly fieldSelector?: string | undefined;
  /** Ask for the list in protobuf and read its items with this (JSON stays the fallback). */
  readonly protobuf?: ItemReader | undefined;
}

export interface WatchParams {
  readonly resourceVersion?: string | undefined;
  readonly allowWatchBookmarks: boolean;
  readonly timeoutSeconds: number;
  readonly fieldSelector?: string | undefined;
}

export interface KubernetesApi {
  close?(): Promise<void>;
  list(path: string, params: ListParams, signal: AbortSignal): Promise<ListPage>;
  /**
   * Opens a watch; `onEvent` gets each event, `onDone` exactly once when the watch ends (null
   * for a clean end, an ApiError for an HTTP error, a TimeoutError after `stallTimeoutMs` of
   * silence). Resolves once the response headers arrived.
   */
  watch(
    path: string,
    params: WatchParams,
    onEvent: (type: string, obj: RawObject) => void,
    onDone: (err: unknown) => void,
    stallTimeoutMs?: number,
  ): Promise<WatchHandle>;
}
