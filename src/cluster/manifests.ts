// A cluster read from YAML/JSON files instead of an API server: for the bundled example, for
// demos and for tests. The files are converted to the same slim records the watches produce and
// swapped into the index whole; a file that fails to parse at reload keeps the last good index.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
// js-yaml rather than client-node's loadAllYaml: that one turns every document into a generated
// model class (and fails on an empty document); we want the plain objects, as a watch delivers them.
import { loadAll } from 'js-yaml';
import type { ClusterIndex } from './index.ts';
import { type Kind, type RecordOf, KINDS, InvalidObjectError, checkObject, toRecord } from './records.ts';
import type { Logger } from '../observe/log.ts';

export class ManifestError extends Error {
  override name = 'ManifestError';
  readonly code = 'CDNS_ERR_MANIFEST';
}

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

export type RecordsByKind = { [K in Kind]: RecordOf[K][] };

/** Reads and converts every manifest under `path`; throws ManifestError naming the file and the problem. */
export function readManifests(path: string): RecordsByKind {
  const out: RecordsByKind = { Namespace: [], Service: [], EndpointSlice: [], Pod: [] };
  let files: string[];
  try {
    files = manifestFiles(path);
  } catch (err) {
    throw new ManifestError(`${path}: ${(err as Error).message}`);
  }
  for (const file of files) {
    let docs: unknown[];
    try {
      const text = readFileSync(file, 'utf8');
      // JSON is YAML too, but JSON.parse is ~50× faster on a big generated cluster.
      docs = extname(file) === '.json' ? [JSON.parse(text)] : loadAll(text);
    } catch (err) {
      throw new ManifestError(`${file}: ${(err as Error).message.split('\n')[0]}`);
    }
    let n = 0;
    for (const doc of docs) {
      try {
        for (const obj of objectsOf(doc)) {
          n++;
          checkObject(obj as Record<string, unknown>);
          const converted = toRecord(obj as Parameters<typeof toRecord>[0]);
          if (converted) (out[converted.kind] as RecordOf[Kind][]).push(converted.record);
        }
      } catch (err) {
        // Anything else a converter throws was still caused by this file's content.
        throw new ManifestError(`${file}: object ${n}: ${err instanceof ManifestError || err instanceof InvalidObjectError ? err.message : String(err)}`);
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

/** Swaps the whole cluster into the index within one turn of the event loop. */
export function applyManifests(index: ClusterIndex, records: RecordsByKind): void {
  index.replace('Namespace', records.Namespace);
  index.replace('Service', records.Service);
  index.replace('EndpointSlice', records.EndpointSlice);
  index.replace('Pod', records.Pod);
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

export interface ManifestSource {
  /** Reload now (also what the file poll calls); returns false and keeps the index if the files are bad. */
  reload(): boolean;
  stop(): void;
}

/**
 * Loads `path` into the index (throwing ManifestError if it is bad: a start-up error) and reloads
 * it when a file changes. Polling, not fs.watch: editors and ConfigMap mounts replace files by
 * rename, which fs.watch reports unreliably; a stat per file per second is nothing.
 */
export function startManifestSource(options: {
  path: string;
  index: ClusterIndex;
  logger: Logger;
  pollIntervalMs?: number;
}): ManifestSource {
  const { path, index, logger } = options;
  const log = logger.child({ component: 'manifests' });
  let last = signature(path);
  const first = readManifests(path);
  applyManifests(index, first);
  log.info({ path, ...index.counts() }, 'manifests loaded');

  const reload = (): boolean => {
    try {
      applyManifests(index, readManifests(path));
      log.info({ path, ...index.counts() }, 'manifests reloaded');
      return true;
    } catch (err) {
      log.warn({ path, err: (err as Error).message }, 'manifests reload failed; keeping the last good index');
      return false;
    }
  };
  const timer = setInterval(() => {
    const now = signature(path);
    if (now === last) return;
    last = now;
    reload();
  }, options.pollIntervalMs ?? 1000);
  timer.unref();
  return { reload, stop: () => clearInterval(timer) };
}
