// One question to one upstream, over UDP or TCP, with the anti-spoofing rules: every UDP query
// from a fresh socket (a fresh random source port) with a fresh random ID, and a reply accepted
// only from the upstream's address and port, with our ID, QR set, and our question (name
// case-insensitively, type, class). Anything else is dropped and counted, and the wait goes on
// until the real reply or the timeout. TCP connections are kept per upstream and pipelined. The
// attempts of one query share an AttemptGroup: the first good reply ends the others.
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect, isIPv6, type Socket } from 'node:net';
import { FLAG, HEADER_SIZE, TYPE } from '../dns/constants.ts';
import { type Message, MalformedMessageError, readMessage } from '../dns/reader.ts';
import type { Query } from '../dns/message.ts';
import { nameOctets } from '../dns/writer.ts';
import { ClusterDnsError } from '../base/errors.ts';

export interface Upstream {
  readonly host: string;
  readonly port: number;
  /** `ip:port`, as CoreDNS's `to` label writes it. */
  readonly label: string;
}

export function upstream(host: string, port: number): Upstream {
  return { host, port, label: isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}` };
}

export interface Question {
  /** Lower-case presentation form, as Query.name. */
  readonly name: string;
  readonly type: number;
  readonly class: number;
  readonly dnssecOk: boolean;
  readonly checkingDisabled: boolean;
}

/** What a client's query asks: its name, type and class, with its DO and CD bits. */
export function questionOf(query: Query): Question {
  return {
    name: query.name,
    type: query.type,
    class: query.class,
    dnssecOk: query.edns?.dnssecOk ?? false,
    checkingDisabled: (query.flags & FLAG.CD) !== 0,
  };
}

export type ExchangeErrorKind = 'timeout' | 'network' | 'closed';

export class ExchangeError extends ClusterDnsError {
  override name = 'ExchangeError';
  readonly code = 'CDNS_ERR_EXCHANGE';
  readonly kind: ExchangeErrorKind;
  constructor(kind: ExchangeErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

export interface Exchanged {
  readonly wire: Buffer;
  readonly message: Message;
}

/**
 * The attempts of one query in flight (its UDP sockets and TCP waits): close() ends every one
 * still waiting, once the first good reply has won or the query's deadline has passed.
 */
export class AttemptGroup {
  readonly #aborts = new Set<(err: ExchangeError) => void>();
  #closed = false;

  get closed(): boolean {
    return this.#closed;
  }

  /** Attempts still waiting for their reply. */
  get size(): number {
    return this.#aborts.size;
  }

  add(abort: (err: ExchangeError) => void): void {
    this.#aborts.add(abort);
  }

  delete(abort: (err: ExchangeError) => void): void {
    this.#aborts.delete(abort);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const abort of [...this.#aborts]) abort(new ExchangeError('closed', 'another attempt answered, or the deadline passed'));
    this.#aborts.clear();
  }
}

/** The EDNS buffer size we advertise upstream (DNS Flag Day 2020). */
const UPSTREAM_UDP_SIZE = 1232;

/** Writes a name in presentation form (with `\DDD` escapes) as wire labels at `at`. */
function writeName(out: Buffer, at: number, name: string): number {
  if (name !== '') {
    for (const label of name.split('.')) {
      const lengthAt = at++;
      for (let i = 0; i < label.length; i++) {
        const c = label.charCodeAt(i);
        if (c === 92 && i + 3 < label.length) {
          out[at++] = Number(label.slice(i + 1, i + 4));
          i += 3;
        } else {
          out[at++] = c & 0xff;
        }
      }
      out[lengthAt] = at - lengthAt - 1;
    }
  }
  out[at++] = 0;
  return at;
}

/** A recursive query for `q` with `id`, RD set, CD and DO carried over, our OPT attached. */
export function encodeQuery(id: number, q: Question): Buffer {
  const out = Buffer.alloc(HEADER_SIZE + nameOctets(q.name) + 4 + 11);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(FLAG.RD | (q.checkingDisabled ? FLAG.CD : 0), 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(1, 10);
  let at = writeName(out, HEADER_SIZE, q.name);
  out.writeUInt16BE(q.type, at);
  out.writeUInt16BE(q.class, at + 2);
  at += 4;
  out[at] = 0; // root owner
  out.writeUInt16BE(TYPE.OPT, at + 1);
  out.writeUInt16BE(UPSTREAM_UDP_SIZE, at + 3);
  out.writeUInt32BE(q.dnssecOk ? 0x8000 : 0, at + 5);
  out.writeUInt16BE(0, at + 9);
  return out;
}

/** The reply, when `wire` answers `id`/`q`; null for anything that does not (counted as spoofed). */
export function acceptReply(wire: Buffer, id: number, q: Question): Message | null {
  if (wire.length < HEADER_SIZE || wire.readUInt16BE(0) !== id || (wire.readUInt16BE(2) & FLAG.QR) === 0) return null;
  let message: Message;
  try {
    message = readMessage(wire);
  } catch (err) {
    if (err instanceof MalformedMessageError) return null;
    throw err;
  }
  const asked = message.question;
  if (!asked || asked.name !== q.name || asked.type !== q.type || asked.class !== q.class) return null;
  return message;
}

function randomId(): number {
  return randomInt(0, 0x10000);
}

interface PendingTcp {
  readonly q: Question;
  readonly resolve: (value: Exchanged) => void;
  readonly reject: (err: ExchangeError) => void;
  readonly timer: NodeJS.Timeout;
}

/** Timed-out IDs remembered per connection, so a late reply is dropped quietly rather than counted as forged. */
const MAX_EXPIRED_IDS = 256;

/** One kept TCP connection to an upstream, with queries pipelined on it (RFC 7766). */
class TcpChannel {
  readonly #socket: Socket;
  readonly #pending = new Map<number, PendingTcp>();
  /** IDs we stopped waiting for: their late replies are not forgeries (bounded, see send). */
  readonly #expired = new Set<number>();
  readonly #onSpoofed: () => void;
  readonly #idleMs: number;
  #buffered: Buffer = Buffer.alloc(0);
  #idle: NodeJS.Timeout | null = null;
  closed = false;

  constructor(to: Upstream, onSpoofed: () => void, idleMs: number, onClose: () => void) {
    this.#onSpoofed = onSpoofed;
    this.#idleMs = idleMs;
    this.#socket = connect({ host: to.host, port: to.port });
    this.#socket.setNoDelay(true);
    this.#socket.on('data', (chunk: Buffer) => this.#read(chunk));
    const end = (why: string) => {
      if (this.closed) return;
      this.closed = true;
      if (this.#idle) clearTimeout(this.#idle);
      onClose();
      for (const [, p] of this.#pending) {
        clearTimeout(p.timer);
        p.reject(new ExchangeError('network', `tcp ${to.label}: ${why}`));
      }
      this.#pending.clear();
    };
    this.#socket.on('error', (err) => end(err.message));
    this.#socket.on('close', () => end('connection closed'));
    this.#armIdle();
  }

  #armIdle(): void {
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = null;
    if (this.#pending.size > 0) return;
    this.#idle = setTimeout(() => this.close(), this.#idleMs);
    this.#idle.unref();
  }

  #read(chunk: Buffer): void {
    this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    while (this.#buffered.length >= 2) {
      const length = this.#buffered.readUInt16BE(0);
      if (this.#buffered.length < 2 + length) break;
      const wire = Buffer.from(this.#buffered.subarray(2, 2 + length));
      this.#buffered = this.#buffered.subarray(2 + length);
      const id = wire.length >= 2 ? wire.readUInt16BE(0) : -1;
      const pending = this.#pending.get(id);
      if (!pending && this.#expired.delete(id)) continue;
      const message = pending ? acceptReply(wire, id, pending.q) : null;
      if (!pending || !message) {
        this.#onSpoofed();
        continue;
      }
      this.#pending.delete(id);
      clearTimeout(pending.timer);
      pending.resolve({ wire, message });
    }
    this.#armIdle();
  }

  send(q: Question, timeoutMs: number, group: AttemptGroup | null): Promise<Exchanged> {
    let id = randomId();
    for (let i = 0; (this.#pending.has(id) || this.#expired.has(id)) && i < 16; i++) id = randomId();
    const query = encodeQuery(id, q);
    const frame = Buffer.allocUnsafe(2 + query.length);
    frame.writeUInt16BE(query.length, 0);
    query.copy(frame, 2);
    return new Promise<Exchanged>((resolve, reject) => {
      // We stop waiting (timeout, or the group closed): a reply that still comes is dropped quietly.
      const giveUp = (err: ExchangeError) => {
        if (this.#pending.get(id)?.timer !== timer) return;
        clearTimeout(timer);
        this.#pending.delete(id);
        group?.delete(giveUp);
        if (this.#expired.size >= MAX_EXPIRED_IDS) this.#expired.clear();
        this.#expired.add(id);
        reject(err);
        this.#armIdle();
      };
      const timer = setTimeout(() => giveUp(new ExchangeError('timeout', `tcp timeout after ${timeoutMs} ms`)), timeoutMs);
      const settle = (value: Exchanged) => {
        group?.delete(giveUp);
        resolve(value);
      };
      const fail = (err: ExchangeError) => {
        group?.delete(giveUp);
        reject(err);
      };
      this.#pending.set(id, { q, resolve: settle, reject: fail, timer });
      group?.add(giveUp);
      if (this.#idle) clearTimeout(this.#idle);
      this.#socket.write(frame);
    });
  }

  close(): void {
    this.#socket.destroy();
  }
}

export interface TransportOptions {
  /** A reply that was not ours (wrong source, ID or question, or garbage). */
  readonly onSpoofed: () => void;
  /** Idle kept TCP connections close after this (default 10 s, CoreDNS's expire). */
  readonly tcpIdleMs?: number;
}

export class Transport {
  readonly #o: TransportOptions;
  readonly #channels = new Map<string, TcpChannel>();
  /** UDP exchanges in flight, so close() ends them instead of leaving sockets and timers behind. */
  readonly #udpInFlight = new Set<(err: ExchangeError) => void>();
  #closed = false;

  constructor(options: TransportOptions) {
    this.#o = options;
  }

  /**
   * `q` over UDP from a fresh socket; waits out spoofed replies until `timeoutMs`, or until
   * `group` closes.
   */
  udp(to: Upstream, q: Question, timeoutMs: number, group: AttemptGroup | null = null): Promise<Exchanged> {
    if (this.#closed) return Promise.reject(new ExchangeError('closed', 'transport closed'));
    if (group?.closed) return Promise.reject(new ExchangeError('closed', 'attempts closed'));
    const id = randomId();
    const query = encodeQuery(id, q);
    const socket = createSocket(isIPv6(to.host) ? 'udp6' : 'udp4');
    return new Promise<Exchanged>((resolve, reject) => {
      let done = false;
      const finish = (err: ExchangeError | null, value?: Exchanged) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.#udpInFlight.delete(abort);
        group?.delete(abort);
        socket.close();
        if (err) reject(err);
        else resolve(value!);
      };
      const abort = (err: ExchangeError) => finish(err);
      this.#udpInFlight.add(abort);
      group?.add(abort);
      const timer = setTimeout(() => finish(new ExchangeError('timeout', `udp timeout after ${timeoutMs} ms`)), timeoutMs);
      socket.on('error', (err) => finish(new ExchangeError('network', `udp ${to.label}: ${err.message}`)));
      socket.on('message', (wire, from) => {
        const message = from.address === to.host && from.port === to.port ? acceptReply(wire, id, q) : null;
        if (!message) {
          this.#o.onSpoofed();
          return;
        }
        finish(null, { wire, message });
      });
      // Port 0: the kernel picks a random ephemeral port for each query.
      socket.bind(0, () => socket.send(query, to.port, to.host));
    });
  }

  /** `q` over the kept TCP connection to `to` (opened on demand); ends early when `group` closes. */
  tcp(to: Upstream, q: Question, timeoutMs: number, group: AttemptGroup | null = null): Promise<Exchanged> {
    if (this.#closed) return Promise.reject(new ExchangeError('closed', 'transport closed'));
    if (group?.closed) return Promise.reject(new ExchangeError('closed', 'attempts closed'));
    let channel = this.#channels.get(to.label);
    if (!channel || channel.closed) {
      const fresh = new TcpChannel(to, this.#o.onSpoofed, this.#o.tcpIdleMs ?? 10_000, () => {
        if (this.#channels.get(to.label) === fresh) this.#channels.delete(to.label);
      });
      channel = fresh;
      this.#channels.set(to.label, channel);
    }
    return channel.send(q, timeoutMs, group);
  }

  /** Kept TCP connections right now (for tests). */
  get tcpConnections(): number {
    return this.#channels.size;
  }

  /** UDP exchanges waiting for their reply right now (for tests). */
  get udpInFlight(): number {
    return this.#udpInFlight.size;
  }

  close(): void {
    this.#closed = true;
    for (const channel of this.#channels.values()) channel.close();
    this.#channels.clear();
    for (const abort of [...this.#udpInFlight]) abort(new ExchangeError('closed', 'transport closed'));
  }
}
