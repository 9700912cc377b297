// A scriptable upstream DNS server on loopback (UDP and TCP on one port) for the forwarder's
// tests: answers, NXDOMAIN with an SOA, truncation over UDP, silence, slowness, SERVFAIL, garbage,
// hand-made bytes, and spoofed replies (wrong ID, name, type or source port) sent before the real one.
// It records every query it receives.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { FLAG, HEADER_SIZE, RCODE, TYPE } from '../../src/dns/constants.ts';
import { decodeName } from '../../src/dns/query.ts';
import { ReplyWriter, type WireRecord } from '../../src/dns/writer.ts';

export type Behaviour =
  | { readonly kind: 'answer'; readonly records: readonly WireRecord[]; readonly delayMs?: number }
  | { readonly kind: 'nxdomain'; readonly soaTtl?: number; readonly minimum?: number }
  | { readonly kind: 'nodata'; readonly soaTtl?: number; readonly minimum?: number }
  | { readonly kind: 'truncate'; readonly records: readonly WireRecord[] }
  | { readonly kind: 'silent' }
  | { readonly kind: 'servfail' }
  | { readonly kind: 'garbage' }
  /** A forged reply first (carrying `forged` records, or the real ones), then the real one. */
  | {
      readonly kind: 'spoof';
      readonly how: 'id' | 'question' | 'type' | 'source' | 'garbage';
      readonly records: readonly WireRecord[];
      readonly forged?: readonly WireRecord[];
    }
  /** Exactly these bytes, built from the request (hand-made compression, odd layouts, broken RDATA). */
  | { readonly kind: 'raw'; readonly build: (request: Buffer) => Buffer };

export interface Received {
  readonly name: string;
  readonly type: number;
  readonly transport: 'udp' | 'tcp';
  readonly id: number;
  readonly flags: number;
  readonly sourcePort: number;
  readonly hasOpt: boolean;
}

export function soa(zone: string, ttl: number, minimum: number): WireRecord {
  return {
    name: zone,
    type: TYPE.SOA,
    ttl,
    mname: `ns1.${zone}`,
    rname: `hostmaster.${zone}`,
    serial: 1,
    refresh: 3600,
    retry: 600,
    expire: 86400,
    minimum,
  };
}

/** The reply to `request` (a query) with `rcode` and sections; `tc` for a truncated UDP reply. */
export function reply(
  request: Buffer,
  qname: string,
  rcode: number,
  answer: readonly WireRecord[],
  authority: readonly WireRecord[],
  tc = false,
): Buffer {
  const questionEnd = decodeName(request, HEADER_SIZE)!.end + 4;
  const writer = new ReplyWriter(qname);
  if (!tc) {
    for (const rr of answer) writer.record(rr);
    for (const rr of authority) writer.record(rr);
  }
  const body = writer.bytes();
  const hasOpt = request.readUInt16BE(10) > 0;
  const out = Buffer.alloc(questionEnd + body.length + (hasOpt ? 11 : 0));
  out.writeUInt16BE(request.readUInt16BE(0), 0);
  out.writeUInt16BE(FLAG.QR | FLAG.RD | FLAG.RA | (tc ? FLAG.TC : 0) | rcode, 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(tc ? 0 : answer.length, 6);
  out.writeUInt16BE(tc ? 0 : authority.length, 8);
  out.writeUInt16BE(hasOpt ? 1 : 0, 10);
  // Echo the question in a different case, as 0x20-randomising servers do.
  request.copy(out, HEADER_SIZE, HEADER_SIZE, questionEnd);
  for (let i = HEADER_SIZE; i < questionEnd - 4; i++) if (out[i]! >= 0x61 && out[i]! <= 0x7a && i % 2 === 0) out[i] = out[i]! - 0x20;
  out.set(body, questionEnd);
  if (hasOpt) {
    const at = questionEnd + body.length;
    out[at] = 0;
    out.writeUInt16BE(TYPE.OPT, at + 1);
    out.writeUInt16BE(4096, at + 3);
  }
  return out;
}

export class FakeUpstream {
  readonly received: Received[] = [];
  readonly behaviours = new Map<string, Behaviour>();
  /** What names nobody scripted get. */
  fallback: Behaviour = { kind: 'nxdomain' };
  readonly #udp: UdpSocket;
  readonly #tcp: Server;
  readonly #spoofer: UdpSocket;
  readonly #connections = new Set<Socket>();
  #port = 0;
  #closed = false;
  tcpConnections = 0;

  private constructor(udp: UdpSocket, tcp: Server, spoofer: UdpSocket) {
    this.#udp = udp;
    this.#tcp = tcp;
    this.#spoofer = spoofer;
    this.#port = (udp.address() as AddressInfo).port;
    tcp.on('connection', (socket: Socket) => this.#serveTcp(socket));
    udp.on('message', (msg, rinfo) => this.#serveUdp(msg, rinfo.port));
  }

  static async start(): Promise<FakeUpstream> {
    // UDP and TCP on one port: the kernel picks a free UDP port, which TCP may already be using
    // (an ephemeral port of some connection), so a few ports are tried.
    for (let attempt = 1; ; attempt++) {
      const udp = createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(0, '127.0.0.1', () => resolve());
      });
      const port = (udp.address() as AddressInfo).port;
      const tcp = createServer();
      try {
        await new Promise<void>((resolve, reject) => {
          tcp.once('error', reject);
          tcp.listen(port, '127.0.0.1', () => resolve());
        });
      } catch (err) {
        udp.close();
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 20) throw err;
        continue;
      }
      const spoofer = createSocket('udp4');
      await new Promise<void>((resolve) => spoofer.bind(0, '127.0.0.1', () => resolve()));
      return new FakeUpstream(udp, tcp, spoofer);
    }
  }

  /** TCP connections open right now (tcpConnections counts every one ever accepted). */
  get openTcpConnections(): number {
    return this.#connections.size;
  }

  get port(): number {
    return this.#port;
  }

  get address(): string {
    return `127.0.0.1:${this.#port}`;
  }

  set(name: string, behaviour: Behaviour): void {
    this.behaviours.set(name.toLowerCase(), behaviour);
  }

  asked(name: string): Received[] {
    return this.received.filter((r) => r.name === name.toLowerCase());
  }

  #parse(msg: Buffer, transport: 'udp' | 'tcp', sourcePort: number): { qname: string; type: number; behaviour: Behaviour } | null {
    const name = msg.length > HEADER_SIZE ? decodeName(msg, HEADER_SIZE) : null;
    if (!name || name.end + 4 > msg.length) return null;
    const type = msg.readUInt16BE(name.end);
    this.received.push({
      name: name.name,
      type,
      transport,
      id: msg.readUInt16BE(0),
      flags: msg.readUInt16BE(2),
      sourcePort,
      hasOpt: msg.readUInt16BE(10) > 0,
    });
    return { qname: name.name, type, behaviour: this.behaviours.get(name.name) ?? this.fallback };
  }

  #answer(msg: Buffer, qname: string, type: number, b: Behaviour, transport: 'udp' | 'tcp'): Buffer | null {
    const zone = qname.split('.').slice(-2).join('.');
    switch (b.kind) {
      case 'answer':
      case 'spoof':
        return reply(
          msg,
          qname,
          RCODE.NOERROR,
          b.records.filter((r) => r.type === type || r.type === TYPE.CNAME),
          [],
        );
      case 'truncate':
        return reply(msg, qname, RCODE.NOERROR, b.records, [], transport === 'udp');
      case 'nxdomain':
        return reply(msg, qname, RCODE.NXDOMAIN, [], [soa(zone, b.soaTtl ?? 300, b.minimum ?? 60)]);
      case 'nodata':
        return reply(msg, qname, RCODE.NOERROR, [], [soa(zone, b.soaTtl ?? 300, b.minimum ?? 60)]);
      case 'servfail':
        return reply(msg, qname, RCODE.SERVFAIL, [], []);
      case 'garbage':
        return Buffer.from('this is no DNS message at all');
      case 'raw':
        return b.build(msg);
      case 'silent':
        return null;
    }
  }

  #serveUdp(msg: Buffer, port: number): void {
    const parsed = this.#parse(msg, 'udp', port);
    if (!parsed) return;
    const { qname, type, behaviour } = parsed;
    const out = this.#answer(msg, qname, type, behaviour, 'udp');
    if (!out) return;
    if (behaviour.kind === 'spoof') {
      const fake = behaviour.forged ? reply(msg, qname, RCODE.NOERROR, behaviour.forged, []) : Buffer.from(out);
      if (behaviour.how === 'id') fake.writeUInt16BE((fake.readUInt16BE(0) + 1) & 0xffff, 0);
      if (behaviour.how === 'question') fake[HEADER_SIZE + 1] = fake[HEADER_SIZE + 1]! ^ 0x01;
      if (behaviour.how === 'type') {
        const typeAt = decodeName(fake, HEADER_SIZE)!.end;
        fake.writeUInt16BE(fake.readUInt16BE(typeAt) === TYPE.AAAA ? TYPE.A : TYPE.AAAA, typeAt);
      }
      if (behaviour.how === 'source') this.#spoofer.send(fake, port, '127.0.0.1');
      else this.#udp.send(behaviour.how === 'garbage' ? Buffer.from([1, 2, 3, 4, 5]) : fake, port, '127.0.0.1');
    }
    // A delayed reply may come due after close() (a retransmitted query's): it is dropped then.
    const send = () => {
      if (!this.#closed) this.#udp.send(out, port, '127.0.0.1');
    };
    if (behaviour.kind === 'answer' && behaviour.delayMs) setTimeout(send, behaviour.delayMs).unref();
    else if (behaviour.kind === 'spoof') setTimeout(send, 20).unref();
    else send();
  }

  #serveTcp(socket: Socket): void {
    this.tcpConnections++;
    this.#connections.add(socket);
    socket.on('close', () => this.#connections.delete(socket));
    socket.on('error', () => {});
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const msg = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
        buffered = buffered.subarray(2 + msg.length);
        const parsed = this.#parse(Buffer.from(msg), 'tcp', socket.remotePort ?? 0);
        if (!parsed) continue;
        const out = this.#answer(Buffer.from(msg), parsed.qname, parsed.type, parsed.behaviour, 'tcp');
        if (!out) continue;
        const frame = Buffer.alloc(2 + out.length);
        frame.writeUInt16BE(out.length, 0);
        out.copy(frame, 2);
        const delay = parsed.behaviour.kind === 'answer' ? (parsed.behaviour.delayMs ?? 0) : 0;
        if (delay > 0) setTimeout(() => socket.write(frame), delay).unref();
        else socket.write(frame);
      }
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const s of this.#connections) s.destroy();
    await new Promise<void>((resolve) => this.#tcp.close(() => resolve()));
    await new Promise<void>((resolve) => this.#udp.close(() => resolve()));
    await new Promise<void>((resolve) => this.#spoofer.close(() => resolve()));
  }
}

export function a(name: string, address: string, ttl = 300): WireRecord {
  return { name, type: TYPE.A, ttl, address };
}
export function cname(name: string, target: string, ttl = 300): WireRecord {
  return { name, type: TYPE.CNAME, ttl, target };
}

// ---- hand-made replies, for the `raw` behaviour and the scrubber's tests: records as bytes,
// names uncompressed, any TTL (the top bit too), any section, a poisoner's as well as a server's.

export interface HandMadeRecord {
  readonly name: string;
  readonly type: number;
  readonly ttl: number;
  readonly rdata: Buffer;
}

/** A presentation name (no escapes) as uncompressed wire labels. */
export function nameBytes(name: string): Buffer {
  const labels = name === '' ? [] : name.split('.');
  return Buffer.concat([...labels.flatMap((l) => [Buffer.from([l.length]), Buffer.from(l, 'latin1')]), Buffer.from([0])]);
}

function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}
function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}

export const rr = {
  a: (name: string, address: string, ttl = 300): HandMadeRecord => ({
    name,
    type: TYPE.A,
    ttl,
    rdata: Buffer.from(address.split('.').map(Number)),
  }),
  /** CNAME, NS, PTR and DNAME (39): a single target name. */
  name: (type: number, name: string, target: string, ttl = 300): HandMadeRecord => ({ name, type, ttl, rdata: nameBytes(target) }),
  mx: (name: string, preference: number, exchange: string, ttl = 300): HandMadeRecord => ({
    name,
    type: TYPE.MX,
    ttl,
    rdata: Buffer.concat([u16(preference), nameBytes(exchange)]),
  }),
  srv: (name: string, port: number, target: string, ttl = 300): HandMadeRecord => ({
    name,
    type: TYPE.SRV,
    ttl,
    rdata: Buffer.concat([u16(10), u16(5), u16(port), nameBytes(target)]),
  }),
  soa: (zone: string, ttl: number, minimum: number): HandMadeRecord => ({
    name: zone,
    type: TYPE.SOA,
    ttl,
    rdata: Buffer.concat([
      nameBytes(`ns1.${zone}`),
      nameBytes(`hostmaster.${zone}`),
      u32(1),
      u32(3600),
      u32(600),
      u32(86400),
      u32(minimum),
    ]),
  }),
  /** RRSIG (46) over `covered`, signed by `signer`, with a dummy signature. */
  rrsig: (name: string, covered: number, signer: string, ttl = 300): HandMadeRecord => ({
    name,
    type: 46,
    ttl,
    rdata: Buffer.concat([
      u16(covered),
      Buffer.from([13, name.split('.').length]),
      u32(ttl),
      u32(0x70000000),
      u32(0x60000000),
      u16(4242),
      nameBytes(signer),
      Buffer.alloc(64, 7),
    ]),
  }),
  /** NSEC (47) from `name` to `next`, types A and RRSIG. */
  nsec: (name: string, next: string, ttl = 300): HandMadeRecord => ({
    name,
    type: 47,
    ttl,
    rdata: Buffer.concat([nameBytes(next), Buffer.from([0, 6, 0x40, 0, 0, 0, 0, 0x03])]),
  }),
};

/**
 * The reply to `request` with `rcode` and these sections, the question echoed as asked, and an
 * OPT last when the request had one (`optFirst` puts it before the other additional records).
 */
export function handMadeReply(
  request: Buffer,
  rcode: number,
  sections: {
    answer?: readonly HandMadeRecord[];
    authority?: readonly HandMadeRecord[];
    additional?: readonly HandMadeRecord[];
    optFirst?: boolean;
  },
): Buffer {
  const questionEnd = decodeName(request, HEADER_SIZE)!.end + 4;
  const { answer = [], authority = [], additional = [] } = sections;
  const hasOpt = request.readUInt16BE(10) > 0;
  const opt = Buffer.from([0, 0, TYPE.OPT, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
  const encode = (r: HandMadeRecord) => Buffer.concat([nameBytes(r.name), u16(r.type), u16(1), u32(r.ttl), u16(r.rdata.length), r.rdata]);
  const extra = additional.map(encode);
  if (hasOpt) sections.optFirst ? extra.unshift(opt) : extra.push(opt);
  const header = Buffer.alloc(HEADER_SIZE);
  header.writeUInt16BE(request.readUInt16BE(0), 0);
  header.writeUInt16BE(FLAG.QR | FLAG.RD | FLAG.RA | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answer.length, 6);
  header.writeUInt16BE(authority.length, 8);
  header.writeUInt16BE(extra.length, 10);
  return Buffer.concat([header, request.subarray(HEADER_SIZE, questionEnd), ...answer.map(encode), ...authority.map(encode), ...extra]);
}
