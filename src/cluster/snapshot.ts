// --snapshot PATH: the slim index on disk, so a DNS pod that restarts while the API server is
// unreachable still answers the cluster as it last saw it. Written atomically (temp file, fsync,
// rename) every interval when the index changed, and at shutdown; only ever from a live-synced
// index, so a snapshot never holds a half-listed cluster. Read once at start; the first live
// sync of each kind replaces what came from it.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import type { ClusterIndex } from './index.ts';
import { type Kind, type RecordOf, KINDS } from './records.ts';
import type { Logger } from '../observe/log.ts';

export const SNAPSHOT_FORMAT = 'cluster-dns/snapshot/v1';

export interface SnapshotFile {
  readonly format: typeof SNAPSHOT_FORMAT;
  readonly zone: string;
  /** Epoch ms when it was written. */
  readonly writtenAt: number;
  readonly records: { readonly [K in Kind]: readonly RecordOf[K][] };
}

export class SnapshotError extends Error {
  override name = 'SnapshotError';
  readonly code = 'CDNS_ERR_SNAPSHOT';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
const isString = (v: unknown): v is string => typeof v === 'string';
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isPorts = (v: unknown) =>
  Array.isArray(v) && v.every((p) => isObject(p) && isString(p.name) && isString(p.protocol) && typeof p.port === 'number');

/** Shape checks per kind: a snapshot is our own file, but a truncated or foreign one must not poison the index. */
const VALID: { [K in Kind]: (r: unknown) => boolean } = {
  Namespace: (r) => isObject(r) && isString(r.name),
  Service: (r) =>
    isObject(r) &&
    isString(r.namespace) &&
    isString(r.name) &&
    (r.kind === 'ClusterIP' || r.kind === 'Headless' || r.kind === 'ExternalName') &&
    isStringArray(r.clusterIPs) &&
    isString(r.externalName) &&
    isPorts(r.ports) &&
    typeof r.publishNotReadyAddresses === 'boolean',
  EndpointSlice: (r) =>
    isObject(r) &&
    isString(r.namespace) &&
    isString(r.name) &&
    isString(r.service) &&
    isPorts(r.ports) &&
    Array.isArray(r.endpoints) &&
    r.endpoints.every((e) => isObject(e) && isStringArray(e.addresses) && isString(e.hostname) && typeof e.ready === 'boolean'),
  Pod: (r) =>
    isObject(r) &&
    isString(r.namespace) &&
    isString(r.name) &&
    isStringArray(r.ips) &&
    isString(r.hostname) &&
    isString(r.subdomain) &&
    typeof r.ready === 'boolean',
};

/** Reads and checks a snapshot; throws SnapshotError saying what is wrong with it. */
export function readSnapshot(path: string, zone: string): SnapshotFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new SnapshotError(`${path}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!isObject(parsed) || parsed.format !== SNAPSHOT_FORMAT) throw new SnapshotError(`${path}: not a ${SNAPSHOT_FORMAT} file`);
  if (parsed.zone !== zone) throw new SnapshotError(`${path}: written for zone ${String(parsed.zone)}, serving ${zone}`);
  if (typeof parsed.writtenAt !== 'number' || !isObject(parsed.records)) throw new SnapshotError(`${path}: incomplete`);
  for (const kind of KINDS) {
    const list = parsed.records[kind];
    if (!Array.isArray(list)) throw new SnapshotError(`${path}: no ${kind} records`);
    const bad = list.findIndex((r) => !VALID[kind](r));
    if (bad >= 0) throw new SnapshotError(`${path}: ${kind} record ${bad} is malformed`);
  }
  return parsed as unknown as SnapshotFile;
}

/** Loads a snapshot into an empty index and marks every kind synced (the data is complete, if old). */
export function restoreSnapshot(index: ClusterIndex, snapshot: SnapshotFile): Record<Kind, number> {
  const counts = { Namespace: 0, Service: 0, EndpointSlice: 0, Pod: 0 };
  for (const kind of KINDS) {
    for (const record of snapshot.records[kind]) index.upsert(kind, record);
    counts[kind] = snapshot.records[kind].length;
    index.markSynced(kind);
  }
  return counts;
}

/** Writes the index to `path` atomically: a reader sees the old file or the new one, never half. */
export function writeSnapshot(path: string, index: ClusterIndex, zone: string, now = Date.now()): number {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', 0o600);
  let bytes = 0;
  try {
    // Streamed kind by kind, record by record: 150k pods never become one giant string.
    const write = (text: string) => {
      bytes += writeSync(fd, text);
    };
    write(`{"format":${JSON.stringify(SNAPSHOT_FORMAT)},"zone":${JSON.stringify(zone)},"writtenAt":${now},"records":{`);
    KINDS.forEach((kind, k) => {
      write(`${k > 0 ? ',' : ''}${JSON.stringify(kind)}:[`);
      let first = true;
      let chunk = '';
      for (const record of index.all(kind)) {
        chunk += (first ? '' : ',') + JSON.stringify(record);
        first = false;
        if (chunk.length > 1 << 16) {
          write(chunk);
          chunk = '';
        }
      }
      write(`${chunk}]`);
    });
    write('}}\n');
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
  return bytes;
}

export interface SnapshotWriterOptions {
  readonly path: string;
  readonly zone: string;
  readonly index: ClusterIndex;
  readonly logger: Logger;
  readonly intervalMs: number;
  /** True once the live source has listed every kind: before that the index may be partial. */
  readonly live: () => boolean;
  readonly onWritten?: (bytes: number) => void;
}

export interface SnapshotWriter {
  /** Writes now if the index is live and changed since the last write. */
  flush(): void;
  /** Stops the timer and writes a last time. */
  stop(): void;
}

export function startSnapshotWriter(options: SnapshotWriterOptions): SnapshotWriter {
  const log = options.logger.child({ component: 'snapshot' });
  let writtenVersion = -1;
  const flush = () => {
    if (!options.live() || options.index.version === writtenVersion) return;
    const version = options.index.version;
    const started = performance.now();
    try {
      const bytes = writeSnapshot(options.path, options.index, options.zone);
      writtenVersion = version;
      options.onWritten?.(bytes);
      log.debug({ path: options.path, bytes, ms: Math.round(performance.now() - started) }, 'snapshot written');
    } catch (err) {
      log.warn({ path: options.path, err: (err as Error).message }, 'snapshot not written');
    }
  };
  const timer = setInterval(flush, options.intervalMs);
  timer.unref();
  return {
    flush,
    stop: () => {
      clearInterval(timer);
      flush();
    },
  };
}
