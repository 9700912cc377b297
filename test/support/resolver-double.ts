// A recursive resolver as a node's upstream is one, on loopback (UDP): a name it has resolved
// comes back from its cache in ~1 ms; one it must resolve takes as long as its latency class says
// (a hash of the name picks it, so every double with the same seed agrees on every name: several
// upstreams in front of the same Internet); a few never come back. Questions for a name being
// resolved wait for that resolution (as Unbound and BIND coalesce them), so a retransmit costs it
// nothing. Zones can be made to never answer, to SERVFAIL or to NXDOMAIN; replies can be sent
// twice (a late duplicate); `silent` makes it a dead server (no reply at all, probes included).
// It counts what it is asked. For tests and bench/forward.ts; loopback only.
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { HEADER_SIZE, RCODE, TYPE } from '../../src/dns/constants.ts';
import { decodeName } from '../../src/dns/query.ts';
import type { WireRecord } from '../../src/dns/writer.ts';
import { reply, soa } from './upstream.ts';

/** Names of one class take `minMs`..`maxMs` to resolve (null: never). Shares add up to 1. */
export interface LatencyClass {
  readonly name: string;
  readonly share: number;
  readonly minMs: number;
  readonly maxMs: number | null;
}

/** The issue-18 mix: 80 % at 1 ms, 15 % at 50-400 ms, 4 % at 400-2000 ms, 1 % never. */
export const REALISTIC: readonly LatencyClass[] = [
  { name: 'fast', share: 0.8, minMs: 1, maxMs: 1 },
  { name: 'slow', share: 0.15, minMs: 50, maxMs: 400 },
  { name: 'very slow', share: 0.04, minMs: 400, maxMs: 2000 },
  { name: 'never', share: 0.01, minMs: 0, maxMs: null },
];

export type Outcome = { readonly kind: 'answer' | 'servfail' | 'nxdomain'; readonly delayMs: number } | { readonly kind: 'never' };

export interface ResolverDoubleOptions {
  readonly classes?: readonly LatencyClass[];
  /** Doubles with the same seed put every name in the same class with the same delay. */
  readonly seed?: number;
  /** How long a cached name takes (default 1 ms). */
  readonly cacheHitMs?: number;
  /** TTL of answers, and how long the double keeps them (default 300 s). */
  readonly ttl?: number;
  /** Names under these never get an answer. */
  readonly neverZones?: readonly string[];
  readonly servfailZones?: readonly string[];
  readonly nxdomainZones?: readonly string[];
  /** Every reply is sent again this long after (a late duplicate); null: once. */
  readonly duplicateAfterMs?: number | null;
}

/** FNV-1a, 32 bits, of `text` after `seed`. */
function hash(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function under(name: string, zones: readonly string[] | undefined): boolean {
  return zones?.some((z) => name === z || name.endsWith(`.${z}`)) ?? false;
}

/** The latency class of `name` (lower-case, no trailing dot) and how long it takes to resolve. */
export function classOf(
  name: string,
  classes: readonly LatencyClass[] = REALISTIC,
  seed = 0,
): { readonly cls: LatencyClass; readonly delayMs: number | null } {
  const h = hash(name, seed);
  const pick = (h % 1_000_000) / 1_000_000;
  let sum = 0;
  let cls = classes[classes.length - 1]!;
  for (const c of classes) {
    sum += c.share;
    if (pick < sum) {
      cls = c;
      break;
    }
  }
  if (cls.maxMs === null) return { cls, delayMs: null };
  const spread = cls.maxMs - cls.minMs;
  return { cls, delayMs: cls.minMs + (spread === 0 ? 0 : hash(name, seed ^ 0x5bd1e995) % (spread + 1)) };
}

interface Resolution {
  readonly waiting: { readonly request: Buffer; readonly port: number }[];
  done: boolean;
  expiresAt: number;
  readonly outcome: Outcome;
}

export class ResolverDouble {
  /** Queries received (probes included), and `. NS` probes among them. */
  queries = 0;
  probes = 0;
  /** Names that went through a resolution (a cache miss at the double). */
  resolutions = 0;
  /** A dead server: nothing is answered while set. */
  silent = false;
  readonly #o: ResolverDoubleOptions;
  readonly #socket: Socket;
  readonly #cache = new Map<string, Resolution>();
  readonly #overrides = new Map<string, Outcome>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #askedNames = new Map<string, number>();
  #closed = false;

  private constructor(socket: Socket, options: ResolverDoubleOptions) {
    this.#socket = socket;
    this.#o = options;
    socket.on('message', (msg, rinfo) => this.#serve(msg, rinfo.port, rinfo.address));
  }

  static async start(options: ResolverDoubleOptions = {}): Promise<ResolverDouble> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    socket.on('error', () => {});
    return new ResolverDouble(socket, options);
  }

  get port(): number {
    return (this.#socket.address() as AddressInfo).port;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** This name resolves like this instead of by its class. */
  set(name: string, outcome: Outcome): void {
    this.#overrides.set(name.toLowerCase(), outcome);
  }

  /** Times a name was asked (probes are ''). */
  asked(name: string): number {
    return this.#askedNames.get(name.toLowerCase()) ?? 0;
  }

  /** How `name` resolves at this double: an override, a zone rule, else its latency class. */
  outcome(name: string): Outcome {
    const o = this.#o;
    const override = this.#overrides.get(name);
    if (override) return override;
    if (under(name, o.neverZones)) return { kind: 'never' };
    const { delayMs } = classOf(name, o.classes, o.seed);
    if (delayMs === null) return { kind: 'never' };
    if (under(name, o.servfailZones)) return { kind: 'servfail', delayMs };
    if (under(name, o.nxdomainZones)) return { kind: 'nxdomain', delayMs };
    return { kind: 'answer', delayMs };
  }

  #later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!this.#closed) fn();
    }, ms);
    this.#timers.add(timer);
  }

  #serve(msg: Buffer, port: number, address: string): void {
    if (address !== '127.0.0.1') return;
    const question = msg.length > HEADER_SIZE ? decodeName(msg, HEADER_SIZE) : null;
    if (!question || question.end + 4 > msg.length) return;
    const name = question.name;
    const type = msg.readUInt16BE(question.end);
    // Counted even when silent: tests see what a dead server was sent.
    this.queries++;
    this.#askedNames.set(name, (this.#askedNames.get(name) ?? 0) + 1);
    if (this.silent) return;
    if (name === '' && type === TYPE.NS) {
      // The root's NS: every resolver has it cached.
      this.probes++;
      const root: WireRecord[] = ['a', 'b'].map((l) => ({ name: '', type: TYPE.NS, ttl: 518400, target: `${l}.root-servers.net` }));
      this.#later(this.#o.cacheHitMs ?? 1, () => this.#send(reply(msg, name, RCODE.NOERROR, root, []), port));
      return;
    }
    const key = `${type}|${name}`;
    const now = performance.now();
    let resolution = this.#cache.get(key);
    if (resolution?.done && now >= resolution.expiresAt) {
      this.#cache.delete(key);
      resolution = undefined;
    }
    if (resolution?.done) {
      const r = resolution;
      this.#later(this.#o.cacheHitMs ?? 1, () => this.#answer(msg, port, name, type, r.outcome));
      return;
    }
    if (resolution) {
      // Being resolved: this question waits for the same resolution.
      if (resolution.outcome.kind !== 'never') resolution.waiting.push({ request: Buffer.from(msg), port });
      return;
    }
    const outcome = this.outcome(name);
    this.resolutions++;
    const fresh: Resolution = { waiting: [], done: false, expiresAt: 0, outcome };
    this.#cache.set(key, fresh);
    if (outcome.kind === 'never') return;
    fresh.waiting.push({ request: Buffer.from(msg), port });
    this.#later(outcome.delayMs, () => {
      fresh.done = true;
      // SERVFAIL is not kept (a resolver retries the next time); answers and denials are.
      if (outcome.kind === 'servfail') this.#cache.delete(key);
      fresh.expiresAt = performance.now() + (this.#o.ttl ?? 300) * 1000;
      for (const w of fresh.waiting.splice(0)) this.#answer(w.request, w.port, name, type, outcome);
    });
  }

  #answer(request: Buffer, port: number, name: string, type: number, outcome: Outcome): void {
    if (this.silent) return;
    const ttl = this.#o.ttl ?? 300;
    const zone = name.split('.').slice(-2).join('.');
    const h = hash(name, 7);
    let out: Buffer;
    if (outcome.kind === 'servfail') out = reply(request, name, RCODE.SERVFAIL, [], []);
    else if (outcome.kind === 'nxdomain') out = reply(request, name, RCODE.NXDOMAIN, [], [soa(zone, ttl, 60)]);
    else if (type === TYPE.A)
      out = reply(request, name, RCODE.NOERROR, [{ name, type: TYPE.A, ttl, address: `198.18.${(h >>> 8) & 0xff}.${h & 0xff}` }], []);
    else if (type === TYPE.AAAA)
      out = reply(request, name, RCODE.NOERROR, [{ name, type: TYPE.AAAA, ttl, address: `2001:db8::${(h & 0xffff).toString(16)}` }], []);
    else out = reply(request, name, RCODE.NOERROR, [], [soa(zone, ttl, 60)]);
    this.#send(out, port);
  }

  #send(out: Buffer, port: number): void {
    if (this.silent || this.#closed) return;
    this.#socket.send(out, port, '127.0.0.1');
    const again = this.#o.duplicateAfterMs;
    if (again !== null && again !== undefined) this.#later(again, () => this.#send2(out, port));
  }

  #send2(out: Buffer, port: number): void {
    if (!this.silent) this.#socket.send(out, port, '127.0.0.1');
  }

  /** Forgets every resolved name (a resolver restart). */
  flush(): void {
    this.#cache.clear();
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }
}
