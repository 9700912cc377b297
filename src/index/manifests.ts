// A cluster read from YAML/JSON files instead of an API server: for the bundled example, for
// demos and for tests. The files are converted to the same slim records the watches produce and
// applied to the index as a relist is; a file that fails to parse at reload keeps the last good
// index. Reading is bounded and off the event loop: files over --manifests-max-size are refused
// before they are read, YAML aliases may not blow a file up (an alias bomb), and the parsing and
// converting run in a worker thread with a heap limit of its own, which hands the records over a
// batch at a time, one batch a turn of the event loop (a big file takes seconds to parse).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
// js-yaml rather than client-node's loadAllYaml: that one turns every document into a generated
// model class (and fails on an empty document); we want the plain objects, as a watch delivers them.
import { loadAll } from 'js-yaml';
import type { ClusterIndex } from './index.ts';
import {
  type ConvertOptions,
  type Kind,
  type RecordOf,
  KINDS,
  InvalidObjectError,
  checkObject,
  objectKinds,
  toRecord,
} from '../objects/kinds.ts';
import type { Logger } from '../base/log.ts';
import { ListedKinds, type ListedListener, type Source } from './source.ts';
import { ClusterDnsError } from '../base/errors.ts';

export class ManifestError extends ClusterDnsError {
  override name = 'ManifestError';
  readonly code = 'CDNS_ERR_MANIFEST';
}

/** 16 MiB: ~35k pods of YAML (js-yaml needs ~30 times a file's size at its peak), ~50k of JSON. */
export const DEFAULT_MANIFESTS_MAX_BYTES = 16 * 1024 * 1024;
/** js-yaml's own limit, per document: real manifests use a few aliases, if any. */
const MAX_ALIASES = 1000;
/** Nodes a file's aliases may add beyond its own size in bytes (which bounds its nodes without aliases). */
const ALIAS_ALLOWANCE = 10_000;
/** The worker's V8 heap: what a reload may take on top of the serving index. */
const WORKER_HEAP_MIB = 1024;
/** A load that takes longer than this is stopped and refused. */
const LOAD_TIMEOUT_MS = 120_000;
/** Records handed from the worker to the index per turn of the event loop. */
const BATCH = 500;
/**
 * At start nothing is served yet: files up to this size are read in-process, which spares
 * every start the worker's own start-up (~250 ms of CPU). Reloads always use the worker.
 */
const IN_PROCESS_BYTES = 1024 * 1024;

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

function manifestFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  const files: string[] = [];
  for (const entry of readdirSync(path, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && EXTENSIONS.has(extname(entry.name))) files.push(join(entry.parentPath, entry.name));
  }
  return files.sort();
}

interface ObjectLike {
  kind?: unknown;
  items?: unknown;
}

/** Every object of every document, with `kind: *List` flattened. */
function* objectsOf(doc: unknown): Generator<ObjectLike> {
  if (doc === null || doc === undefined) return;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ManifestError('a document is not a Kubernetes object');
  const obj = doc as ObjectLike;
  if (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(obj.items)) {
    for (const item of obj.items) yield* objectsOf(item);
    return;
  }
  if (typeof obj.kind !== 'string') throw new ManifestError('an object has no kind');
  yield obj;
}

function sizedFiles(path: string): { file: string; size: number }[] {
  try {
    return manifestFiles(path).map((file) => ({ file, size: statSync(file).size }));
  } catch (err) {
    throw new ManifestError(`${path}: ${(err as Error).message}`);
  }
}

/**
 * Refuses a document whose aliases expand it past `budget` nodes. js-yaml makes an alias the
 * same JS object as its anchor, so nothing is expanded yet; every walk over the objects would
 * expand it (651 bytes became 10^6 pods). Sizes are memoized by object, so this costs one visit
 * per distinct node.
 */
function checkExpansion(file: string, docs: readonly unknown[], budget: number): void {
  const sizes = new Map<object, number>();
  const open = new Set<object>();
  const refuse = (why: string): never => {
    throw new ManifestError(`${file}: ${why}: refused (an alias bomb?)`);
  };
  const size = (node: unknown): number => {
    if (typeof node !== 'object' || node === null) return 1;
    const known = sizes.get(node);
    if (known !== undefined) return known;
    if (open.has(node)) refuse('a YAML alias refers to an object that contains it');
    open.add(node);
    let n = 1;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      n += size(child);
      if (n > budget) refuse(`YAML aliases expand it to more than ${budget} nodes (its size in bytes + ${ALIAS_ALLOWANCE})`);
    }
    open.delete(node);
    sizes.set(node, n);
    return n;
  };
  let total = 0;
  for (const doc of docs) {
    total += size(doc);
    if (total > budget) refuse(`YAML aliases expand it to more than ${budget} nodes (its size in bytes + ${ALIAS_ALLOWANCE})`);
  }
}

export type RecordsByKind = { [K in Kind]: RecordOf[K][] };

/**
 * Reads and converts every manifest under `path`; throws ManifestError naming the file and the
 * problem. Synchronous and unbounded in time: the server calls it in a worker (loadManifests).
 */
export function readManifests(path: string, options: { maxBytes?: number; convert?: ConvertOptions } = {}): RecordsByKind {
  const maxBytes = options.maxBytes ?? DEFAULT_MANIFESTS_MAX_BYTES;
  const kinds = objectKinds(options.convert);
  const out: RecordsByKind = { Namespace: [], Service: [], EndpointSlice: [], Pod: [] };
  const files = sizedFiles(path);
  const total = files.reduce((sum, f) => sum + f.size, 0);
  if (total > maxBytes) {
    throw new ManifestError(
      `${path}: ${total} bytes${files.length > 1 ? ` in ${files.length} files` : ''}, over --manifests-max-size ${maxBytes}`,
    );
  }
  for (const { file, size } of files) {
    let docs: unknown[];
    try {
      const text = readFileSync(file, 'utf8');
      // JSON is YAML too, but JSON.parse is far faster on a big generated cluster, and has no aliases.
      docs = extname(file) === '.json' ? [JSON.parse(text)] : loadAll(text, { maxAliases: MAX_ALIASES });
    } catch (err) {
      throw new ManifestError(`${file}: ${(err as Error).message.split('\n')[0]}`);
    }
    if (extname(file) !== '.json') checkExpansion(file, docs, size + ALIAS_ALLOWANCE);
    let n = 0;
    for (const doc of docs) {
      try {
        for (const obj of objectsOf(doc)) {
          n++;
          checkObject(obj as Record<string, unknown>);
          const converted = toRecord(obj as Parameters<typeof toRecord>[0], kinds);
          if (converted) (out[converted.kind] as RecordOf[Kind][]).push(converted.record);
        }
      } catch (err) {
        // Anything else a converter throws was still caused by this file's content.
        throw new ManifestError(
          `${file}: object ${n}: ${err instanceof ManifestError || err instanceof InvalidObjectError ? err.message : String(err)}`,
        );
      }
    }
  }
  // A Namespace that only appears as the namespace of other objects still exists for DNS.
  const declared = new Set(out.Namespace.map((r) => r.name));
  for (const kind of KINDS) {
    for (const record of out[kind]) {
      if ('namespace' in record && !declared.has(record.namespace)) {
        declared.add(record.namespace);
        out.Namespace.push({ name: record.namespace });
      }
    }
  }
  return out;
}

/** Records a batch at a time, in KINDS order: what the worker hands over. */
export interface ManifestBatches {
  readonly counts: Record<Kind, number>;
  /** The next batch, or null after the last one. */
  next(): Promise<{ readonly kind: Kind; readonly records: readonly RecordOf[Kind][] } | null>;
  close(): void;
}

/** The worker's messages to the loader. */
export type FromWorker =
  | { readonly type: 'counts'; readonly counts: Record<Kind, number> }
  | { readonly type: 'batch'; readonly kind: Kind; readonly records: RecordOf[Kind][] }
  | { readonly type: 'done' }
  | { readonly type: 'error'; readonly message: string };

/** Batches of records read in this thread. */
function inProcess(records: RecordsByKind): ManifestBatches {
  const batches = batchesOf(records);
  return {
    counts: Object.fromEntries(KINDS.map((k) => [k, records[k].length])) as Record<Kind, number>,
    next: async () => batches.next().value ?? null,
    close: () => {},
  };
}

/** Batches of `records`, for the worker to send one per request. */
export function* batchesOf(records: RecordsByKind, size = BATCH): Generator<{ kind: Kind; records: RecordOf[Kind][] }> {
  for (const kind of KINDS) {
    const list = records[kind] as RecordOf[Kind][];
    for (let i = 0; i < list.length; i += size) yield { kind, records: list.slice(i, i + size) };
  }
}

// src/ runs as .ts, dist/ as .js: the worker is the sibling file of this one.
const WORKER = new URL(`./manifests-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/** Reads `path` in a worker thread (readManifests there); rejects with ManifestError. */
export function loadManifests(
  path: string,
  options: { maxBytes: number; heapMiB?: number; timeoutMs?: number; convert?: ConvertOptions },
): Promise<ManifestBatches> {
  return new Promise((resolve, reject) => {
    const heapMiB = options.heapMiB ?? WORKER_HEAP_MIB;
    const worker = new Worker(WORKER, {
      workerData: { path, maxBytes: options.maxBytes, convert: options.convert ?? {} },
      resourceLimits: { maxOldGenerationSizeMb: heapMiB },
      stdout: false,
      stderr: false,
    });
    let waiting: { resolve: (m: FromWorker) => void; reject: (err: Error) => void } | null = null;
    let failure: ManifestError | null = null;
    let settled = false;
    const fail = (err: ManifestError) => {
      failure ??= err;
      clearTimeout(timer);
      void worker.terminate();
      if (!settled) {
        settled = true;
        reject(failure);
      }
      waiting?.reject(failure);
      waiting = null;
    };
    const timer = setTimeout(
      () => fail(new ManifestError(`${path}: not read within ${LOAD_TIMEOUT_MS / 1000} s: refused`)),
      options.timeoutMs ?? LOAD_TIMEOUT_MS,
    );
    timer.unref();
    worker.on('error', (err: Error & { code?: string }) => {
      fail(
        new ManifestError(
          err.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? `${path}: reading it took more than the ${heapMiB} MiB its worker may use: refused`
            : `${path}: ${err.message.split('\n')[0]}`,
        ),
      );
    });
    worker.on('exit', () => fail(new ManifestError(`${path}: the worker reading it stopped early`)));
    const ask = () =>
      new Promise<FromWorker>((res, rej) => {
        if (failure) return rej(failure);
        waiting = { resolve: res, reject: rej };
        worker.postMessage('next');
      });
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'error') return fail(new ManifestError(message.message));
      if (message.type === 'counts') {
        settled = true;
        resolve({
          counts: message.counts,
          next: async () => {
            const m = await ask();
            if (m.type === 'batch') return { kind: m.kind, records: m.records };
            clearTimeout(timer);
            failure ??= new ManifestError(`${path}: read to the end`);
            void worker.terminate();
            return null;
          },
          close: () => {
            failure ??= new ManifestError(`${path}: closed`);
            clearTimeout(timer);
            void worker.terminate();
          },
        });
        return;
      }
      const w = waiting;
      waiting = null;
      w?.resolve(message);
    });
  });
}

/**
 * Applies the batches to the index as a relist does, kind by kind (no name vanishes meanwhile,
 * the kind's records not in the files go at its end), one batch per turn of the event loop.
 */
export async function applyManifests(index: ClusterIndex, batches: ManifestBatches): Promise<void> {
  let batch = await batches.next();
  for (const kind of KINDS) {
    const relist = index.beginReplace(kind);
    while (batch && batch.kind === kind) {
      for (const record of batch.records) relist.add(record);
      // The worker's replies can arrive while a batch is applied and be drained in the same turn:
      // yielding once per batch is what keeps queries answered between them.
      await new Promise<void>((resolve) => setImmediate(resolve));
      batch = await batches.next();
    }
    relist.commit();
  }
  for (const kind of KINDS) index.markSynced(kind);
}

function signature(path: string): string {
  try {
    return manifestFiles(path)
      .map((f) => {
        const s = statSync(f);
        return `${f}:${s.size}:${s.mtimeMs}`;
      })
      .join('|');
  } catch (err) {
    return `error:${(err as Error).message}`;
  }
}

export interface ManifestSourceOptions {
  readonly path: string;
  readonly index: ClusterIndex;
  readonly logger: Logger;
  readonly maxBytes?: number;
  /** What the zone's options change in the records (endpoint_pod_names). */
  readonly convert?: ConvertOptions;
  readonly pollIntervalMs?: number;
  /** The worker's heap limit (tests make it small). */
  readonly heapMiB?: number;
}

/**
 * Loads `path` into the index (start() rejects with ManifestError if it is bad: a start-up error)
 * and reloads it when a file changes. Polling, not fs.watch: editors and ConfigMap mounts replace
 * files by rename, which fs.watch reports unreliably; a stat per file per second is nothing.
 * Each load is a full list of every kind, so the memory it leaves behind is released after it.
 */
export class ManifestSource implements Source {
  readonly #options: ManifestSourceOptions;
  readonly #log: Logger;
  readonly #maxBytes: number;
  readonly #listed: ListedKinds;
  #started: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;
  #running: Promise<boolean> | null = null;
  #again = false;

  constructor(options: ManifestSourceOptions) {
    this.#options = options;
    this.#log = options.logger.child({ component: 'manifests' });
    this.#maxBytes = options.maxBytes ?? DEFAULT_MANIFESTS_MAX_BYTES;
    this.#listed = new ListedKinds(options.logger, 'reloaded');
  }

  start(): Promise<void> {
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<void> {
    const { path, index } = this.#options;
    let last = signature(path);
    const ms = await this.#load(true);
    this.#log.info({ path, ...index.counts(), ms }, 'manifests loaded');
    if (this.#stopped) return;
    this.#timer = setInterval(() => {
      const now = signature(path);
      if (now === last) return;
      last = now;
      void this.reload();
    }, this.#options.pollIntervalMs ?? 1000);
    this.#timer.unref();
  }

  async #load(first: boolean): Promise<number> {
    const { path, index, heapMiB, convert = {} } = this.#options;
    const maxBytes = this.#maxBytes;
    const started = performance.now();
    const small = first && sizedFiles(path).reduce((sum, f) => sum + f.size, 0) <= IN_PROCESS_BYTES;
    const batches = small
      ? inProcess(readManifests(path, { maxBytes, convert }))
      : await loadManifests(path, { maxBytes, convert, ...(heapMiB ? { heapMiB } : {}) });
    try {
      await applyManifests(index, batches);
    } finally {
      batches.close();
    }
    for (const kind of KINDS) this.#listed.listed(kind, first);
    return Math.round(performance.now() - started);
  }

  async #reloadOnce(): Promise<boolean> {
    const { path, index } = this.#options;
    try {
      const took = await this.#load(false);
      this.#log.info({ path, ...index.counts(), ms: took }, 'manifests reloaded');
      return true;
    } catch (err) {
      if (!(err instanceof ManifestError)) throw err;
      this.#log.warn({ path, err: err.message }, 'manifests reload failed; keeping the last good index');
      return false;
    }
  }

  /** Reload now (also what the file poll calls); false, keeping the index, if the files are bad. One load at a time; a change seen meanwhile loads again once it ends. */
  reload(): Promise<boolean> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#reloadOnce().finally(() => {
      this.#running = null;
      if (this.#again && !this.#stopped) {
        this.#again = false;
        void this.reload();
      }
    });
    return this.#running;
  }

  synced(): boolean {
    return this.#listed.synced();
  }

  onListed(listener: ListedListener): void {
    this.#listed.onListed(listener);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#listed.stop();
  }
}

/** A ManifestSource, started (tests). */
export async function startManifestSource(options: ManifestSourceOptions): Promise<ManifestSource> {
  const source = new ManifestSource(options);
  await source.start();
  return source;
}
