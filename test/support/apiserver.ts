// A kube-apiserver double that speaks the real list/watch HTTP protocol, so the real
// @kubernetes/client-node (KubeConfig, Watch) and our reflector run against it unchanged.
// What it keeps honest: one global resourceVersion, consistent paged lists (limit/continue),
// watches that replay from a resourceVersion, bookmarks, 410 Gone (as an HTTP status and
// in-stream) once history is compacted, field selectors (including the DELETED a watcher sees
// when an object stops matching), bearer-token auth, server-side timeoutSeconds, and faults:
// dropped watches, failing requests, silent watches, a server that goes away and comes back on
// the same port. TLS with a fixture certificate, since client-node will not send a token over
// plain HTTP. Loopback only.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptsProtobuf, encodeListLatin1, encodeMessage, envelope, envelopeLatin1, PROTOBUF } from './protobuf.ts';

export type ApiObject = {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; [key: string]: unknown };
  [key: string]: unknown;
};

interface Resource {
  readonly path: string;
  readonly kind: string;
  readonly apiVersion: string;
  readonly namespaced: boolean;
}

const TLS_DIR = new URL('../fixtures/tls/', import.meta.url);
const TLS = { cert: readFileSync(new URL('apiserver.crt', TLS_DIR)), key: readFileSync(new URL('apiserver.key', TLS_DIR)) };

const RESOURCES: readonly Resource[] = [
  { path: '/api/v1/namespaces', kind: 'Namespace', apiVersion: 'v1', namespaced: false },
  { path: '/api/v1/services', kind: 'Service', apiVersion: 'v1', namespaced: true },
  { path: '/api/v1/pods', kind: 'Pod', apiVersion: 'v1', namespaced: true },
  { path: '/apis/discovery.k8s.io/v1/endpointslices', kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', namespaced: true },
];
const RESOURCE_BY_KIND = new Map(RESOURCES.map((r) => [r.kind, r]));

export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly status: number;
  /** Which connection carried it: 1 for the first that carried a request, and so on. */
  readonly connection: number;
  /** A list's encoding: the content type it was answered with. */
  readonly contentType?: string;
}

interface HistoryEvent {
  readonly rv: number;
  readonly kind: string;
  /** The object before the change (null for a creation). */
  readonly before: ApiObject | null;
  /** The object after the change (null for a deletion). */
  readonly after: ApiObject | null;
}

interface OpenWatch {
  readonly kind: string;
  readonly selector: FieldSelector;
  readonly res: ServerResponse;
  readonly bookmarks: boolean;
  rv: number;
  silent: boolean;
  timers: NodeJS.Timeout[];
}

type Requirement = { path: readonly string[]; op: '=' | '!='; value: string };
type FieldSelector = readonly Requirement[];
/** What a list and its continued pages read: every object of the kind at `rv`, in key order. */
type ListSnapshot = { readonly rv: number; readonly items: readonly ApiObject[]; readonly selector: FieldSelector };

export class FieldSelectorError extends Error {}

function parseFieldSelector(text: string | undefined): FieldSelector {
  if (!text) return [];
  return text.split(',').map((part) => {
    const m = /^([a-zA-Z.]+)(!=|==|=)(.*)$/.exec(part);
    if (!m) throw new FieldSelectorError(`invalid field selector: ${part}`);
    return { path: m[1]!.split('.'), op: m[2] === '!=' ? '!=' : '=', value: m[3]! };
  });
}

function fieldValue(obj: ApiObject, path: readonly string[]): string {
  let v: unknown = obj;
  for (const part of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  return typeof v === 'string' ? v : '';
}

function matches(obj: ApiObject | null, selector: FieldSelector): boolean {
  if (!obj) return false;
  return selector.every((r) => (fieldValue(obj, r.path) === r.value) === (r.op === '='));
}

/** Stored objects are never mutated (apply stores a fresh copy), so their list JSON can be kept. */
const ITEM_JSON = new WeakMap<ApiObject, string>();
function itemJson(obj: ApiObject): string {
  let json = ITEM_JSON.get(obj);
  if (json === undefined) {
    const { kind: _k, apiVersion: _a, ...rest } = obj;
    json = JSON.stringify(rest);
    ITEM_JSON.set(obj, json);
  }
  return json;
}

// The kinds the double writes in protobuf: all it serves, as the apiserver does every built-in
// kind. A list of another kind would be answered in JSON, which a client that also accepts JSON
// must take (a proxy might do the same).
const PROTOBUF_KINDS = new Set(RESOURCES.map((r) => r.kind));
/** Kept as latin1 strings: see protobuf.ts on why not Buffers. */
const ITEM_PROTOBUF = new WeakMap<ApiObject, string>();
function itemProtobuf(obj: ApiObject): string {
  let bytes = ITEM_PROTOBUF.get(obj);
  if (bytes === undefined) {
    const { kind, apiVersion: _a, ...rest } = obj;
    bytes = encodeMessage(kind!, rest).toString('latin1');
    ITEM_PROTOBUF.set(obj, bytes);
  }
  return bytes;
}

function keyOf(obj: ApiObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

export interface FakeApiServerOptions {
  /** Bearer token every request must carry; null accepts any request. */
  token?: string | null;
  /** How often an open watch that asked for bookmarks gets one. */
  bookmarkIntervalMs?: number;
  /** How 410 Gone is delivered to a watch from a compacted resourceVersion. */
  goneMode?: 'http' | 'stream';
  /** false: every answer in JSON, whatever the client accepts (as a proxy that strips protobuf). */
  protobuf?: boolean;
}

export class FakeApiServer {
  readonly requests: RequestRecord[] = [];
  /** TCP connections accepted so far (clients should reuse them). */
  connections = 0;
  readonly token: string | null;
  bookmarkIntervalMs: number;
  goneMode: 'http' | 'stream';

  #server: Server;
  #port = 0;
  #rv = 100;
  /** Watches from a resourceVersion below this get 410 Gone. */
  #compactedBelow = 0;
  readonly #objects = new Map<string, Map<string, ApiObject>>(RESOURCES.map((r) => [r.kind, new Map()]));
  /**
   * Each kind's objects sorted by key, until the kind changes. The real apiserver lists from its
   * watch cache, kept in order; sorting 150k pods for every fresh list made the benchmark's server
   * wait ~0.1 s on the double.
   */
  readonly #sorted = new Map<string, readonly ApiObject[]>();
  readonly #history: HistoryEvent[] = [];
  readonly #watches = new Set<OpenWatch>();
  readonly #sockets = new Set<Duplex>();
  /** The (TLS) socket a request came on → its number, in the order of first requests. */
  readonly #connectionOf = new WeakMap<object, number>();
  #connectionsSeen = 0;
  /** Snapshots behind outstanding continue tokens. */
  readonly #snapshots = new Map<string, ListSnapshot>();
  #nextSnapshot = 1;
  #failures: { status: number; count: number; match: (path: string, watch: boolean) => boolean }[] = [];
  #silentWatches = false;
  #brokenLists = 0;
  #brokenItems = 0;
  #listDelayMs = 0;
  readonly #protobuf: boolean;

  private constructor(options: FakeApiServerOptions) {
    this.token = options.token === undefined ? 'test-token' : options.token;
    this.bookmarkIntervalMs = options.bookmarkIntervalMs ?? 1000;
    this.goneMode = options.goneMode ?? 'http';
    this.#protobuf = options.protobuf ?? true;
    this.#server = this.#createServer();
  }

  static async start(options: FakeApiServerOptions = {}): Promise<FakeApiServer> {
    const api = new FakeApiServer(options);
    await api.#listen(0);
    return api;
  }

  get url(): string {
    return `https://127.0.0.1:${this.#port}`;
  }

  get resourceVersion(): number {
    return this.#rv;
  }

  /** Open watch connections, by kind (for tests that wait for a reconnect). */
  openWatches(kind?: string): number {
    let n = 0;
    for (const w of this.#watches) if (!kind || w.kind === kind) n++;
    return n;
  }

  // ---- the cluster's state ----

  /** Creates or replaces an object (by kind, namespace and name); returns its resourceVersion. */
  apply(obj: ApiObject): number {
    const kind = obj.kind;
    const resource = kind ? RESOURCE_BY_KIND.get(kind) : undefined;
    if (!resource) throw new Error(`the double serves no kind ${String(kind)}`);
    const store = this.#objects.get(resource.kind)!;
    const stored: ApiObject = structuredClone(obj);
    stored.apiVersion = resource.apiVersion;
    if (resource.namespaced) stored.metadata.namespace ??= 'default';
    const rv = ++this.#rv;
    stored.metadata.resourceVersion = String(rv);
    // Serialized now, so that lists cost the server under test's time only; in the encoding
    // clients will ask for (the other is made at the first list that wants it): both for 150k
    // real-sized pods would be 1.4 GB.
    if (this.#protobuf && PROTOBUF_KINDS.has(resource.kind)) itemProtobuf(stored);
    else itemJson(stored);
    const key = keyOf(stored);
    const before = store.get(key) ?? null;
    store.set(key, stored);
    this.#sorted.delete(resource.kind);
    this.#record({ rv, kind: resource.kind, before, after: stored });
    return rv;
  }

  /** Deletes an object; false when it did not exist. */
  delete(kind: string, namespace: string | undefined, name: string): boolean {
    const store = this.#objects.get(kind);
    if (!store) throw new Error(`the double serves no kind ${kind}`);
    const key = `${RESOURCE_BY_KIND.get(kind)!.namespaced ? (namespace ?? 'default') : ''}/${name}`;
    const before = store.get(key);
    if (!before) return false;
    store.delete(key);
    this.#sorted.delete(kind);
    const rv = ++this.#rv;
    // A deleted object's last state travels in the DELETED event, with the deletion's version.
    const last: ApiObject = { ...structuredClone(before), metadata: { ...before.metadata, resourceVersion: String(rv) } };
    this.#record({ rv, kind, before: last, after: null });
    return true;
  }

  get(kind: string, namespace: string | undefined, name: string): ApiObject | undefined {
    const ns = RESOURCE_BY_KIND.get(kind)?.namespaced ? (namespace ?? 'default') : '';
    return this.#objects.get(kind)?.get(`${ns}/${name}`);
  }

  /** Forgets the event history: a watch or continue token from before now gets 410 Gone. */
  compact(): void {
    this.#compactedBelow = this.#rv;
    this.#history.length = 0;
    this.#snapshots.clear();
  }

  // ---- faults ----

  /** Ends every open watch at once, as an apiserver restart or a load balancer would. */
  dropWatches(kind?: string): void {
    for (const w of [...this.#watches]) if (!kind || w.kind === kind) this.#endWatch(w, true);
  }

  /** The next `count` requests matching `kind`/`watch` fail with `status`. */
  failNext(count: number, status: number, filter: { kind?: string; watch?: boolean } = {}): void {
    const path = filter.kind ? RESOURCE_BY_KIND.get(filter.kind)?.path : undefined;
    this.#failures.push({
      status,
      count,
      match: (p, watch) => (path === undefined || p === path) && (filter.watch === undefined || filter.watch === watch),
    });
  }

  /** The next `count` lists answer 200 with a body cut short (as a proxy that gave up might). */
  breakNextLists(count: number): void {
    this.#brokenLists = count;
  }

  /** The next `count` list pages end with an item that is not JSON (the rest of the body is). */
  breakNextItems(count: number): void {
    this.#brokenItems = count;
  }

  /** Writes lines no apiserver should send into every open watch: not JSON, and an unknown type. */
  injectGarbage(kind?: string): void {
    for (const w of this.#watches) {
      if ((kind && w.kind !== kind) || w.silent || w.res.destroyed) continue;
      w.res.write('this is not json\n{"type":"SURPRISE","object":{"metadata":{}}}\n');
    }
  }

  /** New watches are accepted and then never sent a byte (a half-dead connection). */
  silenceWatches(silent: boolean): void {
    this.#silentWatches = silent;
    if (silent) for (const w of this.#watches) this.#silence(w);
  }

  /** Every list page answers after this delay (a slow apiserver). */
  slowLists(ms: number): void {
    this.#listDelayMs = ms;
  }

  /** The apiserver goes away: every connection is cut and the port stops listening. */
  async pause(): Promise<void> {
    for (const w of [...this.#watches]) this.#endWatch(w, false);
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** The apiserver comes back on the same port, with whatever state it has now. */
  async resume(): Promise<void> {
    // While paused, another test's short-lived socket can hold the freed port for a moment
    // (EADDRINUSE); the apiserver comes back as soon as the port is free again.
    const deadline = Date.now() + 5_000;
    for (;;) {
      this.#server = this.#createServer();
      try {
        await this.#listen(this.#port);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  async close(): Promise<void> {
    for (const w of [...this.#watches]) this.#endWatch(w, false);
    for (const s of this.#sockets) s.destroy();
    if (this.#server.listening) await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** A kubeconfig for this server with a bearer token; returns its path. */
  writeKubeconfig(dir = mkdtempSync(join(tmpdir(), 'cdns-kubeconfig-'))): string {
    const path = join(dir, 'kubeconfig.yaml');
    writeFileSync(
      path,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: double',
        `  cluster: {server: "${this.url}", certificate-authority-data: "${TLS.cert.toString('base64')}"}`,
        'users:',
        '- name: tester',
        `  user: {token: "${this.token ?? 'any'}"}`,
        'contexts:',
        '- name: double',
        '  context: {cluster: double, user: tester}',
        'current-context: double',
        '',
      ].join('\n'),
    );
    return path;
  }

  // ---- HTTP ----

  #createServer(): Server {
    const server = createServer(TLS, (req, res) => this.#handle(req, res));
    server.on('connection', (socket) => {
      this.connections++;
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    return server;
  }

  async #listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => resolve());
    });
    this.#port = (this.#server.address() as AddressInfo).port;
  }

  #record(event: HistoryEvent): void {
    this.#history.push(event);
    for (const w of this.#watches) if (w.kind === event.kind && !w.silent) this.#deliver(w, event);
  }

  #status(res: ServerResponse, code: number, reason: string, message: string, log: RequestRecord, protobuf = false): void {
    this.requests.push({ ...log, status: code });
    const status = { metadata: {}, status: 'Failure', message, reason, code };
    if (protobuf) {
      res.writeHead(code, { 'content-type': PROTOBUF });
      res.end(envelope('v1', 'Status', encodeMessage('Status', status)));
      return;
    }
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', ...status }));
  }

  #connectionNumber(socket: object): number {
    let n = this.#connectionOf.get(socket);
    if (n === undefined) this.#connectionOf.set(socket, (n = ++this.#connectionsSeen));
    return n;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://double');
    const query = Object.fromEntries(url.searchParams);
    const log = { method: req.method ?? 'GET', path: url.pathname, query, status: 0, connection: this.#connectionNumber(req.socket) };
    const protobuf = this.#protobuf && acceptsProtobuf(req.headers.accept);
    if (this.token !== null && req.headers.authorization !== `Bearer ${this.token}`) {
      this.#status(res, 401, 'Unauthorized', 'Unauthorized', log, protobuf);
      return;
    }
    if (req.method !== 'GET') {
      // The server under test only ever reads.
      this.#status(res, 405, 'MethodNotAllowed', `${req.method} is not allowed on the double`, log, protobuf);
      return;
    }
    const resource = RESOURCES.find((r) => r.path === url.pathname);
    if (!resource) {
      this.#status(res, 404, 'NotFound', `the server could not find the requested resource (${url.pathname})`, log, protobuf);
      return;
    }
    const watch = query.watch === 'true' || query.watch === '1';
    const failure = this.#failures.find((f) => f.count > 0 && f.match(url.pathname, watch));
    if (failure) {
      failure.count--;
      this.#status(res, failure.status, 'InternalError', `injected failure ${failure.status}`, log, protobuf);
      return;
    }
    if (!watch && this.#brokenLists > 0) {
      this.#brokenLists--;
      this.requests.push({ ...log, status: 200 });
      if (protobuf && PROTOBUF_KINDS.has(resource.kind)) {
        const whole = envelopeLatin1(resource.apiVersion, `${resource.kind}List`, encodeListLatin1({ resourceVersion: '1' }, []));
        res.writeHead(200, { 'content-type': PROTOBUF });
        res.end(whole.slice(0, whole.length >> 1), 'latin1');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"kind":"${resource.kind}List","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[{"metadata":`);
      return;
    }
    let selector: FieldSelector;
    try {
      selector = parseFieldSelector(query.fieldSelector);
    } catch (err) {
      this.#status(res, 400, 'BadRequest', (err as Error).message, log, protobuf);
      return;
    }
    // Watches stay JSON here: the server under test watches in JSON.
    const listProtobuf = protobuf && PROTOBUF_KINDS.has(resource.kind);
    if (watch) this.#watch(resource, selector, query, res, log);
    else if (this.#listDelayMs > 0) setTimeout(() => this.#list(resource, selector, query, res, log, listProtobuf), this.#listDelayMs);
    else this.#list(resource, selector, query, res, log, listProtobuf);
  }

  #list(
    resource: Resource,
    selector: FieldSelector,
    query: Record<string, string>,
    res: ServerResponse,
    log: RequestRecord,
    protobuf: boolean,
  ): void {
    if (res.destroyed) return;
    const limit = query.limit ? Number(query.limit) : 0;
    let snapshot: ListSnapshot;
    let offset = 0;
    if (query.continue) {
      const [id, at] = query.continue.split(':');
      const found = this.#snapshots.get(id ?? '');
      if (!found) {
        this.#status(res, 410, 'Expired', 'The provided continue parameter is too old to display a consistent list result.', log, protobuf);
        return;
      }
      snapshot = found;
      offset = Number(at);
    } else {
      snapshot = { rv: this.#rv, items: this.#sortedItems(resource.kind), selector };
    }
    // The selector is applied page by page, as the apiserver pages through its store: the first
    // page of 150k pods costs a page's worth of work, not a pass over all of them.
    const all = snapshot.items;
    const page: ApiObject[] = [];
    let at = offset;
    for (; at < all.length && (limit <= 0 || page.length < limit); at++) if (matches(all[at]!, snapshot.selector)) page.push(all[at]!);
    while (at < all.length && !matches(all[at]!, snapshot.selector)) at++;
    const metadata: Record<string, unknown> = { resourceVersion: String(snapshot.rv) };
    if (at < all.length) {
      let id = query.continue?.split(':')[0];
      if (!id) {
        id = String(this.#nextSnapshot++);
        this.#snapshots.set(id, snapshot);
      }
      metadata.continue = `${id}:${at}`;
      // As the apiserver does, the count is left out when a selector makes it unknown.
      if (snapshot.selector.length === 0) metadata.remainingItemCount = all.length - at;
    } else if (query.continue) {
      this.#snapshots.delete(query.continue.split(':')[0] ?? '');
    }
    this.requests.push({ ...log, status: 200, contentType: protobuf ? PROTOBUF : 'application/json' });
    if (protobuf) {
      const items = page.map(itemProtobuf);
      if (this.#brokenItems > 0) {
        this.#brokenItems--;
        // A whole field whose own bytes are not a message: wire type 7 does not exist.
        items.push('\x0f');
      }
      res.writeHead(200, { 'content-type': PROTOBUF });
      res.end(envelopeLatin1(resource.apiVersion, `${resource.kind}List`, encodeListLatin1(metadata, items)), 'latin1');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    // List items carry no kind/apiVersion, as the real apiserver sends them. Each stored object
    // is serialized once: a benchmark lists 150k pods through here and must not wait on us.
    let items = page.map(itemJson).join(',');
    if (this.#brokenItems > 0) {
      this.#brokenItems--;
      items += `${items ? ',' : ''}{"metadata":{"name":}}`;
    }
    res.end(
      `{"kind":"${resource.kind}List","apiVersion":"${resource.apiVersion}","metadata":${JSON.stringify(metadata)},"items":[${items}]}`,
    );
  }

  /** Sorted by key, as etcd returns them. */
  #sortedItems(kind: string): readonly ApiObject[] {
    let sorted = this.#sorted.get(kind);
    if (sorted === undefined) {
      const keyed = [...this.#objects.get(kind)!].sort((a, b) => (a[0] < b[0] ? -1 : 1));
      sorted = keyed.map((k) => k[1]);
      this.#sorted.set(kind, sorted);
    }
    return sorted;
  }

  #watch(resource: Resource, selector: FieldSelector, query: Record<string, string>, res: ServerResponse, log: RequestRecord): void {
    const from = query.resourceVersion ? Number(query.resourceVersion) : this.#rv;
    const gone = from < this.#compactedBelow;
    if (gone && this.goneMode === 'http') {
      this.#status(res, 410, 'Expired', `too old resource version: ${from} (${this.#compactedBelow})`, log);
      return;
    }
    this.requests.push({ ...log, status: 200 });
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    if (gone) {
      const status = {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `too old resource version: ${from} (${this.#compactedBelow})`,
        reason: 'Expired',
        code: 410,
      };
      res.end(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
      return;
    }
    const w: OpenWatch = {
      kind: resource.kind,
      selector,
      res,
      bookmarks: query.allowWatchBookmarks === 'true',
      rv: from,
      silent: false,
      timers: [],
    };
    this.#watches.add(w);
    res.on('close', () => this.#endWatch(w, false));
    if (this.#silentWatches) {
      this.#silence(w);
      return;
    }
    for (const event of this.#history) if (event.kind === w.kind && event.rv > from) this.#deliver(w, event);
    if (w.bookmarks) {
      const timer = setInterval(
        () =>
          this.#write(w, {
            type: 'BOOKMARK',
            object: { kind: resource.kind, apiVersion: resource.apiVersion, metadata: { resourceVersion: String(this.#rv) } },
          }),
        this.bookmarkIntervalMs,
      );
      timer.unref();
      w.timers.push(timer);
    }
    const timeoutSeconds = Number(query.timeoutSeconds ?? 0);
    if (timeoutSeconds > 0) {
      const timer = setTimeout(() => this.#endWatch(w, false, true), timeoutSeconds * 1000);
      timer.unref();
      w.timers.push(timer);
    }
  }

  #deliver(w: OpenWatch, event: HistoryEvent): void {
    const was = matches(event.before, w.selector);
    const is = matches(event.after, w.selector);
    let type: string;
    if (is) type = was ? 'MODIFIED' : 'ADDED';
    else if (was) type = 'DELETED';
    else return;
    const object = (event.after ?? event.before)!;
    this.#write(w, { type, object });
  }

  #write(w: OpenWatch, event: { type: string; object: unknown }): void {
    if (w.silent || w.res.destroyed) return;
    w.res.write(`${JSON.stringify(event)}\n`);
  }

  #silence(w: OpenWatch): void {
    w.silent = true;
    for (const t of w.timers) clearTimeout(t);
    w.timers = [];
  }

  /** `cut` destroys the connection mid-stream; otherwise the chunked response ends cleanly. */
  #endWatch(w: OpenWatch, cut: boolean, graceful = false): void {
    if (!this.#watches.delete(w)) return;
    for (const t of w.timers) clearTimeout(t);
    if (cut) w.res.destroy();
    else if (graceful || !w.res.destroyed) w.res.end();
  }
}

// ---- object builders for tests ----

export function namespace(name: string): ApiObject {
  return { kind: 'Namespace', metadata: { name } };
}

export function service(
  ns: string,
  name: string,
  spec: {
    clusterIP?: string;
    clusterIPs?: string[];
    type?: string;
    externalName?: string;
    ports?: { name?: string; port: number; protocol?: string }[];
    publishNotReadyAddresses?: boolean;
  },
): ApiObject {
  const clusterIPs = spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : undefined);
  return {
    kind: 'Service',
    metadata: { name, namespace: ns },
    spec: { type: spec.type ?? 'ClusterIP', ...spec, ...(clusterIPs ? { clusterIPs } : {}) },
  };
}

export function endpointSlice(
  ns: string,
  name: string,
  serviceName: string,
  endpoints: { addresses: string[]; hostname?: string; ready?: boolean }[],
  ports: { name?: string; port: number; protocol?: string }[] = [],
  addressType = 'IPv4',
): ApiObject {
  return {
    kind: 'EndpointSlice',
    metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': serviceName } },
    addressType,
    endpoints: endpoints.map((e) => ({
      addresses: e.addresses,
      ...(e.hostname ? { hostname: e.hostname } : {}),
      conditions: { ready: e.ready ?? true },
    })),
    ports,
  };
}

export function pod(
  ns: string,
  name: string,
  ip: string,
  options: { hostname?: string; subdomain?: string; phase?: string; ready?: boolean } = {},
): ApiObject {
  return {
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: { ...(options.hostname ? { hostname: options.hostname } : {}), ...(options.subdomain ? { subdomain: options.subdomain } : {}) },
    status: {
      phase: options.phase ?? 'Running',
      podIP: ip,
      podIPs: [{ ip }],
      conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }],
    },
  };
}
