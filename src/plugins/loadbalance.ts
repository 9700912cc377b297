// CoreDNS's `loadbalance` (its one policy, `round_robin`, is a uniform random shuffle, not a
// rotation): the A, AAAA and MX records of a NOERROR reply in a new order on every reply. It is
// not a handler but the server's RecordOrder: the records are moved while the server copies the
// prepared bytes into the message, so nothing is re-encoded. Which records can move is worked out
// once per reply object (kept with it, as the truncation cut points are) and then costs one
// WeakMap lookup a reply. A run is consecutive records of one section with the same type and
// length whose owner is a pointer and whose RDATA holds no name bytes (A, AAAA, and MX whose
// exchange is a pointer): nothing can point into such a record, so swapping whole ones keeps
// every compression pointer valid. A truncated reply keeps a random subset of the run, which is
// what a client that never retries over TCP should get. Not configured, it costs nothing.
//
// Where CoreDNS differs: it shuffles A and AAAA of a mixed section together and moves CNAMEs to
// the front; here each run is shuffled in place (same records, same sets, CNAMEs stay where the
// handler put them, which is first). MX records whose exchange is written out in full are left
// in order (moving them would break the pointers into them); SMTP clients shuffle MX records of
// equal preference themselves (RFC 5321 §5.1).
import { randomBytes } from 'node:crypto';
import { RCODE, TYPE } from '../dns/constants.ts';
import type { RecordOrder, Reply } from '../dns/message.ts';
import { replyRecordEnds } from '../dns/reader.ts';
import { PluginOptionError } from './errors.ts';

export type LoadbalancePolicy = 'round_robin';

export interface LoadbalanceOptions {
  readonly policy: LoadbalancePolicy;
}

export const DEFAULT_LOADBALANCE_OPTIONS: LoadbalanceOptions = Object.freeze({ policy: 'round_robin' });

/** The options of `loadbalance [POLICY]`; `weighted` and the block's options are not supported. */
export function loadbalanceOptions(args: readonly string[]): LoadbalanceOptions {
  if (args.length === 0) return DEFAULT_LOADBALANCE_OPTIONS;
  if (args.length === 1 && args[0] === 'round_robin') return DEFAULT_LOADBALANCE_OPTIONS;
  if (args[0] === 'weighted') throw new PluginOptionError('loadbalance', 'the weighted policy is not supported (round_robin is)');
  throw new PluginOptionError('loadbalance', `unknown policy "${args.join(' ')}" (round_robin is supported)`);
}

/**
 * Runs as [start, record length, count, skip] for the message offset the body starts at. `skip`
 * is 12 when every record of the run has the same owner, type, class, TTL and RDLENGTH (a
 * prepared answer's do): then only the RDATA differs and only it is copied.
 */
interface Plan {
  readonly base: number;
  readonly runs: Int32Array;
}

const NO_RUNS = new Int32Array(0);
/** A 64 KiB body holds at most this many 16-octet records. */
const MAX_RUN = 4096;
const slots = new Uint16Array(MAX_RUN);

/** Whether the record at body[start, end) can move: see the header. */
function movable(body: Uint8Array, start: number, end: number, before: number): number {
  if (end - start < 12 || ((body[start] as number) & 0xc0) !== 0xc0) return -1;
  if (((((body[start] as number) & 0x3f) << 8) | (body[start + 1] as number)) >= before) return -1;
  const type = ((body[start + 2] as number) << 8) | (body[start + 3] as number);
  const rdlength = end - start - 12;
  if (type === TYPE.A) return rdlength === 4 ? type : -1;
  if (type === TYPE.AAAA) return rdlength === 16 ? type : -1;
  if (type === TYPE.MX && rdlength === 4 && ((body[start + 14] as number) & 0xc0) === 0xc0) {
    const target = (((body[start + 14] as number) & 0x3f) << 8) | (body[start + 15] as number);
    return target < before ? type : -1;
  }
  return -1;
}

function sameHeaders(body: Uint8Array, start: number, length: number, count: number): boolean {
  for (let k = 1; k < count; k++) {
    for (let b = 0; b < 12; b++) if (body[start + k * length + b] !== body[start + b]) return false;
  }
  return true;
}

function planOf(reply: Reply, base: number): Plan {
  const total = reply.ancount + reply.nscount + reply.arcount;
  const ends = replyRecordEnds(reply);
  const runs: number[] = [];
  const sectionEnds = [reply.ancount, reply.ancount + reply.nscount, total];
  let i = 0;
  for (const sectionEnd of sectionEnds) {
    // Bounded: i only grows, up to the records recordEnds could step over.
    while (i < Math.min(sectionEnd, ends.length)) {
      const start = i === 0 ? 0 : (ends[i - 1] as number);
      const length = (ends[i] as number) - start;
      const type = movable(reply.body, start, start + length, base + start);
      let count = 1;
      if (type >= 0) {
        while (i + count < Math.min(sectionEnd, ends.length) && count < MAX_RUN) {
          const s = start + count * length;
          if ((ends[i + count] as number) - s !== length || movable(reply.body, s, s + length, base + start) !== type) break;
          count++;
        }
        if (count > 1) runs.push(start, length, count, sameHeaders(reply.body, start, length, count) ? 12 : 0);
      }
      i += count;
    }
    i = Math.max(i, sectionEnd);
  }
  return { base, runs: runs.length === 0 ? NO_RUNS : Int32Array.from(runs) };
}

/**
 * xorshift32, seeded at random: a record order needs no cryptographic randomness (CoreDNS uses
 * message-ID bits), and this is several times cheaper than Math.random per record.
 */
function xorshift(): () => number {
  let state = (randomBytes(4).readUInt32LE(0) | 1) >>> 0;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

export class RecordShuffle implements RecordOrder {
  readonly options: LoadbalanceOptions;
  readonly #plans = new WeakMap<Reply, Plan>();
  readonly #random: () => number;

  /** `random` in [0, 1): a seeded xorshift unless a test wants a fixed sequence. */
  constructor(options: LoadbalanceOptions = DEFAULT_LOADBALANCE_OPTIONS, random: () => number = xorshift()) {
    this.options = options;
    this.#random = random;
  }

  permute(out: Buffer, at: number, reply: Reply, copied: number): void {
    if (reply.rcode !== RCODE.NOERROR || reply.ancount + reply.nscount + reply.arcount < 2) return;
    let plan = this.#plans.get(reply);
    if (plan === undefined || plan.base !== at) {
      plan = planOf(reply, at);
      this.#plans.set(reply, plan);
    }
    const runs = plan.runs;
    const body = reply.body;
    for (let r = 0; r < runs.length; r += 4) {
      const start = runs[r] as number;
      const length = runs[r + 1] as number;
      const count = runs[r + 2] as number;
      const skip = runs[r + 3] as number;
      if (start >= copied) break;
      const kept = Math.min(count, Math.floor((copied - start) / length));
      if (kept === 0) continue;
      for (let k = 0; k < count; k++) slots[k] = k;
      // Fisher-Yates, stopped after the slots that were copied.
      for (let k = 0; k < kept; k++) {
        const pick = k + Math.floor(this.#random() * (count - k));
        const chosen = slots[pick] as number;
        slots[pick] = slots[k] as number;
        slots[k] = chosen;
        if (chosen === k) continue;
        // A byte loop: for 16- and 28-octet records it beats Buffer.copy's native call.
        const from = start + chosen * length;
        const to = at + start + k * length;
        for (let b = skip; b < length; b++) out[to + b] = body[from + b] as number;
      }
    }
  }
}
