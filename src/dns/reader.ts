// Reads whole DNS messages: the replies of upstream servers. Off the hot path (the cluster zone
// never needs it), so clarity over speed; still bounded by the message: every record is checked
// against its RDLENGTH and the buffer's end, names by decodeName's rules (no loops, no forward
// pointers, 255 octets).
import { CLASS, HEADER_SIZE, TYPE } from './constants.ts';
import type { Reply } from './message.ts';
import { decodeName } from './query.ts';
import { canonicalIPv6, type WireRecord } from './writer.ts';
import { ClusterDnsError } from '../base/errors.ts';

export interface RecordSpan {
  /** Owner, lower-cased presentation form. */
  readonly name: string;
  readonly type: number;
  readonly class: number;
  readonly ttl: number;
  /** Offsets in the message: the record, its TTL field, its RDATA. */
  readonly start: number;
  readonly ttlAt: number;
  readonly rdataStart: number;
  readonly end: number;
}

export interface Message {
  readonly id: number;
  readonly flags: number;
  readonly rcode: number;
  readonly question: { readonly name: string; readonly type: number; readonly class: number } | null;
  /** Offset just past the question section. */
  readonly questionEnd: number;
  readonly answer: readonly RecordSpan[];
  readonly authority: readonly RecordSpan[];
  readonly additional: readonly RecordSpan[];
}

export class MalformedMessageError extends ClusterDnsError {
  override name = 'MalformedMessageError';
  readonly code = 'CDNS_ERR_MALFORMED_MESSAGE';
}

function fail(why: string): never {
  throw new MalformedMessageError(why);
}

/** Parses the header, the (single) question and every record's position. */
export function readMessage(msg: Buffer): Message {
  if (msg.length < HEADER_SIZE) fail('shorter than a header');
  const id = msg.readUInt16BE(0);
  const flags = msg.readUInt16BE(2);
  const qdcount = msg.readUInt16BE(4);
  const counts = [msg.readUInt16BE(6), msg.readUInt16BE(8), msg.readUInt16BE(10)] as const;
  if (qdcount > 1) fail('more than one question');
  let at = HEADER_SIZE;
  let question: Message['question'] = null;
  if (qdcount === 1) {
    const name = decodeName(msg, at) ?? fail('bad question name');
    if (name.end + 4 > msg.length) fail('question cut short');
    question = { name: name.name, type: msg.readUInt16BE(name.end), class: msg.readUInt16BE(name.end + 2) };
    at = name.end + 4;
  }
  const questionEnd = at;
  const sections: RecordSpan[][] = [[], [], []];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s]!; i++) {
      const start = at;
      const owner = decodeName(msg, at) ?? fail('bad owner name');
      at = owner.end;
      if (at + 10 > msg.length) fail('record header cut short');
      const type = msg.readUInt16BE(at);
      const cls = msg.readUInt16BE(at + 2);
      const ttlAt = at + 4;
      const ttl = msg.readUInt32BE(ttlAt);
      const rdlength = msg.readUInt16BE(at + 8);
      const rdataStart = at + 10;
      const end = rdataStart + rdlength;
      if (end > msg.length) fail('RDATA past the end');
      sections[s]!.push({ name: owner.name, type, class: cls, ttl, start, ttlAt, rdataStart, end });
      at = end;
    }
  }
  // Extended rcode: the OPT carries the upper 8 bits.
  let rcode = flags & 0xf;
  const opt = sections[2]!.find((r) => r.type === TYPE.OPT);
  if (opt) rcode |= (opt.ttl >>> 24) << 4;
  return { id, flags, rcode, question, questionEnd, answer: sections[0]!, authority: sections[1]!, additional: sections[2]! };
}

function name(msg: Buffer, at: number, end: number): { name: string; end: number } {
  const n = decodeName(msg, at) ?? fail('bad name in RDATA');
  if (n.end > end) fail('name past RDATA');
  return n;
}

/**
 * The record as something ReplyWriter can write again under any owner: names decoded (they may
 * point anywhere in the original message), other RDATA kept as bytes. Null for class other than IN.
 */
export function decodeRecord(msg: Buffer, rr: RecordSpan, owner = rr.name): WireRecord | null {
  if (rr.class !== CLASS.IN) return null;
  const { rdataStart: at, end, ttl } = rr;
  switch (rr.type) {
    case TYPE.A:
      if (end - at !== 4) fail('A RDATA is not 4 octets');
      return { name: owner, type: TYPE.A, ttl, address: `${msg[at]}.${msg[at + 1]}.${msg[at + 2]}.${msg[at + 3]}` };
    case TYPE.AAAA: {
      if (end - at !== 16) fail('AAAA RDATA is not 16 octets');
      const groups: string[] = [];
      for (let i = 0; i < 16; i += 2) groups.push(msg.readUInt16BE(at + i).toString(16));
      const address = groups.join(':');
      return { name: owner, type: TYPE.AAAA, ttl, address: canonicalIPv6(address) ?? address };
    }
    case TYPE.CNAME:
    case TYPE.PTR:
    case TYPE.NS:
      return { name: owner, type: rr.type, ttl, target: name(msg, at, end).name };
    case TYPE.SRV: {
      if (end - at < 7) fail('SRV RDATA too short');
      // Decoded, not copied: some servers compress the target although RFC 2782 forbids it.
      return {
        name: owner,
        type: TYPE.SRV,
        ttl,
        priority: msg.readUInt16BE(at),
        weight: msg.readUInt16BE(at + 2),
        port: msg.readUInt16BE(at + 4),
        target: name(msg, at + 6, end).name,
      };
    }
    case TYPE.MX: {
      if (end - at < 3) fail('MX RDATA too short');
      return { name: owner, type: TYPE.MX, ttl, preference: msg.readUInt16BE(at), exchange: name(msg, at + 2, end).name };
    }
    case TYPE.SOA: {
      const mname = name(msg, at, end);
      const rname = name(msg, mname.end, end);
      if (rname.end + 20 !== end) fail('SOA RDATA has the wrong length');
      const n = rname.end;
      return {
        name: owner,
        type: TYPE.SOA,
        ttl,
        mname: mname.name,
        rname: rname.name,
        serial: msg.readUInt32BE(n),
        refresh: msg.readUInt32BE(n + 4),
        retry: msg.readUInt32BE(n + 8),
        expire: msg.readUInt32BE(n + 12),
        minimum: msg.readUInt32BE(n + 16),
      };
    }
    default:
      // RFC 3597: other types are never compressed, so their RDATA travels as it is.
      return { name: owner, type: rr.type, ttl, rdata: new Uint8Array(msg.subarray(at, end)) };
  }
}

/**
 * Where each of the first `count` records of a reply body ends (offsets into `body`: the answer,
 * authority and additional sections as they follow each other), for cutting the body between
 * whole records. Names are stepped over, not followed (a pointer ends a name); the walk stops at
 * a record it cannot step over, so the result may be shorter than `count`. Linear in the body.
 */
export function recordEnds(body: Uint8Array, count: number): Uint32Array {
  const ends = new Uint32Array(count);
  const len = body.length;
  let at = 0;
  // Bounded: every step consumes at least one octet of a finite body.
  for (let n = 0; n < count; n++) {
    for (;;) {
      if (at >= len) return ends.subarray(0, n);
      const b = body[at] as number;
      if (b === 0) {
        at += 1;
        break;
      }
      if ((b & 0xc0) === 0xc0) {
        at += 2;
        break;
      }
      if ((b & 0xc0) !== 0) return ends.subarray(0, n);
      at += 1 + b;
    }
    if (at + 10 > len) return ends.subarray(0, n);
    at += 10 + (((body[at + 8] as number) << 8) | (body[at + 9] as number));
    if (at > len) return ends.subarray(0, n);
    ends[n] = at;
  }
  return ends;
}

/**
 * recordEnds of a reply's whole body, walked the first time it is needed and kept with the reply:
 * a prepared reply (the zone's, a cache entry's) is cut (truncation) and reordered (loadbalance)
 * at the same places for every client, so it is walked once, never re-encoded.
 */
const endsByReply = new WeakMap<Reply, Uint32Array>();

export function replyRecordEnds(reply: Reply): Uint32Array {
  let ends = endsByReply.get(reply);
  if (ends === undefined) {
    ends = recordEnds(reply.body, reply.ancount + reply.nscount + reply.arcount);
    endsByReply.set(reply, ends);
  }
  return ends;
}
