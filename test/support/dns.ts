// Test-side DNS helpers. dns2 is the independent decoder: our own encoder is never used to check
// itself. Records are rendered in zone-file syntax so tests read like the spec's examples.
import dns2 from 'dns2';
import { TYPE, typeName, rcodeName } from '../../src/dns/constants.ts';
import type { Reply } from '../../src/dns/message.ts';

const { Packet } = dns2;

/**
 * A query message, byte for byte: the name's case is kept, as a resolver using 0x20 would send it.
 * `qd` only changes the question count the header claims (one question is written).
 */
export function buildQuery(
  name: string,
  type: number,
  options: { id?: number; udpSize?: number; ednsVersion?: number; flags?: number; qclass?: number; qd?: number } = {},
): Buffer {
  const labels = name
    .replace(/\.$/, '')
    .split('.')
    .filter((l) => l !== '');
  const parts: Buffer[] = [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(options.id ?? 0x1234, 0);
  header.writeUInt16BE(options.flags ?? 0x0100, 2); // RD, as stub resolvers send
  header.writeUInt16BE(options.qd ?? 1, 4);
  header.writeUInt16BE(options.udpSize === undefined ? 0 : 1, 10);
  parts.push(header);
  for (const l of labels) parts.push(Buffer.from([l.length]), Buffer.from(l, 'latin1'));
  parts.push(Buffer.from([0]));
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(options.qclass ?? 1, 2);
  parts.push(tail);
  if (options.udpSize !== undefined) {
    const opt = Buffer.alloc(11);
    opt.writeUInt16BE(TYPE.OPT, 1);
    opt.writeUInt16BE(options.udpSize, 3);
    opt.writeUInt8(options.ednsVersion ?? 0, 6);
    parts.push(opt);
  }
  return Buffer.concat(parts);
}

/** The whole message a server would send for `reply` (no OPT), for tests of a handler alone. */
export function replyMessage(name: string, type: number, reply: Reply): Buffer {
  const query = buildQuery(name, type);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(0x1234, 0);
  header.writeUInt16BE(0x8000 | (reply.authoritative ? 0x0400 : 0) | (reply.rcode & 15), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(reply.ancount, 6);
  header.writeUInt16BE(reply.nscount, 8);
  header.writeUInt16BE(reply.arcount, 10);
  return Buffer.concat([header, query.subarray(12), reply.body]);
}

/** A handler's answer as the client would read it, or null when the handler passed the query on. */
export function decodeReply(name: string, type: number, reply: Reply | null | Promise<Reply | null>): Decoded | null {
  if (reply instanceof Promise) throw new Error('expected a synchronous reply');
  return reply === null ? null : decode(replyMessage(name, type, reply));
}

export interface Decoded {
  id: number;
  rcode: string;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  /** OPT records in the additional section (one at most in a valid reply). */
  opts: number;
  question: string;
  answer: string[];
  authority: string[];
  additional: string[];
  /** The OPT record's advertised UDP size, or null without EDNS. */
  optUdpSize: number | null;
  raw: Buffer;
}

type Resource = InstanceType<typeof Packet.Resource> & Record<string, unknown>;

function rdata(rr: Resource): string {
  switch (rr.type) {
    case TYPE.A:
    case TYPE.AAAA:
      return String(rr.address);
    case TYPE.CNAME:
    case TYPE.PTR:
      return `${String(rr.domain)}.`;
    case TYPE.NS:
      return `${String(rr.ns)}.`;
    case TYPE.SRV:
      return `${rr.priority} ${rr.weight} ${rr.port} ${String(rr.target)}.`;
    case TYPE.TXT:
      return (rr.data as string[]).map((t) => JSON.stringify(t)).join(' ');
    case TYPE.SOA:
      return `${rr.primary}. ${rr.admin}. ${rr.serial} ${rr.refresh} ${rr.retry} ${rr.expiration} ${rr.minimum}`;
    default:
      return `\\# ${Buffer.isBuffer(rr.data) ? rr.data.toString('hex') : ''}`;
  }
}

function render(rr: Resource): string {
  return `${String(rr.name)}. ${rr.ttl} IN ${typeName(rr.type as number)} ${rdata(rr)}`;
}

/** Serial numbers change with every index change; tests compare SOA records with this. */
export function withoutSerial(soa: string): string {
  return soa.replace(/ (\d+) (\d+ \d+ \d+ \d+)$/, ' SERIAL $2');
}

export function decode(message: Buffer): Decoded {
  const p = Packet.parse(message);
  const flags = message.readUInt16BE(2);
  const opt = (p.additionals as Resource[]).find((r) => r.type === TYPE.OPT);
  const q = p.questions[0];
  return {
    id: p.header.id,
    rcode: rcodeName(flags & 15),
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    opts: (p.additionals as Resource[]).filter((r) => r.type === TYPE.OPT).length,
    question: q ? `${q.name}. ${typeName(q.type)}` : '',
    answer: (p.answers as Resource[]).map(render),
    authority: (p.authorities as Resource[]).map(render),
    additional: (p.additionals as Resource[]).filter((r) => r.type !== TYPE.OPT).map(render),
    optUdpSize: opt ? Number(opt.class) : null,
    raw: message,
  };
}
