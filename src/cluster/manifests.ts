// A cluster read from YAML/JSON files instead of an API server: for the bundled example, for
// demos and for tests. The files are converted to the same slim records the watches produce and
// swapped into the index whole; a file that fails to parse at reload keeps the last good index.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { extname, join } from 'node:path';
// js-yaml rather than client-node's loadAllYaml: that one turns every document into a generated
// model class (and fails on an empty document); we want the plain objects, as a watch delivers them.
import { loadAll } from 'js-yaml';
import type { ClusterIndex } from './index.ts';
import { type Kind, type RecordOf, KINDS, InvalidObjectError, toRecord } from './records.ts';
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

// ---- What a file may hold. The API server guarantees the shape of what a watch delivers; a file
// guarantees nothing, and an object of the wrong shape must be refused by name (exit 2 at start,
// last good index kept at reload), never turn into a TypeError or into answers that fail at
// query time (an A record for "banana"). Only the fields DNS reads are checked.

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(where: string, what: string): never {
  throw new ManifestError(`${where}: ${what}`);
}

function optionalObject(where: string, value: unknown, field: string): Json {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) fail(where, `${field} must be an object`);
  return value;
}

function optionalString(where: string, value: unknown, field: string): void {
  if (value !== undefined && value !== null && typeof value !== 'string') fail(where, `${field} must be a string`);
}

function optionalList(where: string, value: unknown, field: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail(where, `${field} must be a list`);
  return value;
}

function address(where: string, value: unknown, field: string, family?: 4 | 6): void {
  const version = typeof value === 'string' ? isIP(value) : 0;
  if (version === 0 || (family !== undefined && version !== family)) {
    fail(where, `${field} ${JSON.stringify(value)} is not an ${family === undefined ? 'IP' : `IPv${family}`} address`);
  }
}

function checkPorts(where: string, value: unknown, field: string, portRequired: boolean): void {
  optionalList(where, value, field).forEach((p, i) => {
    const at = `${field}[${i}]`;
    if (!isObject(p)) fail(where, `${at} must be an object`);
    optionalString(where, p.name, `${at}.name`);
    optionalString(where, p.protocol, `${at}.protocol`);
    const port = p.port;
    if ((port !== undefined && port !== null) || portRequired) {
      if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535) fail(where, `${at}.port must be a number from 1 to 65535`);
    }
  });
}

/** Refuses, naming the object and the field, what the converters in records.ts cannot take. */
function checkObject(obj: Json): void {
  const metadata = optionalObject(String(obj.kind), obj.metadata, 'metadata');
  const where = `${String(obj.kind)} ${typeof metadata.namespace === 'string' ? `${metadata.namespace}/` : ''}${typeof metadata.name === 'string' ? metadata.name : '(no name)'}`;
  // A missing name is records.ts's own error ("Service without metadata.name").
  optionalString(where, metadata.name, 'metadata.name');
  optionalString(where, metadata.namespace, 'metadata.namespace');
  const labels = optionalObject(where, metadata.labels, 'metadata.labels');
  for (const [key, value] of Object.entries(labels)) optionalString(where, value, `metadata.labels["${key}"]`);
  switch (obj.kind) {
    case 'Service': {
      const spec = optionalObject(where, obj.spec, 'spec');
      optionalString(where, spec.type, 'spec.type');
      optionalString(where, spec.externalName, 'spec.externalName');
      const ips = [...(spec.clusterIP === undefined || spec.clusterIP === null ? [] : [spec.clusterIP]), ...optionalList(where, spec.clusterIPs, 'spec.clusterIPs')];
      if (spec.type !== 'ExternalName') {
        for (const ip of ips) if (ip !== 'None' && ip !== '') address(where, ip, 'spec.clusterIP(s)');
      }
      if (spec.publishNotReadyAddresses !== undefined && typeof spec.publishNotReadyAddresses !== 'boolean') fail(where, 'spec.publishNotReadyAddresses must be true or false');
      checkPorts(where, spec.ports, 'spec.ports', true);
      break;
    }
    case 'EndpointSlice': {
      optionalString(where, obj.addressType, 'addressType');
      const family = obj.addressType === 'IPv4' ? 4 : obj.addressType === 'IPv6' ? 6 : undefined;
      optionalList(where, obj.endpoints, 'endpoints').forEach((e, i) => {
        const at = `endpoints[${i}]`;
        if (!isObject(e)) fail(where, `${at} must be an object`);
        optionalString(where, e.hostname, `${at}.hostname`);
        const conditions = optionalObject(where, e.conditions, `${at}.conditions`);
        if (conditions.ready !== undefined && conditions.ready !== null && typeof conditions.ready !== 'boolean') fail(where, `${at}.conditions.ready must be true or false`);
        // FQDN slices hold names, which DNS ignores; addresses of the slice's family otherwise.
        if (obj.addressType !== 'FQDN') optionalList(where, e.addresses, `${at}.addresses`).forEach((a, j) => address(where, a, `${at}.addresses[${j}]`, family));
      });
      checkPorts(where, obj.ports, 'ports', false);
      break;
    }
    case 'Pod': {
      const spec = optionalObject(where, obj.spec, 'spec');
      optionalString(where, spec.hostname, 'spec.hostname');
      optionalString(where, spec.subdomain, 'spec.subdomain');
      const status = optionalObject(where, obj.status, 'status');
      optionalString(where, status.phase, 'status.phase');
      if (status.podIP !== undefined && status.podIP !== null && status.podIP !== '') address(where, status.podIP, 'status.podIP');
      optionalList(where, status.podIPs, 'status.podIPs').forEach((entry, i) => {
        if (!isObject(entry)) fail(where, `status.podIPs[${i}] must be an object`);
        if (entry.ip !== undefined && entry.ip !== '') address(where, entry.ip, `status.podIPs[${i}].ip`);
      });
      optionalList(where, status.conditions, 'status.conditions').forEach((c, i) => {
        if (!isObject(c)) fail(where, `status.conditions[${i}] must be an object`);
      });
      break;
    }
    default:
  }
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
          checkObject(obj as Json);
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
