import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dns2 from 'dns2';
import { assemble, errorReply } from '../../src/server/respond.ts';
import { readQuery } from '../../src/dns/query.ts';
import type { Query, Reply } from '../../src/dns/message.ts';
import { emptyReply } from '../../src/dns/message.ts';
import { RCODE, TYPE } from '../../src/dns/constants.ts';
import { encodeReply } from '../../src/dns/writer.ts';

const { Packet } = dns2;

function request(name: string, o: { id?: number; flags?: number; udpSize?: number; qd?: number; dnssecOk?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  const h = Buffer.alloc(12);
  h.writeUInt16BE(o.id ?? 0x7777, 0);
  h.writeUInt16BE(o.flags ?? 0x0100, 2);
  h.writeUInt16BE(o.qd ?? 1, 4);
  h.writeUInt16BE(o.udpSize === undefined ? 0 : 1, 10);
  parts.push(h);
  for (const l of name.split('.')) parts.push(Buffer.from([l.length]), Buffer.from(l, 'latin1'));
  parts.push(Buffer.from([0, 0, 1, 0, 1]));
  if (o.udpSize !== undefined) {
    const optRr = Buffer.alloc(11);
    optRr.writeUInt16BE(TYPE.OPT, 1);
    optRr.writeUInt16BE(o.udpSize, 3);
    if (o.dnssecOk) optRr[7] = 0x80;
    parts.push(optRr);
  }
  return Buffer.concat(parts);
}

function parsed(msg: Buffer): Query {
  const r = readQuery(msg);
  assert.equal(r.kind, 'query');
  return (r as Extract<typeof r, { kind: 'query' }>).query;
}

/** `count` A records owned by the question name (pointer 0xC00C), 16 octets each. */
function aRecords(count: number): Uint8Array {
  const body = Buffer.alloc(16 * count);
  for (let i = 0; i < count; i++) {
    Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 10, 0, i >> 8, i & 255]).copy(body, i * 16);
  }
  return body;
}

function answer(count: number, rcode: number = RCODE.NOERROR): Reply {
  return { rcode, authoritative: true, ancount: count, nscount: 0, arcount: 0, body: aRecords(count) };
}

type Resource = InstanceType<typeof Packet.Resource>;
function optOf(p: InstanceType<typeof Packet>): Resource | undefined {
  return p.additionals.find((r) => r.type === TYPE.OPT);
}

describe('assemble', () => {
  it('builds header, verbatim question and body; dns2 decodes it', () => {
    const req = request('MyService.Default.svc.cluster.local', { id: 0x1a2b, flags: 0x0110 /* RD, CD */ });
    const out = assemble(req, parsed(req), answer(2), 512, 1232);
    const p = Packet.parse(out);
    assert.deepEqual(p.errors, []);
    assert.equal(p.header.id, 0x1a2b);
    assert.equal(p.header.qr, 1);
    assert.equal(p.header.opcode, 0);
    assert.equal(p.header.aa, 1);
    assert.equal(p.header.rd, 1);
    assert.equal(p.header.ra, 0);
    assert.equal(p.header.tc, 0);
    assert.equal(p.header.rcode, 0);
    assert.equal(out.readUInt16BE(2) & 0x0010, 0x0010, 'CD copied');
    assert.equal(p.questions[0]?.name, 'MyService.Default.svc.cluster.local');
    assert.deepEqual(out.subarray(12, 12 + req.length - 12), req.subarray(12));
    assert.deepEqual(
      p.answers.map((a) => [a.name, a.type, a.address]),
      [
        ['MyService.Default.svc.cluster.local', TYPE.A, '10.0.0.0'],
        ['MyService.Default.svc.cluster.local', TYPE.A, '10.0.0.1'],
      ],
    );
    assert.equal(p.additionals.length, 0);
  });

  it('does not set AA or CD/RD unless asked', () => {
    const req = request('a.b', { flags: 0 });
    const out = assemble(req, parsed(req), { ...emptyReply(RCODE.NXDOMAIN), authoritative: false }, 512, 1232);
    assert.equal(out.readUInt16BE(2), 0x8000 | RCODE.NXDOMAIN);
  });

  it('appends our OPT when the request had EDNS', () => {
    const req = request('a.b', { udpSize: 4096 });
    const out = assemble(req, parsed(req), answer(1), 4096, 1232);
    const p = Packet.parse(out);
    assert.equal(p.header.arcount, 1);
    const o = optOf(p);
    assert.ok(o);
    assert.equal(o.name, '');
    assert.equal(o.class, 1232);
    assert.equal(o.ttl, 0, 'extended rcode 0, version 0, DO clear');
    assert.deepEqual(out.subarray(out.length - 11), Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]));
  });

  it('copies the DO bit into our OPT (RFC 3225 §3), in answers and in error replies', () => {
    const req = request('a.b', { udpSize: 1232, dnssecOk: true });
    const out = assemble(req, parsed(req), answer(1), 1232, 1232);
    assert.equal(optOf(Packet.parse(out))?.ttl, 0x8000, 'DO set, version 0');
    const truncated = assemble(req, parsed(req), answer(100), 512, 1232);
    assert.equal(truncated[truncated.length - 4], 0x80, 'TC reply: DO set too');
    const error = errorReply(req, 1, 0, RCODE.FORMERR, req.length - 11, { udpSize: 1232, version: 0, dnssecOk: true, nsid: false });
    assert.equal(error[error.length - 4], 0x80);
  });

  it('carries the high rcode bits in the OPT (BADVERS)', () => {
    const req = request('a.b', { udpSize: 1232 });
    const out = assemble(req, parsed(req), emptyReply(RCODE.BADVERS), 1232, 1232);
    assert.equal(out[3]! & 0xf, 0);
    const p = Packet.parse(out);
    assert.equal(p.header.rcode, RCODE.BADVERS);
  });

  it('cuts to the whole records that fit, with TC, when over the limit (CoreDNS, miekg/dns Truncate)', () => {
    const req = request('big.example', { id: 9 });
    const out = assemble(req, parsed(req), answer(40), 512, 1232);
    // 12 + 17 (question) + 30 × 16 = 509: a 31st record would pass 512.
    assert.equal(out.length, req.length + 30 * 16);
    const p = Packet.parse(out);
    assert.deepEqual(p.errors, []);
    assert.equal(p.header.tc, 1);
    assert.equal(p.header.id, 9);
    assert.equal(p.header.qdcount, 1);
    assert.equal(p.header.ancount, 30);
    assert.equal(p.header.nscount, 0);
    assert.equal(p.header.arcount, 0);
    assert.equal(p.questions[0]?.name, 'big.example');
    assert.deepEqual(
      p.answers.map((a) => a.address),
      Array.from({ length: 30 }, (_, i) => `10.0.0.${i}`),
      'the first records, in order',
    );
  });

  it('keeps the OPT in a truncated reply (RFC 6891 §7), within the limit', () => {
    const req = request('big.example', { udpSize: 1232 });
    const out = assemble(req, parsed(req), answer(100), 1232, 1232);
    assert.ok(out.length <= 1232);
    const p = Packet.parse(out);
    assert.equal(p.header.tc, 1);
    assert.equal(p.header.ancount, Math.floor((1232 - req.length) / 16), 'as many records as fit beside question and OPT');
    assert.equal(p.header.arcount, 1);
    assert.equal(optOf(p)?.class, 1232);
    assert.deepEqual(out.subarray(out.length - 11, out.length - 8), Buffer.from([0, 0, 41]), 'the OPT ends the reply');
  });

  it('fits exactly at the limit and drops the last record one octet over it', () => {
    const req = request('a.b');
    const q = parsed(req);
    const size = req.length + 16 * 3;
    assert.equal(assemble(req, q, answer(3), size, 1232).length, size);
    const cut = assemble(req, q, answer(3), size - 1, 1232);
    assert.equal(cut.length, req.length + 16 * 2);
    assert.equal(cut.readUInt16BE(6), 2);
    assert.equal(cut[2]! & 0x02, 0x02, 'TC');
  });

  // Answer, authority, additional, with names of every length and compression into earlier records.
  const name = 'web.shop.svc.cluster.local';
  const mixed = encodeReply(name, {
    rcode: RCODE.NOERROR,
    authoritative: true,
    answer: [
      { name, type: TYPE.CNAME, ttl: 5, target: 'db-primary.shop.svc.cluster.local' },
      ...Array.from(
        { length: 30 },
        (_, i) => ({ name: 'db-primary.shop.svc.cluster.local', type: TYPE.A, ttl: 5, address: `10.1.0.${i}` }) as const,
      ),
      { name, type: TYPE.SRV, ttl: 5, priority: 0, weight: 100, port: 5432, target: 'db-0.db-primary.shop.svc.cluster.local' },
    ],
    authority: [{ name: 'cluster.local', type: TYPE.NS, ttl: 5, target: 'ns.dns.cluster.local' }],
    additional: Array.from(
      { length: 8 },
      (_, i) => ({ name: `db-${i}.db-primary.shop.svc.cluster.local`, type: TYPE.AAAA, ttl: 5, address: `fd00::${i}` }) as const,
    ),
  });

  it('never cuts inside a record: at every limit the reply parses, counts match, sections drop from the end', () => {
    const full = 12 + name.length + 2 + 4 + mixed.body.length;
    const plain = request(name);
    const q = parsed(plain);
    const whole = Packet.parse(assemble(plain, q, mixed, 65535, 1232));
    const all = [...whole.answers, ...whole.authorities, ...whole.additionals].map((r) => JSON.stringify(r));
    assert.ok(assemble(plain, q, mixed, 512, 1232).readUInt16BE(6) < mixed.ancount, 'at 512 the answer section is cut too');
    let previous = -1;
    for (let limit = 512; limit <= full + 1; limit++) {
      const out = assemble(plain, q, mixed, limit, 1232);
      assert.ok(out.length <= limit, `${out.length} octets over a limit of ${limit}`);
      const p = Packet.parse(out);
      assert.deepEqual(p.errors, [], `limit ${limit}`);
      const [an, ns, ar] = [out.readUInt16BE(6), out.readUInt16BE(8), out.readUInt16BE(10)];
      assert.deepEqual([p.answers.length, p.authorities.length, p.additionals.length], [an, ns, ar]);
      const kept = [...p.answers, ...p.authorities, ...p.additionals].map((r) => JSON.stringify(r));
      assert.deepEqual(kept, all.slice(0, kept.length), 'a prefix of the full reply, record for record');
      if (ns + ar > 0) assert.equal(an, mixed.ancount, 'authority and additional only after every answer record');
      assert.equal((out[2]! & 0x02) !== 0, kept.length < all.length, 'TC exactly when a record was left out');
      assert.ok(kept.length >= previous, 'a larger limit never keeps fewer records');
      previous = kept.length;
    }
    assert.equal(previous, all.length);
  });
});

describe('errorReply', () => {
  it('echoes the question and the opcode for NOTIMP, with OPT when asked', () => {
    const req = request('Zone.Example', { flags: (4 << 11) | 0x0100, udpSize: 4096 });
    const r = readQuery(req);
    assert.equal(r.kind, 'error');
    const e = r as Extract<typeof r, { kind: 'error' }>;
    const out = errorReply(req, e.id, e.flags, e.rcode, e.questionEnd, e.edns);
    const p = Packet.parse(out);
    assert.equal(p.header.rcode, RCODE.NOTIMP);
    assert.equal(p.header.opcode, 4);
    assert.equal(p.header.qr, 1);
    assert.equal(p.header.rd, 1);
    assert.equal(p.questions[0]?.name, 'Zone.Example');
    assert.equal(optOf(p)?.class, 1232);
  });

  it('omits the question when it was not read or was not alone', () => {
    const req = request('a.b', { qd: 2 });
    const out = errorReply(req, 5, 0, RCODE.FORMERR, 0, null);
    assert.equal(out.length, 12);
    assert.deepEqual(out, Buffer.from([0, 5, 0x80, 1, 0, 0, 0, 0, 0, 0, 0, 0]));
    // A questionEnd with qdcount 2 is still not echoed.
    assert.equal(errorReply(req, 5, 0, RCODE.FORMERR, req.length, null).length, 12);
  });

  it('carries BADVERS in the OPT', () => {
    const req = request('a.b', { udpSize: 512 });
    const out = errorReply(req, 1, 0, RCODE.BADVERS, req.length - 11, { udpSize: 512, version: 3, dnssecOk: false, nsid: false }, 1400);
    const p = Packet.parse(out);
    assert.equal(p.header.rcode, RCODE.BADVERS);
    assert.equal(optOf(p)?.class, 1400);
    assert.equal(p.header.qdcount, 1);
  });
});
