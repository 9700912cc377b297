// --snapshot PATH: the slim index on disk, so a DNS pod that restarts while the API server is
// unreachable still answers the cluster as it last saw it. Written atomically (temp file, fsync,
// rename, fsync of the folder) every interval when the index changed, and at shutdown; only ever
// from a live-synced index, so a snapshot never holds a half-listed cluster. Read once at start;
// the first live sync of each kind replaces what came from it.
//
// The event loop answers DNS, so neither side holds it for long: a write serializes a
// point-in-time view of the index (ClusterIndex.view) in slices of a couple of milliseconds, and
// the writes, the fsyncs and the rename run in libuv's thread pool. A restore reads the file a
// chunk and a line at a time: memory holds the index being built, never the file.
//
// The format (v2): one JSON value a line. A header, then one object a line as the smallest API
// object the converters turn back into the record (records.ts toObject, objectLine), then an
// end line with the count, which tells a complete file from a cut one. Each object is restored
// through the same checks and converters as a --manifests file: one that fails them is dropped
// and counted.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ClusterIndex, IndexView } from './index.ts';
import { type Kind, type RecordOf, KINDS, InvalidObjectError, checkObject, objectLine, toRecord } from './records.ts';
import type { Logger } from '../observe/log.ts';

export const SNAPSHOT_FORMAT = 'cluster-dns/snapshot/v2';
/** 24 hours (see README, --snapshot-max-age). */
export const DEFAULT_SNAPSHOT_MAX_AGE_MS = 24 * 3_600_000;
/** 64 MiB: about twice the file of a 150,000-pod cluster with long names. */
export const DEFAULT_SNAPSHOT_MAX_BYTES = 64 * 1024 * 1024;

export interface SnapshotHeader {
  readonly format: typeof SNAPSHOT_FORMAT;
  readonly zone: string;
  /** Epoch ms when it was written. */
  readonly writtenAt: number;
}

export class SnapshotError extends Error {
  override name = 'SnapshotError';
  readonly code = 'CDNS_ERR_SNAPSHOT';
}

/** A write's work on the event loop is cut into slices of about this long (a turn may run two). */
const SLICE_MS = 1;
/** Serialized text is written in pieces of about this size. */
const WRITE_BYTES = 64 * 1024;
/** Bytes read at a time on restore; a line (one object) may not be longer than MAX_LINE. */
const READ_BYTES = 1024 * 1024;
const MAX_LINE = 16 * 1024 * 1024;

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${bytes} bytes`;
}

export function formatAge(ms: number): string {
  return ms >= 3_600_000 ? `${(ms / 3_600_000).toFixed(1)}h` : ms >= 60_000 ? `${Math.round(ms / 60_000)}m` : `${Math.round(ms / 1000)}s`;
}

const ascii = (text: string) => Buffer.from(text, 'latin1');
// A plain pod's line around its namespace, name and address: what objectLine writes for it.
const POD_START = ascii('{"kind":"Pod","metadata":{"namespace":"');
const POD_NAME = ascii('","name":"');
const POD_IP = ascii('"},"status":{"podIPs":[{"ip":"');
const POD_END = ascii('"}],"conditions":[{"type":"Ready","status":"True"}]}}\n');
const POD_FIXED = POD_START.length + POD_NAME.length + POD_IP.length + POD_END.length + 15;
const SHORT_ESCAPES: Record<number, string> = { 0x22: '\\"', 0x5c: '\\\\', 0x08: '\\b', 0x0c: '\\f', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t' };

/** Copies `src[from, to)` into `out` at `at` as the inside of a JSON string (as JSON.stringify escapes). */
function jsonBytes(out: Buffer, at: number, src: Uint8Array, from: number, to: number): number {
  for (let i = from; i < to; i++) {
    const b = src[i] as number;
    if (b >= 0x20 && b !== 0x22 && b !== 0x5c) {
      out[at++] = b;
      continue;
    }
    const escape = SHORT_ESCAPES[b] ?? `\\u00${b.toString(16).padStart(2, '0')}`;
    at += out.write(escape, at, 'latin1');
  }
  return at;
}

function octet(out: Buffer, at: number, n: number): number {
  if (n >= 100) out[at++] = 0x30 + Math.floor(n / 100);
  if (n >= 10) out[at++] = 0x30 + (Math.floor(n / 10) % 10);
  out[at++] = 0x30 + (n % 10);
  return at;
}

/**
 * Writes the line of the plain pod whose key (`ns/name`, length-prefixed) is at `offset` of the
 * arena, straight from the table's bytes: no string, no record, no garbage for 150,000 pods.
 */
function plainPodLine(out: Buffer, at: number, arena: Uint8Array, offset: number, v4: number): number {
  const start = offset + 2;
  const end = start + ((arena[offset] as number) | ((arena[offset + 1] as number) << 8));
  let slash = start;
  while (slash < end && arena[slash] !== 0x2f) slash++;
  at += POD_START.copy(out, at);
  at = jsonBytes(out, at, arena, start, slash);
  at += POD_NAME.copy(out, at);
  at = jsonBytes(out, at, arena, slash + 1, end);
  at += POD_IP.copy(out, at);
  at = octet(out, at, (v4 >>> 24) & 255);
  out[at++] = 0x2e;
  at = octet(out, at, (v4 >>> 16) & 255);
  out[at++] = 0x2e;
  at = octet(out, at, (v4 >>> 8) & 255);
  out[at++] = 0x2e;
  at = octet(out, at, v4 & 255);
  at += POD_END.copy(out, at);
  return at;
}

/** Bytes on their way to the file: one buffer, written out (in the thread pool) when it fills. */
class Output {
  readonly #file: FileHandle;
  #buffer = Buffer.allocUnsafe(WRITE_BYTES);
  #used = 0;
  bytes = 0;
  constructor(file: FileHandle) {
    this.#file = file;
  }
  /** A buffer with `need` bytes free at `at`; write into it, then commit(end). */
  async room(need: number): Promise<{ buffer: Buffer; at: number }> {
    if (need > this.#buffer.length - this.#used) await this.flush();
    if (need > this.#buffer.length) this.#buffer = Buffer.allocUnsafe(need);
    return { buffer: this.#buffer, at: this.#used };
  }
  /** `room` without the wait, or null when a flush is due first. */
  roomNow(need: number): { buffer: Buffer; at: number } | null {
    return need > this.#buffer.length - this.#used ? null : { buffer: this.#buffer, at: this.#used };
  }
  commit(end: number): void {
    this.#used = end;
  }
  async text(line: string): Promise<void> {
    const need = Buffer.byteLength(line);
    const { buffer, at } = this.roomNow(need) ?? (await this.room(need));
    this.commit(at + buffer.write(line, at));
  }
  async flush(): Promise<void> {
    let done = 0;
    while (done < this.#used) done += (await this.#file.write(this.#buffer, done, this.#used - done)).bytesWritten;
    this.bytes += done;
    this.#used = 0;
  }
}

/**
 * Writes `view` to `path` atomically: a reader sees the old file or the new one, never half of
 * one, and a crash leaves at most a temporary file behind. Resolves to the bytes written.
 */
export async function writeSnapshot(path: string, view: IndexView, zone: string, now = Date.now()): Promise<number> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const release = () => view.pods.table.release();
  const file = await open(tmp, 'w', 0o600).catch((err: unknown) => {
    release();
    throw err;
  });
  const out = new Output(file);
  try {
    const header: SnapshotHeader = { format: SNAPSHOT_FORMAT, zone, writtenAt: now };
    await out.text(`${JSON.stringify(header)}\n`);
    let objects = 0;
    let sliceStarted = performance.now();
    const due = () => (objects & 63) === 0 && performance.now() - sliceStarted > SLICE_MS;
    const pause = async () => {
      await yieldToLoop();
      sliceStarted = performance.now();
    };
    const lines = async (kind: Kind, records: Iterable<RecordOf[Kind]>) => {
      for (const record of records) {
        await out.text(objectLine(kind, record));
        objects++;
        if (due()) await pause();
      }
    };
    for (const kind of KINDS) {
      if (kind !== 'Pod') {
        await lines(kind, view.records(kind));
        continue;
      }
      const { named, table, others } = view.pods;
      await lines('Pod', named);
      const { arena } = table;
      for (let i = 0; i < table.slots; i++) {
        const a = table.at(i);
        if (a === 0) continue;
        const need = POD_FIXED + 6 * ((arena[a - 1] as number) | ((arena[a] as number) << 8));
        const room = out.roomNow(need) ?? (await out.room(need));
        out.commit(plainPodLine(room.buffer, room.at, arena, a - 1, table.v4(i)));
        objects++;
        if (due()) await pause();
      }
      await lines('Pod', others());
    }
    release(); // every line is out: pod changes need not save blocks for the view any more
    await out.text(`${JSON.stringify({ end: true, objects })}\n`);
    await out.flush();
    await file.sync();
  } catch (err) {
    await file.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw err;
  } finally {
    release();
  }
  await file.close();
  await rename(tmp, path);
  // The rename is durable only once the folder is: without this a power cut may bring back the old file, or none.
  const folder = await open(dirname(path), 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
  return out.bytes;
}

export interface RestoreLimits {
  readonly zone: string;
  /** Files larger than this are not read at all. */
  readonly maxBytes: number;
  /** Files written longer ago than this are not restored. */
  readonly maxAgeMs: number;
  readonly now?: number;
}

export interface Restored {
  readonly writtenAt: number;
  readonly bytes: number;
  /** Records restored, by kind. */
  readonly counts: Record<Kind, number>;
  /** Objects that failed the checks or the converters, left out. */
  readonly dropped: number;
  /** The first few reasons objects were dropped. */
  readonly problems: readonly string[];
}

/** The file's lines, read a chunk at a time; `start` is the byte offset to begin at. */
function* lines(fd: number, path: string, start: number, end: number): Generator<string> {
  let buffer = Buffer.allocUnsafe(READ_BYTES);
  let filled = 0;
  let position = start;
  for (;;) {
    if (filled === buffer.length) {
      if (buffer.length >= MAX_LINE) throw new SnapshotError(`${path}: a line longer than ${formatBytes(MAX_LINE)}`);
      const bigger = Buffer.allocUnsafe(buffer.length * 2);
      buffer.copy(bigger, 0, 0, filled);
      buffer = bigger;
    }
    const read = position < end ? readSync(fd, buffer, filled, Math.min(buffer.length - filled, end - position), position) : 0;
    position += read;
    filled += read;
    const data = buffer.subarray(0, filled);
    let from = 0;
    for (let nl = data.indexOf(10, from); nl >= 0; nl = data.indexOf(10, from)) {
      yield data.toString('utf8', from, nl);
      from = nl + 1;
    }
    if (read === 0) {
      if (from < filled) yield buffer.toString('utf8', from, filled);
      return;
    }
    buffer.copy(buffer, 0, from, filled);
    filled -= from;
  }
}

/** Reads `length` bytes at `position`. */
function readAt(fd: number, position: number, length: number): string {
  const buffer = Buffer.alloc(length);
  const read = readSync(fd, buffer, 0, length, position);
  return buffer.toString('utf8', 0, read);
}

function parseLine(path: string, line: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new SnapshotError(`${path}: ${what} is not JSON (${(err as Error).message.split('\n')[0]})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SnapshotError(`${path}: ${what} is not an object`);
  return value as Record<string, unknown>;
}

/** Checks the header: the format, the zone, the age. */
function checkHeader(path: string, fd: number, size: number, limits: RestoreLimits): { header: SnapshotHeader; bodyStart: number } {
  const head = readAt(fd, 0, Math.min(size, 64 * 1024));
  const newline = head.indexOf('\n');
  const format = /^\{"format":"([^"]*)"/.exec(head)?.[1];
  if (format !== undefined && format !== SNAPSHOT_FORMAT) {
    throw new SnapshotError(`${path}: written in the format ${format}, this version reads ${SNAPSHOT_FORMAT} (the next write replaces it)`);
  }
  if (newline < 0) throw new SnapshotError(`${path}: not a ${SNAPSHOT_FORMAT} file`);
  const header = parseLine(path, head.slice(0, newline), 'the header');
  if (header.format !== SNAPSHOT_FORMAT) throw new SnapshotError(`${path}: not a ${SNAPSHOT_FORMAT} file`);
  if (header.zone !== limits.zone) throw new SnapshotError(`${path}: written for zone ${String(header.zone)}, serving ${limits.zone}`);
  if (typeof header.writtenAt !== 'number') throw new SnapshotError(`${path}: the header has no writtenAt`);
  const age = (limits.now ?? Date.now()) - header.writtenAt;
  if (age > limits.maxAgeMs) {
    throw new SnapshotError(`${path}: written ${formatAge(age)} ago (${new Date(header.writtenAt).toISOString()}), older than --snapshot-max-age ${formatAge(limits.maxAgeMs)}`);
  }
  return { header: header as unknown as SnapshotHeader, bodyStart: Buffer.byteLength(head.slice(0, newline + 1)) };
}

/** The count of the end line, and where it starts: a file without one was cut short. */
function checkEnd(path: string, fd: number, size: number): { objects: number; bodyEnd: number } {
  const tailLength = Math.min(size, 256);
  const tail = readAt(fd, size - tailLength, tailLength);
  const m = /(?:^|\n)(\{"end":true,"objects":(\d+)\})\n$/.exec(tail);
  if (!m) throw new SnapshotError(`${path}: incomplete (no end line): cut short?`);
  return { objects: Number(m[2]), bodyEnd: size - Buffer.byteLength(m[1]!) - 1 };
}

/**
 * Loads a snapshot into an empty index and marks every kind synced (the data is complete, if
 * old). Throws SnapshotError saying why a file is not used, leaving the index empty: too big
 * (checked before anything is read), too old, of another format or zone, cut short, not JSON.
 */
export function restoreSnapshot(path: string, index: ClusterIndex, limits: RestoreLimits): Restored {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new SnapshotError(`${path}: ${(err as Error).message.split('\n')[0]}`);
  }
  const counts = { Namespace: 0, Service: 0, EndpointSlice: 0, Pod: 0 };
  let restoring = false;
  try {
    const { size } = fstatSync(fd);
    if (size > limits.maxBytes) throw new SnapshotError(`${path}: ${formatBytes(size)}, over --snapshot-max-size ${formatBytes(limits.maxBytes)}`);
    const { header, bodyStart } = checkHeader(path, fd, size, limits);
    const { objects, bodyEnd } = checkEnd(path, fd, size);
    let seen = 0;
    let dropped = 0;
    const problems: string[] = [];
    restoring = true;
    for (const line of lines(fd, path, bodyStart, bodyEnd)) {
      const obj = parseLine(path, line, `object ${++seen}`);
      try {
        checkObject(obj);
        const converted = toRecord(obj);
        if (!converted) throw new InvalidObjectError(`${String(obj.kind)}: not a kind of record`);
        index.upsert(converted.kind, converted.record);
        counts[converted.kind]++;
      } catch (err) {
        if (!(err instanceof InvalidObjectError)) throw err;
        dropped++;
        if (problems.length < 5) problems.push(`object ${seen}: ${err.message}`);
      }
    }
    if (seen !== objects) throw new SnapshotError(`${path}: ${seen} objects where the end line says ${objects}`);
    for (const kind of KINDS) index.markSynced(kind);
    return { writtenAt: header.writtenAt, bytes: size, counts, dropped, problems };
  } catch (err) {
    // Half a cluster must not answer: what was restored goes (nothing serves before this returns).
    if (restoring) for (const kind of KINDS) index.replace(kind, []);
    throw err;
  } finally {
    closeSync(fd);
  }
}

export interface SnapshotWriterOptions {
  readonly path: string;
  readonly zone: string;
  readonly index: ClusterIndex;
  readonly logger: Logger;
  readonly intervalMs: number;
  /** True once the live source has listed every kind: before that the index may be partial. */
  readonly live: () => boolean;
  /**
   * Epoch ms by which every kind had last heard from the API server (a list, an event or a
   * bookmark), or null: an unchanged index is rewritten now and then while it is confirmed, so
   * that a quiet cluster's file does not age past --snapshot-max-age.
   */
  readonly heardAt?: () => number | null;
  readonly maxAgeMs?: number;
  /** A file bigger than this would not be restored: say so when one is written. */
  readonly maxBytes?: number;
  readonly onWritten?: (bytes: number) => void;
}

export interface SnapshotWriter {
  /** Writes now if the index is live and changed since the last write (or is due a refresh). */
  flush(): Promise<void>;
  /** Stops the timer, waits for a write under way, and writes a last time. */
  stop(): Promise<void>;
}

export function startSnapshotWriter(options: SnapshotWriterOptions): SnapshotWriter {
  const log = options.logger.child({ component: 'snapshot' });
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_SNAPSHOT_MAX_AGE_MS;
  const maxBytes = options.maxBytes ?? DEFAULT_SNAPSHOT_MAX_BYTES;
  const refreshMs = Math.min(3_600_000, maxAgeMs / 4);
  let writtenVersion = -1;
  let writtenAt = 0;
  let tooBig = false;
  let writing: Promise<void> | null = null;
  const due = (): boolean => {
    if (!options.live()) return false;
    if (options.index.version !== writtenVersion) return true;
    const heard = options.heardAt?.() ?? null;
    return heard !== null && heard - writtenAt >= refreshMs;
  };
  const write = async () => {
    const started = performance.now();
    const now = Date.now();
    const view = options.index.view();
    try {
      const bytes = await writeSnapshot(options.path, view, options.zone, now);
      writtenVersion = view.version;
      writtenAt = now;
      options.onWritten?.(bytes);
      log.debug({ path: options.path, bytes, ms: Math.round(performance.now() - started) }, 'snapshot written');
      if (bytes > maxBytes !== tooBig) {
        tooBig = bytes > maxBytes;
        if (tooBig) log.warn({ path: options.path, bytes, maxBytes }, 'snapshot over --snapshot-max-size: a restart will not restore it');
      }
    } catch (err) {
      log.warn({ path: options.path, err: (err as Error).message }, 'snapshot not written');
    }
  };
  const flush = (): Promise<void> => {
    if (writing) return writing;
    if (!due()) return Promise.resolve();
    writing = write().finally(() => {
      writing = null;
    });
    return writing;
  };
  const timer = setInterval(() => void flush(), options.intervalMs);
  timer.unref();
  return {
    flush,
    stop: async () => {
      clearInterval(timer);
      await writing;
      await flush();
    },
  };
}
