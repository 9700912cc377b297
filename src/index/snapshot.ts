// --snapshot PATH: the slim index on disk, so a DNS pod that restarts while the API server is
// unreachable still answers the cluster as it last saw it. Written atomically (temp file, fsync,
// rename, fsync of the folder) every interval when the index changed, and at shutdown; only ever
// from a live-synced index, so a snapshot never holds a half-listed cluster. Read once at start;
// the first live sync of each kind replaces what came from it.
//
// The event loop answers DNS, so neither side holds it for long: a write serializes a
// point-in-time view of the index (ClusterIndex.view) in slices of a millisecond, as bytes
// straight into two reused buffers (snapshot-lines.ts: no string or object per line, so the
// collector has next to nothing to do), and the writes, the fsyncs and the rename run in
// libuv's thread pool. A restore reads the file a
// chunk and a line at a time: memory holds the index being built, never the file.
//
// The format (v2): one JSON value a line. A header, then one object a line as the smallest API
// object the converters turn back into the record (records.ts toObject, objectLine), then an
// end line with the count, which tells a complete file from a cut one. Each object is restored
// through the same checks and converters as a --manifests file: one that fails them is dropped
// and counted.
import { closeSync, fstatSync, openSync, readSync, write } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ClusterIndex, IndexView } from './index.ts';
import { type Kind, type ObjectKinds, KINDS, InvalidObjectError, OBJECT_KINDS, checkObject, toRecord } from '../objects/kinds.ts';
import { DONE, LineBuffer, SLICE_OVER, ViewLines } from './snapshot-lines.ts';
import type { Logger } from '../base/log.ts';
import { ClusterDnsError } from '../base/errors.ts';

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

export class SnapshotError extends ClusterDnsError {
  override name = 'SnapshotError';
  readonly code = 'CDNS_ERR_SNAPSHOT';
}

/** A write's work on the event loop is cut into slices of about this long (a turn may run two). */
const SLICE_MS = 1;
/** Serialized text is written in pieces of about this size. */
const WRITE_BYTES = 256 * 1024;
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

/**
 * Bytes on their way to the file: lines are written into one buffer while the other one, full,
 * is written out in the thread pool, so that serializing waits for the disk only when it is
 * ahead of it.
 */
class Output {
  readonly #fd: number;
  readonly lines = new LineBuffer(WRITE_BYTES);
  #spare: Buffer | null = Buffer.allocUnsafe(WRITE_BYTES);
  #writing: Promise<void> | null = null;
  #failed: Error | null = null;
  bytes = 0;
  constructor(fd: number) {
    this.#fd = fd;
  }
  /** Hands the lines so far to the thread pool, and goes on in the spare buffer (once it is back). */
  async flush(): Promise<void> {
    if (this.#writing) await this.#writing;
    if (this.#failed) throw this.#failed;
    const full = this.lines.buffer;
    const used = this.lines.used;
    if (used === 0) return;
    this.lines.buffer = this.#spare!;
    this.lines.used = 0;
    this.#spare = null;
    this.#writing = writeAll(this.#fd, full, used).then(
      () => {
        this.bytes += used;
        this.#spare = full;
        this.#writing = null;
      },
      (err: Error) => {
        this.#failed = err;
        this.#writing = null;
      },
    );
  }
  /** Everything written out. */
  async drain(): Promise<void> {
    await this.flush();
    if (this.#writing) await this.#writing;
    if (this.#failed) throw this.#failed;
  }
  /** Waits for a write under way, without starting one (after a failure). */
  async idle(): Promise<void> {
    if (this.#writing) await this.#writing;
  }
  /** A line of text (the header, the end line). */
  async text(line: string): Promise<void> {
    const bytes = Buffer.from(line);
    for (;;) {
      this.lines.begin();
      this.lines.bytes(bytes);
      if (this.lines.end()) return;
      if (this.lines.used > 0) await this.flush();
      else this.lines.grow();
    }
  }
}

/** write(2) of `buffer[0, length)` in the thread pool, however many calls it takes. */
function writeAll(fd: number, buffer: Buffer, length: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = 0;
    const next = () =>
      write(fd, buffer, done, length - done, null, (err, written) => {
        if (err) return reject(err);
        done += written;
        if (done < length) next();
        else resolve();
      });
    next();
  });
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
  const out = new Output(file.fd);
  try {
    const header: SnapshotHeader = { format: SNAPSHOT_FORMAT, zone, writtenAt: now };
    await out.text(`${JSON.stringify(header)}\n`);
    const lines = new ViewLines(view);
    // Slices of SLICE_MS; a full buffer goes to the thread pool, and the next slice starts.
    for (;;) {
      const done = lines.fill(out.lines, performance.now() + SLICE_MS);
      if (done === DONE) break;
      if (done === SLICE_OVER) await yieldToLoop();
      else if (out.lines.used > 0) await out.flush();
      else out.lines.grow(); // one line longer than the whole buffer
    }
    release(); // every line is out: pod changes need not save blocks for the view any more
    await out.text(`${JSON.stringify({ end: true, objects: lines.objects })}\n`);
    await out.drain();
    await file.sync();
  } catch (err) {
    await out.idle();
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
  /** The kinds the source reads (objectKinds): a kind left out (noendpoints) is not restored. */
  readonly kinds?: ObjectKinds;
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
    throw new SnapshotError(
      `${path}: written ${formatAge(age)} ago (${new Date(header.writtenAt).toISOString()}), older than --snapshot-max-age ${formatAge(limits.maxAgeMs)}`,
    );
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
    if (size > limits.maxBytes)
      throw new SnapshotError(`${path}: ${formatBytes(size)}, over --snapshot-max-size ${formatBytes(limits.maxBytes)}`);
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
        const kinds = limits.kinds ?? OBJECT_KINDS;
        if (typeof obj.kind !== 'string' || !Object.hasOwn(OBJECT_KINDS, obj.kind))
          throw new InvalidObjectError(`${String(obj.kind)}: not a kind of record`);
        // A kind not read now (noendpoints), or an object the options leave out (namespaces).
        const converted = toRecord(obj, kinds);
        if (!converted) continue;
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
