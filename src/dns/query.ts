// The wire front end: reads a request's header, question and additional section straight from
// the buffer, without building a full message object. Every query pays for this, so the common
// case (one question, at most an OPT record) is one pass over the name and two small objects.
import { FLAG, HEADER_SIZE, MAX_NAME_OCTETS, OPCODE_QUERY, RCODE, TYPE } from './constants.ts';
import type { Edns, Query } from './message.ts';

export type ReadResult =
  | { readonly kind: 'query'; readonly query: Query }
  | { readonly kind: 'drop'; readonly reason: 'short' | 'response' }
  | {
      readonly kind: 'error';
      readonly rcode: typeof RCODE.FORMERR | typeof RCODE.NOTIMP;
      readonly id: number;
      readonly flags: number;
      /** Offset just past the question, or 0 when the question could not be read. */
      readonly questionEnd: number;
      /** The question as read (for the query log); '' and 0 when questionEnd is 0. */
      readonly name: string;
      readonly type: number;
      readonly edns: Edns | null;
    };

const DROP_SHORT: ReadResult = { kind: 'drop', reason: 'short' };
const DROP_RESPONSE: ReadResult = { kind: 'drop', reason: 'response' };

/** More OPT+TSIG than this in a query is malformed (RFC 6891 one OPT, RFC 8945 one TSIG). */
const MAX_ADDITIONAL = 2;

/**
 * Pointers must go strictly backwards, which already rules out loops; the hop cap is a second,
 * independent bound so that a mistake in that rule cannot turn into an endless walk.
 */
const MAX_POINTER_HOPS = 64;

/**
 * Byte → presentation char: letters lower-cased, [a-z0-9-_*] kept, 0 for "escape as \DDD".
 * Escaping everything else keeps a '.' or a space inside a label from forming a different name.
 */
const PLAIN = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const lower = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
  const plain = (lower >= 0x61 && lower <= 0x7a) || (lower >= 0x30 && lower <= 0x39) || lower === 0x2d || lower === 0x5f || lower === 0x2a;
  PLAIN[c] = plain ? lower : 0;
}

// A name of 255 octets escapes to at most 4 chars per octet; reused because readQuery never
// re-enters itself.
const scratch = Buffer.allocUnsafe(MAX_NAME_OCTETS * 4);
// readName's second result, to spare a tuple allocation per query.
let nameOut = '';

/**
 * Reads the (possibly compressed) name at `start` into `nameOut` and returns the offset just past
 * its in-place bytes, or -1 when it is malformed.
 */
function readName(msg: Buffer, start: number): number {
  const len = msg.length;
  let pos = start;
  let segmentStart = start;
  let end = -1;
  let hops = 0;
  let octets = 1; // the root label
  let out = 0;
  // Bounded: every turn either consumes a label (octets is capped at 255) or a pointer hop.
  for (;;) {
    if (pos >= len) return -1;
    const b = msg[pos] as number;
    if (b === 0) {
      if (end < 0) end = pos + 1;
      break;
    }
    const kind = b & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= len) return -1;
      const target = ((b & 0x3f) << 8) | (msg[pos + 1] as number);
      if (end < 0) end = pos + 2;
      // Only strictly backwards into bytes not yet read as part of this name, and never into the
      // header: this forbids loops and forward references.
      if (target < HEADER_SIZE || target >= segmentStart || ++hops > MAX_POINTER_HOPS) return -1;
      pos = segmentStart = target;
      continue;
    }
    if (kind !== 0) return -1; // 0x40 extended and 0x80 reserved label types
    octets += b + 1;
    if (octets > MAX_NAME_OCTETS) return -1;
    const labelEnd = pos + 1 + b;
    if (labelEnd > len) return -1;
    if (out !== 0) scratch[out++] = 0x2e;
    for (let i = pos + 1; i < labelEnd; i++) {
      const c = msg[i] as number;
      const p = PLAIN[c] as number;
      if (p !== 0) {
        scratch[out++] = p;
      } else {
        scratch[out++] = 0x5c;
        scratch[out++] = 0x30 + ((c / 100) | 0);
        scratch[out++] = 0x30 + (((c / 10) | 0) % 10);
        scratch[out++] = 0x30 + (c % 10);
      }
    }
    pos = labelEnd;
  }
  nameOut = out === 0 ? '' : scratch.toString('latin1', 0, out);
  return end;
}

/**
 * The name at `start` in presentation form (lower-cased, `\DDD` escapes, no trailing dot) and the
 * offset past its in-place bytes; null when malformed. For the slow paths that read whole
 * messages (upstream replies); pointers must go strictly backwards, as in readQuery.
 */
export function decodeName(msg: Buffer, start: number): { name: string; end: number } | null {
  const end = readName(msg, start);
  return end < 0 ? null : { name: nameOut, end };
}

/**
 * Steps over an RR owner name without following pointers (only its in-place bytes matter for
 * finding the next record), still rejecting what readName would. Returns the offset past it or -1.
 */
function skipName(msg: Buffer, start: number): number {
  const len = msg.length;
  let pos = start;
  let octets = 1;
  for (;;) {
    if (pos >= len) return -1;
    const b = msg[pos] as number;
    if (b === 0) return pos + 1;
    const kind = b & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= len) return -1;
      const target = ((b & 0x3f) << 8) | (msg[pos + 1] as number);
      return target < HEADER_SIZE || target >= start ? -1 : pos + 2;
    }
    if (kind !== 0) return -1;
    octets += b + 1;
    if (octets > MAX_NAME_OCTETS) return -1;
    pos += 1 + b;
  }
}

/** Whether the name at `at` (already validated by skipName) is the root, possibly via a pointer. */
function isRoot(msg: Buffer, at: number): boolean {
  const b = msg[at] as number;
  if (b === 0) return true;
  if ((b & 0xc0) !== 0xc0) return false;
  return msg[((b & 0x3f) << 8) | (msg[at + 1] as number)] === 0;
}

/** Offset past the RR at `pos`, or -1 when it runs past the end. */
function skipRecord(msg: Buffer, pos: number): number {
  const fixed = skipName(msg, pos);
  if (fixed < 0 || fixed + 10 > msg.length) return -1;
  const end = fixed + 10 + msg.readUInt16BE(fixed + 8);
  return end > msg.length ? -1 : end;
}

// scanAdditional's results, to keep its return a plain number.
let ednsOut: Edns | null = null;

/**
 * Walks `count` additional records from `pos`, picking out the OPT into `ednsOut`. Returns false
 * when a record is malformed, there is more than one OPT, or the OPT's owner is not the root.
 */
function scanAdditional(msg: Buffer, pos: number, count: number): boolean {
  ednsOut = null;
  const len = msg.length;
  // Bounded by count, and each record consumes at least 11 bytes of a finite buffer.
  for (let n = 0; n < count; n++) {
    const fixed = skipName(msg, pos);
    if (fixed < 0 || fixed + 10 > len) return false;
    const rdlen = msg.readUInt16BE(fixed + 8);
    const end = fixed + 10 + rdlen;
    if (end > len) return false;
    if (msg.readUInt16BE(fixed) === TYPE.OPT) {
      if (ednsOut !== null || !isRoot(msg, pos)) return false;
      const options = readOptions(msg, fixed + 10, end);
      if (options < 0) return false;
      ednsOut = {
        udpSize: Math.max(512, msg.readUInt16BE(fixed + 2)),
        version: msg[fixed + 5] as number,
        dnssecOk: ((msg[fixed + 6] as number) & 0x80) !== 0,
        nsid: (options & ASKS_NSID) !== 0,
      };
    }
    pos = end;
  }
  return true;
}

const OPTION_NSID = 3;
const ASKS_NSID = 1;

/**
 * The OPT RDATA is a run of {code, length, data} options that must fill it exactly: -1 when it
 * does not, else ASKS_NSID when an NSID option is among them (RFC 5001 §2.1), or 0.
 */
function readOptions(msg: Buffer, pos: number, end: number): number {
  let found = 0;
  while (pos < end) {
    if (pos + 4 > end) return -1;
    if (msg.readUInt16BE(pos) === OPTION_NSID) found = ASKS_NSID;
    pos += 4 + msg.readUInt16BE(pos + 2);
  }
  return pos === end ? found : -1;
}

function error(
  rcode: typeof RCODE.FORMERR | typeof RCODE.NOTIMP,
  id: number,
  flags: number,
  questionEnd: number,
  name: string,
  type: number,
  edns: Edns | null,
): ReadResult {
  return questionEnd === 0
    ? { kind: 'error', rcode, id, flags, questionEnd, name: '', type: 0, edns }
    : { kind: 'error', rcode, id, flags, questionEnd, name, type, edns };
}

/**
 * Classifies one request message. Responses and runts are dropped (answering them invites
 * reflection loops); anything else that is not a well-formed single-question QUERY becomes an
 * error result carrying what the error reply can still echo (question, EDNS).
 */
export function readQuery(msg: Buffer): ReadResult {
  if (msg.length < HEADER_SIZE) return DROP_SHORT;
  const flags = msg.readUInt16BE(2);
  if ((flags & FLAG.QR) !== 0) return DROP_RESPONSE;
  const id = msg.readUInt16BE(0);
  const qdcount = msg.readUInt16BE(4);
  const ancount = msg.readUInt16BE(6);
  const nscount = msg.readUInt16BE(8);
  const arcount = msg.readUInt16BE(10);
  const opcode = (flags >>> 11) & 0xf;

  let questionEnd = 0;
  let name = '';
  let type = 0;
  let qclass = 0;
  let questionOk = qdcount === 1;
  if (qdcount >= 1) {
    const end = readName(msg, HEADER_SIZE);
    if (end < 0 || end + 4 > msg.length) {
      questionOk = false;
    } else {
      name = nameOut;
      type = msg.readUInt16BE(end);
      qclass = msg.readUInt16BE(end + 2);
      questionEnd = end + 4;
    }
  }

  // The common case: everything after the question is the additional section.
  if (questionOk && questionEnd !== 0 && ancount === 0 && nscount === 0 && arcount <= MAX_ADDITIONAL) {
    const wellFormed = scanAdditional(msg, questionEnd, arcount);
    const edns = wellFormed ? ednsOut : null;
    if (opcode !== OPCODE_QUERY) return error(RCODE.NOTIMP, id, flags, questionEnd, name, type, edns);
    if (!wellFormed) return error(RCODE.FORMERR, id, flags, questionEnd, name, type, null);
    return { kind: 'query', query: { id, flags, name, type, class: qclass, questionEnd, edns } };
  }

  // Malformed somewhere (or not a QUERY with an odd layout): still look for an OPT, best effort,
  // so the error reply can carry one. A question we could not read leaves nothing to anchor on.
  let edns: Edns | null = null;
  if (qdcount === 0 || questionEnd !== 0) {
    let pos = qdcount === 0 ? HEADER_SIZE : questionEnd;
    // Further questions, then answer and authority records; each step consumes bytes or fails.
    for (let n = 1; n < qdcount && pos >= 0; n++) {
      const end = skipName(msg, pos);
      pos = end < 0 || end + 4 > msg.length ? -1 : end + 4;
    }
    for (let n = 0; n < ancount + nscount && pos >= 0; n++) pos = skipRecord(msg, pos);
    if (pos >= 0 && scanAdditional(msg, pos, arcount)) edns = ednsOut;
  }
  const echoed = qdcount === 1 ? questionEnd : 0;
  if (opcode !== OPCODE_QUERY) return error(RCODE.NOTIMP, id, flags, echoed, name, type, edns);
  return error(RCODE.FORMERR, id, flags, echoed, name, type, edns);
}
