import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dns2 from 'dns2';
import { QueryProcessor } from '../../src/server/processor.ts';
import type { Handler, Query, Reply, RequestContext } from '../../src/dns/message.ts';
import { emptyReply, NO_REPLY } from '../../src/dns/message.ts';
import { CLASS, RCODE, TYPE } from '../../src/dns/constants.ts';
import { buildQuery } from '../support/dns.ts';

const { Packet } = dns2;

const UDP: RequestContext = { protocol: 'udp', remoteAddress: '127.0.0.1' };
const TCP: RequestContext = { protocol: 'tcp', remoteAddress: '127.0.0.1' };

type RequestOptions = { id?: number; type?: number; qclass?: number; flags?: number; udpSize?: number; ednsVersion?: number };
const request = (name: string, o: RequestOptions = {}): Buffer => buildQuery(name, o.type ?? TYPE.A, o);

function aRecords(count: number): Reply {
  const body = Buffer.alloc(16 * count);
  for (let i = 0; i < count; i++) {
    Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 10, 0, i >> 8, i & 255]).copy(body, i * 16);
  }
  return { rcode: RCODE.NOERROR, authoritative: true, ancount: count, nscount: 0, arcount: 0, body };
}

function handler(name: string, serve: Handler['serve']): Handler {
  return { name, serve };
}

function expectBuffer(out: Buffer | null | Promise<Buffer | null>): Buffer {
  assert.ok(Buffer.isBuffer(out), 'expected a synchronous reply');
  return out;
}

async function settle(out: Buffer | null | Promise<Buffer | null>): Promise<Buffer> {
  const b = await out;
  assert.ok(b !== null);
  return b;
}

function decode(out: Buffer): InstanceType<typeof Packet> {
  return Packet.parse(out);
}

describe('QueryProcessor: handler chain', () => {
  it('answers a synchronous handler synchronously, passing it the query and context', () => {
    const seen: Array<[Query, RequestContext]> = [];
    const p = new QueryProcessor({
      handlers: [
        handler('a', (q, c) => {
          seen.push([q, c]);
          return aRecords(1);
        }),
      ],
    });
    const out = expectBuffer(p.process(request('Web.NS.svc.cluster.local'), UDP));
    const d = decode(out);
    assert.equal(d.header.rcode, RCODE.NOERROR);
    assert.equal(d.answers[0]?.address, '10.0.0.0');
    assert.equal(d.answers[0]?.name, 'Web.NS.svc.cluster.local');
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.[0].name, 'web.ns.svc.cluster.local');
    assert.equal(seen[0]?.[1], UDP);
    assert.equal(p.stats.received, 1);
    assert.equal(p.stats.udp, 1);
    assert.equal(p.stats.noerror, 1);
  });

  it('passes null on to the next handler; the first reply wins', () => {
    const calls: string[] = [];
    const p = new QueryProcessor({
      handlers: [
        handler('skip', () => (calls.push('skip'), null)),
        handler('win', () => (calls.push('win'), emptyReply(RCODE.NXDOMAIN, true))),
        handler('never', () => (calls.push('never'), aRecords(1))),
      ],
    });
    const d = decode(expectBuffer(p.process(request('x.y'), UDP)));
    assert.equal(d.header.rcode, RCODE.NXDOMAIN);
    assert.equal(d.header.aa, 1);
    assert.deepEqual(calls, ['skip', 'win']);
  });

  it('answers REFUSED when no handler takes the query', () => {
    const p = new QueryProcessor({ handlers: [handler('none', () => null)] });
    assert.equal(decode(expectBuffer(p.process(request('x.y'), UDP))).header.rcode, RCODE.REFUSED);
    const empty = new QueryProcessor({ handlers: [] });
    assert.equal(decode(expectBuffer(empty.process(request('x.y'), UDP))).header.rcode, RCODE.REFUSED);
    assert.equal(empty.stats.refused, 1);
  });

  it('awaits an asynchronous handler, and continues the chain after an async null', async () => {
    const p = new QueryProcessor({
      handlers: [handler('later-null', async () => null), handler('sync', () => aRecords(2))],
    });
    const out = p.process(request('x.y', { id: 77 }), UDP);
    assert.ok(out instanceof Promise);
    const d = decode(await settle(out));
    assert.equal(d.header.id, 77);
    assert.equal(d.answers.length, 2);

    const q = new QueryProcessor({ handlers: [handler('async', () => Promise.resolve(aRecords(1)))] });
    assert.equal(decode(await settle(q.process(request('x.y'), TCP))).answers.length, 1);
    assert.equal(q.stats.tcp, 1);
  });

  it('turns a throw into SERVFAIL, reports it and counts a panic', () => {
    const errors: unknown[] = [];
    const boom = new Error('boom');
    const p = new QueryProcessor({
      handlers: [
        handler('bad', () => {
          throw boom;
        }),
      ],
      onError: (e) => errors.push(e),
    });
    const d = decode(expectBuffer(p.process(request('x.y', { udpSize: 1232 }), UDP)));
    assert.equal(d.header.rcode, RCODE.SERVFAIL);
    assert.equal(d.additionals.length, 1, 'OPT kept');
    assert.deepEqual(errors, [boom]);
    assert.equal(p.stats.panics, 1);
    assert.equal(p.stats.servfail, 1);
  });

  it('turns a rejection into SERVFAIL without an unhandled rejection', async () => {
    const errors: unknown[] = [];
    const p = new QueryProcessor({
      handlers: [handler('bad', () => Promise.reject(new Error('later')))],
      onError: (e) => errors.push(e),
    });
    const out = p.process(request('x.y'), UDP);
    assert.ok(out instanceof Promise);
    assert.equal(decode(await settle(out)).header.rcode, RCODE.SERVFAIL);
    assert.equal(errors.length, 1);
    assert.equal(p.stats.panics, 1);
  });

  it('survives a broken reply and a throwing onError', () => {
    const p = new QueryProcessor({
      // Deliberately not a Reply: the body is missing, as a buggy handler might produce.
      handlers: [handler('broken', () => ({ rcode: 0, authoritative: false, ancount: 1, nscount: 0, arcount: 0 }) as unknown as Reply)],
      onError: () => {
        throw new Error('hook failed too');
      },
    });
    assert.equal(decode(expectBuffer(p.process(request('x.y'), UDP))).header.rcode, RCODE.SERVFAIL);
    assert.equal(p.stats.panics, 1);
  });
});

describe('QueryProcessor: checks before the handlers', () => {
  const untouchable = (): Handler =>
    handler('must-not-run', () => {
      throw new Error('handler ran');
    });

  it('refuses classes other than IN', () => {
    const p = new QueryProcessor({ handlers: [untouchable()] });
    for (const qclass of [CLASS.CH, CLASS.ANY, 4]) {
      assert.equal(decode(expectBuffer(p.process(request('version.bind', { type: TYPE.TXT, qclass }), UDP))).header.rcode, RCODE.REFUSED);
    }
    assert.equal(p.stats.refused, 3);
  });

  it('with otherClasses, lets other classes reach the handlers (a Corefile stage answers or refuses them)', () => {
    const seen: number[] = [];
    const p = new QueryProcessor({
      handlers: [
        handler('stage', (q) => {
          seen.push(q.class);
          return emptyReply(RCODE.NOERROR);
        }),
      ],
      otherClasses: true,
    });
    assert.equal(
      decode(expectBuffer(p.process(request('version.bind', { type: TYPE.TXT, qclass: CLASS.CH }), UDP))).header.rcode,
      RCODE.NOERROR,
    );
    assert.deepEqual(seen, [CLASS.CH]);
  });

  it('refuses zone transfers', () => {
    const p = new QueryProcessor({ handlers: [untouchable()] });
    assert.equal(decode(expectBuffer(p.process(request('cluster.local', { type: TYPE.AXFR }), TCP))).header.rcode, RCODE.REFUSED);
    assert.equal(decode(expectBuffer(p.process(request('cluster.local', { type: TYPE.IXFR }), TCP))).header.rcode, RCODE.REFUSED);
  });

  it('answers BADVERS with an OPT for EDNS versions other than 0', () => {
    const p = new QueryProcessor({ handlers: [untouchable()] });
    const out = expectBuffer(p.process(request('x.y', { udpSize: 1232, ednsVersion: 1 }), UDP));
    const d = decode(out);
    assert.equal(d.header.rcode, RCODE.BADVERS);
    assert.equal(d.additionals[0]?.type, TYPE.OPT);
    assert.equal(p.stats.badvers, 1);
  });

  it('drops runts and responses, counting them', () => {
    const p = new QueryProcessor({ handlers: [untouchable()] });
    assert.equal(p.process(Buffer.from([1, 2, 3]), UDP), null);
    const response = request('x.y', { flags: 0x8100 });
    assert.equal(p.process(response, UDP), null);
    assert.equal(p.stats.droppedShort, 1);
    assert.equal(p.stats.droppedResponse, 1);
    assert.equal(p.stats.received, 2);
  });

  it('answers FORMERR and NOTIMP from the parser, counting them', () => {
    const p = new QueryProcessor({ handlers: [untouchable()] });
    const bad = request('x.y');
    bad.writeUInt16BE(1, 6); // ancount 1 with no answer record
    const formerr = decode(expectBuffer(p.process(bad, UDP)));
    assert.equal(formerr.header.rcode, RCODE.FORMERR);
    assert.equal(formerr.header.id, 0x1234);
    const notimp = decode(expectBuffer(p.process(request('x.y', { flags: 4 << 11 }), UDP)));
    assert.equal(notimp.header.rcode, RCODE.NOTIMP);
    assert.equal(p.stats.formerr, 1);
    assert.equal(p.stats.notimp, 1);
  });

  it('reports every answered query to onQuery, FORMERR and NOTIMP included, with what was read of them', () => {
    const seen: Array<{ name: string; type: number; questionEnd: number; id: number; rcode: number; plugin: string; size: number }> = [];
    const p = new QueryProcessor({
      handlers: [handler('zone', () => aRecords(1))],
      onQuery: (q, _c, rcode, plugin, reply) =>
        seen.push({ name: q.name, type: q.type, questionEnd: q.questionEnd, id: q.id, rcode, plugin, size: reply.length }),
    });
    const answered = expectBuffer(p.process(request('a.b'), UDP));
    const bad = request('x.y', { id: 7, type: TYPE.AAAA });
    bad.writeUInt16BE(1, 6); // ancount 1 with no answer record
    const formerr = expectBuffer(p.process(bad, UDP));
    const notimp = expectBuffer(p.process(request('x.y', { id: 8, flags: 4 << 11 }), TCP));
    const unread = Buffer.from([0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63, 1]); // a label running past the end
    const noQuestion = expectBuffer(p.process(unread, UDP));
    assert.equal(p.process(Buffer.from([1, 2, 3]), UDP), null, 'a runt is dropped, so not reported');
    assert.deepEqual(seen, [
      { name: 'a.b', type: TYPE.A, questionEnd: 21, id: 0x1234, rcode: RCODE.NOERROR, plugin: 'zone', size: answered.length },
      { name: 'x.y', type: TYPE.AAAA, questionEnd: 21, id: 7, rcode: RCODE.FORMERR, plugin: '', size: formerr.length },
      { name: 'x.y', type: TYPE.A, questionEnd: 21, id: 8, rcode: RCODE.NOTIMP, plugin: '', size: notimp.length },
      { name: '', type: 0, questionEnd: 0, id: 9, rcode: RCODE.FORMERR, plugin: '', size: noQuestion.length },
    ]);
  });

  it('a throwing onQuery costs no answer', () => {
    const p = new QueryProcessor({
      handlers: [handler('zone', () => aRecords(1))],
      onQuery: () => {
        throw new Error('log sink gone');
      },
    });
    const bad = request('x.y');
    bad.writeUInt16BE(1, 6);
    assert.equal(decode(expectBuffer(p.process(bad, UDP))).header.rcode, RCODE.FORMERR);
    assert.equal(decode(expectBuffer(p.process(request('a.b'), UDP))).header.rcode, RCODE.NOERROR);
  });
});

describe('QueryProcessor: what handlers ask of the reply', () => {
  it('NO_REPLY sends nothing and is counted (acl drop)', async () => {
    const p = new QueryProcessor({ handlers: [handler('acl', () => NO_REPLY)] });
    assert.equal(p.process(request('a.b'), UDP), null);
    const waited = new QueryProcessor({ handlers: [handler('acl', async () => NO_REPLY)] });
    assert.equal(await waited.process(request('a.b'), UDP), null, 'a promised NO_REPLY too');
    assert.equal(p.stats.unanswered, 1);
    assert.equal(p.stats.noerror + p.stats.refused, 0, 'no rcode counted: nothing was sent');
  });

  it('nsid: the NSID option only for a request that asks for it (RFC 5001), set anew by setNsid', () => {
    const p = new QueryProcessor({ handlers: [handler('zone', () => aRecords(1))], nsid: new Uint8Array(Buffer.from('node-7')) });
    // The request's OPT ends in RDLENGTH 0: replaced by RDLENGTH 4 and one empty NSID option.
    const asks = Buffer.concat([request('a.b', { udpSize: 1232 }).subarray(0, -2), Buffer.from([0, 4, 0, 3, 0, 0])]);
    const out = expectBuffer(p.process(asks, UDP));
    assert.ok(
      decode(out).additionals.some((r: { type: number }) => r.type === TYPE.OPT),
      'an OPT dns2 can read',
    );
    // The OPT is the last record: its RDATA is {3, 6, "node-7"}.
    assert.deepEqual([...out.subarray(out.length - 10)], [0, 3, 0, 6, ...Buffer.from('node-7')]);
    assert.equal(out.readUInt16BE(out.length - 12), 10, 'RDLENGTH covers the option');
    const plain = expectBuffer(p.process(request('a.b', { udpSize: 1232 }), UDP));
    assert.equal(plain.readUInt16BE(plain.length - 2), 0, 'not asked: an empty OPT');
    p.setNsid(null);
    const off = expectBuffer(p.process(asks, UDP));
    assert.equal(off.readUInt16BE(off.length - 2), 0, 'nsid off after a reload: an empty OPT');
  });
});

describe('QueryProcessor: size limits', () => {
  const big = (count: number): QueryProcessor => new QueryProcessor({ handlers: [handler('big', () => aRecords(count))] });

  it('holds UDP without EDNS to 512 octets', () => {
    const p = big(35); // 12 + 9 + 560 > 512
    const out = expectBuffer(p.process(request('a.b'), UDP));
    assert.ok(out.length <= 512);
    assert.equal(decode(out).header.tc, 1);
    assert.equal(p.stats.truncated, 1);
    assert.equal(decode(expectBuffer(big(35).process(request('a.b'), TCP))).answers.length, 35);
  });

  it('honours the EDNS size, capped by maxUdpSize', () => {
    const req = request('a.b', { udpSize: 4096 });
    // 12 + 9 + 16n + 11 against a cap of 1232
    const underCap = decode(expectBuffer(big(70).process(req, UDP)));
    assert.equal(underCap.header.tc, 0);
    assert.equal(underCap.answers.length, 70);
    const overCap = decode(expectBuffer(big(80).process(req, UDP)));
    assert.equal(overCap.header.tc, 1);
    assert.equal(overCap.additionals[0]?.type, TYPE.OPT);
    const raised = new QueryProcessor({ handlers: [handler('big', () => aRecords(80))], maxUdpSize: 4096 });
    const d = decode(expectBuffer(raised.process(req, UDP)));
    assert.equal(d.header.tc, 0);
    assert.equal(d.additionals[0]?.class, 4096, 'our OPT advertises our own size');
  });

  it('allows 512 with a small EDNS size, and up to 65535 over TCP', () => {
    const small = decode(expectBuffer(big(35).process(request('a.b', { udpSize: 100 }), UDP)));
    assert.equal(small.header.tc, 1);
    const tcp = decode(expectBuffer(big(4000).process(request('a.b', { udpSize: 512 }), TCP)));
    assert.equal(tcp.header.tc, 0);
    assert.equal(tcp.answers.length, 4000);
  });
});
