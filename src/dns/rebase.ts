// A Reply's body only makes sense after its own question: its pointers count from offset 12 of a
// message whose question has that name's length. A handler that answers one question with the
// reply to another (rewrite) reads the records back under the question they were encoded for and
// writes them again under the one the client asked. Off the hot path: the callers keep what this
// returns.
import { CLASS, HEADER_SIZE } from './constants.ts';
import type { Reply } from './message.ts';
import { decodeRecord, readMessage, type RecordSpan } from './reader.ts';
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

/**
 * The records of `reply`, which answers `questionName`, decoded so they can be written under
 * another question. Null when a record is malformed or of a class other than IN (the writer only
 * writes IN).
 */
export function replyRecords(questionName: string, reply: Reply): ReplyRecords | null {
  const wire = Buffer.alloc(HEADER_SIZE + nameOctets(questionName) + 4 + reply.body.length);
  wire.writeUInt16BE(1, 4);
  wire.writeUInt16BE(reply.ancount, 6);
  wire.writeUInt16BE(reply.nscount, 8);
  wire.writeUInt16BE(reply.arcount, 10);
  const end = writeName(wire, HEADER_SIZE, questionName);
  wire.writeUInt16BE(CLASS.IN, end + 2);
  wire.set(reply.body, end + 4);
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
      if (rr === null) return null;
      out.push(rr);
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
