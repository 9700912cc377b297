// An answer in its three forms: a whole message, a Reply (the sections after the question, whose
// pointers count from offset 12 of a message whose question has that name's length) and decoded
// records. An upstream message becomes a Reply for the client's question; a handler that answers
// one question with the reply to another (rewrite, the ExternalName chase) reads the records back
// under the question they were encoded for and writes them again under the one the client asked.
// Off the hot path: the callers keep what this returns.
import { CLASS, HEADER_SIZE, RCODE, TYPE } from './constants.ts';
import type { Reply } from './message.ts';
import { decodeRecord, type Message, readMessage, type RecordSpan } from './reader.ts';
import { nameOctets, writeReply, type WireRecord } from './writer.ts';

export interface ReplyRecords {
  readonly answer: WireRecord[];
  readonly authority: WireRecord[];
  readonly additional: WireRecord[];
}

/** Writes the canonical name `name` (readQuery's form) in wire format at `at`; returns the end. */
function writeName(out: Buffer, at: number, name: string): number {
  if (name !== '') {
    for (const label of name.split('.')) {
      const start = at++;
      for (let i = 0; i < label.length; i++) {
        const c = label.charCodeAt(i);
        if (c === 0x5c /* \ */) {
          out[at++] = Number(label.slice(i + 1, i + 4));
          i += 3;
        } else {
          out[at++] = c;
        }
      }
      out[start] = at - start - 1;
    }
  }
  out[at++] = 0;
  return at;
}

/** `reply` as a whole message to read back: the question `questionName` (type 0, class IN), then the body. */
function messageOf(questionName: string, reply: Reply): Buffer {
  const wire = Buffer.alloc(HEADER_SIZE + nameOctets(questionName) + 4 + reply.body.length);
  wire.writeUInt16BE(1, 4);
  wire.writeUInt16BE(reply.ancount, 6);
  wire.writeUInt16BE(reply.nscount, 8);
  wire.writeUInt16BE(reply.arcount, 10);
  const end = writeName(wire, HEADER_SIZE, questionName);
  wire.writeUInt16BE(CLASS.IN, end + 2);
  wire.set(reply.body, end + 4);
  return wire;
}

/**
 * The records of `reply`, which answers `questionName`, decoded so they can be written under
 * another question. Null when a record is malformed. A record of a class other than IN (the
 * writer only writes IN) makes it null too, or is left out with `otherClasses: 'skip'`.
 */
export function replyRecords(questionName: string, reply: Reply, otherClasses: 'refuse' | 'skip' = 'refuse'): ReplyRecords | null {
  const wire = messageOf(questionName, reply);
  let message;
  try {
    message = readMessage(wire);
  } catch {
    return null;
  }
  const decode = (spans: readonly RecordSpan[]): WireRecord[] | null => {
    const out: WireRecord[] = [];
    for (const span of spans) {
      const rr = span.class === CLASS.IN ? decodeRecord(wire, span) : null;
      if (rr !== null) out.push(rr);
      else if (otherClasses === 'refuse') return null;
    }
    return out;
  };
  try {
    const answer = decode(message.answer);
    const authority = decode(message.authority);
    const additional = decode(message.additional);
    return answer && authority && additional ? { answer, authority, additional } : null;
  } catch {
    return null;
  }
}

/** `records` written as the body of a reply to `questionName`, with `like`'s flags and rcode. */
export function rebuildReply(questionName: string, like: Reply, records: ReplyRecords): Reply {
  const head = { rcode: like.rcode, authoritative: like.authoritative, recursionAvailable: like.recursionAvailable === true };
  return writeReply(questionName, head, records.answer, records.authority, records.additional);
}

/** What of a message is to be served (an upstream's, as scrub.ts judges it). */
export interface KeptRecords {
  /** The records kept, by section, OPT left out. */
  readonly answer: readonly RecordSpan[];
  readonly authority: readonly RecordSpan[];
  readonly additional: readonly RecordSpan[];
  /** Records left out (OPT not counted). */
  readonly dropped: number;
  /** The TTL each kept record is to be served with: answer, authority, additional, in order. */
  readonly ttls: readonly number[];
}

/** A Reply with where its TTLs sit in the body (for a cache that counts them down) and what they say. */
export interface TimedReply {
  readonly reply: Reply;
  readonly ttlOffsets: readonly number[];
  readonly ttls: readonly number[];
}

/**
 * The kept records of message `m` as a Reply (RA set, AA not, without the message's OPT: the
 * server adds ours). When nothing is left out, the sections after the question are copied as
 * they are (the client's question has the same length, so every compression pointer still lands
 * where it did), TTLs patched in the copy; re-encoded from decoded records when records are left
 * out or the OPT is not the last record. Throws MalformedMessageError for records the reader could
 * walk but not decode.
 */
export function replyOfMessage(wire: Buffer, m: Message, kept: KeptRecords): TimedReply {
  const records = [...kept.answer, ...kept.authority, ...kept.additional];
  const opts = m.additional.filter((r) => r.type === TYPE.OPT);
  const last = m.additional[m.additional.length - 1] ?? m.authority[m.authority.length - 1] ?? m.answer[m.answer.length - 1];
  const rcode = m.rcode > 15 ? RCODE.SERVFAIL : m.rcode;
  const { ttls } = kept;
  if (kept.dropped === 0 && (opts.length === 0 || (opts.length === 1 && last?.type === TYPE.OPT))) {
    const end = opts.length === 0 ? (last?.end ?? m.questionEnd) : opts[0]!.start;
    const body = new Uint8Array(end - m.questionEnd);
    body.set(wire.subarray(m.questionEnd, end));
    const ttlOffsets = records.map((r) => r.ttlAt - m.questionEnd);
    const view = new DataView(body.buffer);
    for (let i = 0; i < records.length; i++) if (ttls[i] !== records[i]!.ttl) view.setUint32(ttlOffsets[i]!, ttls[i]!);
    return {
      reply: {
        rcode,
        authoritative: false,
        recursionAvailable: true,
        ancount: kept.answer.length,
        nscount: kept.authority.length,
        arcount: kept.additional.length,
        body,
      },
      ttlOffsets,
      ttls,
    };
  }
  let at = 0;
  const decode = (list: readonly RecordSpan[]) =>
    list
      .map((r) => {
        const rr = decodeRecord(wire, r);
        return rr === null ? null : { ...rr, ttl: ttls[at++]! };
      })
      .filter((r): r is WireRecord => r !== null);
  const questionName = m.question?.name ?? '';
  const head = { rcode, authoritative: false, recursionAvailable: true };
  const reply = writeReply(questionName, head, decode(kept.answer), decode(kept.authority), decode(kept.additional));
  return { reply, ...ttlPositions(questionName, reply) };
}

/** Where the TTL fields of `reply` (to `questionName`) sit in its body, and what they hold. */
function ttlPositions(questionName: string, reply: Reply): { ttlOffsets: number[]; ttls: number[] } {
  const m = readMessage(messageOf(questionName, reply));
  const records = [...m.answer, ...m.authority, ...m.additional];
  return { ttlOffsets: records.map((r) => r.ttlAt - m.questionEnd), ttls: records.map((r) => r.ttl) };
}
