// Builds reply messages around a handler's Reply: header, the request's question echoed byte for
// byte (the client's 0x20 case survives, and pointers to offset 12 in the body stay valid), the
// body, and our OPT record when the request had EDNS.
import { DEFAULT_MAX_UDP_SIZE, FLAG, HEADER_SIZE, TYPE } from '../dns/constants.ts';
import type { Edns, Query, RecordOrder, Reply } from '../dns/message.ts';
import { replyRecordEnds } from '../dns/reader.ts';

const OPT_SIZE = 11;
const NSID_OPTION = 3;
/** Request bits a reply carries back (RFC 1035 §4.1.1 RD, RFC 4035 §3.2.2 CD). */
const ECHOED = FLAG.RD | FLAG.CD;

// Byte stores rather than writeUInt16BE: these run for every reply and skip its range checks.
function writeHeader(out: Buffer, id: number, flags: number, qdcount: number, ancount: number, nscount: number, arcount: number): void {
  out[0] = id >>> 8;
  out[1] = id;
  out[2] = flags >>> 8;
  out[3] = flags;
  out[4] = qdcount >>> 8;
  out[5] = qdcount;
  out[6] = ancount >>> 8;
  out[7] = ancount;
  out[8] = nscount >>> 8;
  out[9] = nscount;
  out[10] = arcount >>> 8;
  out[11] = arcount;
}

/**
 * Our OPT: root owner, our buffer size as class, the rcode's high bits, version 0, DO copied from
 * the request (RFC 3225 §3), and RDLENGTH 0: writeNsid appends the one option we send.
 */
function writeOpt(out: Buffer, at: number, ourUdpSize: number, rcode: number, dnssecOk: boolean): void {
  out[at] = 0;
  out[at + 1] = 0;
  out[at + 2] = TYPE.OPT;
  out[at + 3] = ourUdpSize >>> 8;
  out[at + 4] = ourUdpSize;
  out[at + 5] = rcode >>> 4;
  out[at + 6] = 0; // version
  out[at + 7] = dnssecOk ? 0x80 : 0; // DO, and Z
  out[at + 8] = 0;
  out[at + 9] = 0; // RDLENGTH
  out[at + 10] = 0;
}

/** Appends an NSID option (RFC 5001) to the OPT written at `optAt`, whose RDLENGTH was 0. */
function writeNsid(out: Buffer, optAt: number, nsid: Uint8Array): void {
  const length = 4 + nsid.length;
  out[optAt + 9] = length >>> 8;
  out[optAt + 10] = length;
  const at = optAt + OPT_SIZE;
  out[at] = 0;
  out[at + 1] = NSID_OPTION;
  out[at + 2] = nsid.length >>> 8;
  out[at + 3] = nsid.length;
  out.set(nsid, at + 4);
}

/** How many of the records ending at `ends` fit in `room` octets (ends ascend). */
function wholeRecords(ends: Uint32Array, room: number): number {
  let lo = 0;
  let hi = ends.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((ends[mid] as number) <= room) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The reply for `query`, at most `limit` octets. When the full message would not fit, TC is set
 * and the reply carries as many whole records as fit, in order (answer, then authority, then
 * additional: what is cut first is the additional section), never part of one, as CoreDNS's
 * truncation does (miekg/dns `Msg.Truncate`): a resolver that never retries over TCP (musl up
 * to 1.2.3) still gets addresses. The OPT stays (RFC 6891 §7) so the client learns our size.
 * With an `order` (loadbalance) the copied records are reordered in place, before the OPT. With
 * an `nsid` (the nsid plugin), a request that asks for it gets it in the OPT.
 */
export function assemble(
  request: Buffer,
  query: Query,
  reply: Reply,
  limit: number,
  ourUdpSize: number,
  order: RecordOrder | null = null,
  nsid: Uint8Array | null = null,
): Buffer {
  const questionEnd = query.questionEnd;
  const edns = query.edns;
  const withNsid = nsid !== null && edns?.nsid === true;
  const optSize = edns === null ? 0 : withNsid ? OPT_SIZE + 4 + nsid.length : OPT_SIZE;
  const body = reply.body;
  let flags = FLAG.QR | (query.flags & ECHOED) | (reply.rcode & 0xf);
  if (reply.authoritative) flags |= FLAG.AA;
  if (reply.recursionAvailable === true) flags |= FLAG.RA;
  const arOpt = optSize === 0 ? 0 : 1;
  let out: Buffer;
  let at = questionEnd;
  if (questionEnd + body.length + optSize <= limit) {
    out = Buffer.allocUnsafe(questionEnd + body.length + optSize);
    writeHeader(out, query.id, flags, 1, reply.ancount, reply.nscount, reply.arcount + arOpt);
    out.set(body, at);
    at += body.length;
  } else {
    const ends = replyRecordEnds(reply);
    const kept = wholeRecords(ends, limit - questionEnd - optSize);
    const cut = kept === 0 ? 0 : (ends[kept - 1] as number);
    const an = Math.min(kept, reply.ancount);
    const ns = Math.min(kept - an, reply.nscount);
    out = Buffer.allocUnsafe(questionEnd + cut + optSize);
    writeHeader(out, query.id, flags | FLAG.TC, 1, an, ns, kept - an - ns + arOpt);
    if (cut > 0) out.set(body.subarray(0, cut), at);
    at += cut;
  }
  request.copy(out, HEADER_SIZE, HEADER_SIZE, questionEnd);
  if (order !== null && at > questionEnd) order.permute(out, questionEnd, reply, at - questionEnd);
  if (edns !== null) {
    writeOpt(out, at, ourUdpSize, reply.rcode, edns.dnssecOk);
    if (withNsid) writeNsid(out, at, nsid);
  }
  return out;
}

/**
 * An answer with no records for a request the parser (or a pre-handler check) rejected. The
 * question is echoed only when it was read and was the only one; the opcode is echoed too
 * (RFC 1035 §4.1.1), so a NOTIMP names what was not implemented.
 */
export function errorReply(
  request: Buffer,
  id: number,
  flags: number,
  rcode: number,
  questionEnd: number,
  edns: Edns | null,
  ourUdpSize: number = DEFAULT_MAX_UDP_SIZE,
): Buffer {
  const withQuestion = questionEnd > HEADER_SIZE && request.length >= questionEnd && request.readUInt16BE(4) === 1;
  const end = withQuestion ? questionEnd : HEADER_SIZE;
  const optSize = edns === null ? 0 : OPT_SIZE;
  const out = Buffer.allocUnsafe(end + optSize);
  const replyFlags = FLAG.QR | (flags & (0x7800 | ECHOED)) | (rcode & 0xf);
  writeHeader(out, id, replyFlags, withQuestion ? 1 : 0, 0, 0, optSize === 0 ? 0 : 1);
  if (withQuestion) request.copy(out, HEADER_SIZE, HEADER_SIZE, questionEnd);
  if (edns !== null) writeOpt(out, end, ourUdpSize, rcode, edns.dnssecOk);
  return out;
}
