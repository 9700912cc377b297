import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dns2 from 'dns2';
import { readQuery } from '../../src/dns/query.ts';
import type { ReadResult } from '../../src/dns/query.ts';
import type { Query } from '../../src/dns/message.ts';
import { CLASS, RCODE, TYPE } from '../../src/dns/constants.ts';

const { Packet } = dns2;

// Hand-made wire pieces, so malformed messages can be written byte by byte.
function header(o: { id?: number; flags?: number; qd?: number; an?: number; ns?: number; ar?: number } = {}): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(o.id ?? 0xbeef, 0);
  b.writeUInt16BE(o.flags ?? 0x0100, 2);
  b.writeUInt16BE(o.qd ?? 1, 4);
  b.writeUInt16BE(o.an ?? 0, 6);
  b.writeUInt16BE(o.ns ?? 0, 8);
  b.writeUInt16BE(o.ar ?? 0, 10);
  return b;
}

function wireName(name: string): Buffer {
  const parts: Buffer[] = [];
  for (const label of name.split('.').filter((l) => l !== '')) {
    parts.push(Buffer.from([label.length]), Buffer.from(label, 'latin1'));
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

function u16(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => b.writeUInt16BE(v, i * 2));
  return b;
}

function question(name: string, type: number = TYPE.A, cls: number = CLASS.IN): Buffer {
  return Buffer.concat([wireName(name), u16(type, cls)]);
}

function opt(o: { size?: number; version?: number; dnssecOk?: boolean; rdata?: Buffer; owner?: Buffer } = {}): Buffer {
  const rdata = o.rdata ?? Buffer.alloc(0);
  const ttl = Buffer.from([0, o.version ?? 0, o.dnssecOk ? 0x80 : 0, 0]);
  return Buffer.concat([o.owner ?? Buffer.from([0]), u16(TYPE.OPT, o.size ?? 1232), ttl, u16(rdata.length), rdata]);
}

function expectQuery(result: ReadResult): Query {
  assert.equal(result.kind, 'query', `expected a query, got ${JSON.stringify(result)}`);
  return (result as Extract<ReadResult, { kind: 'query' }>).query;
}

function expectError(result: ReadResult, rcode: number): Extract<ReadResult, { kind: 'error' }> {
  assert.equal(result.kind, 'error', `expected an error, got ${JSON.stringify(result)}`);
  const e = result as Extract<ReadResult, { kind: 'error' }>;
  assert.equal(e.rcode, rcode);
  return e;
}

describe('readQuery: well-formed queries', () => {
  it('reads a query encoded by dns2', () => {
    const p = new Packet();
    p.header.id = 0x4242;
    p.header.rd = 1;
    p.questions.push(new Packet.Question('kubernetes.default.svc.cluster.local', Packet.TYPE.AAAA, Packet.CLASS.IN));
    const msg = p.toBuffer();
    const q = expectQuery(readQuery(msg));
    assert.equal(q.id, 0x4242);
    assert.equal(q.flags & 0x0100, 0x0100);
    assert.equal(q.name, 'kubernetes.default.svc.cluster.local');
    assert.equal(q.type, TYPE.AAAA);
    assert.equal(q.class, CLASS.IN);
    assert.equal(q.questionEnd, msg.length);
    assert.equal(q.edns, null);
  });

  it('lower-cases the name but leaves the request bytes alone', () => {
    const msg = Buffer.concat([header(), question('KuBeRnEtEs.Default.SVC.cluster.local')]);
    const copy = Buffer.from(msg);
    const q = expectQuery(readQuery(msg));
    assert.equal(q.name, 'kubernetes.default.svc.cluster.local');
    assert.deepEqual(msg, copy);
  });

  it('reads the root as the empty string', () => {
    const msg = Buffer.concat([header(), question('', TYPE.NS)]);
    const q = expectQuery(readQuery(msg));
    assert.equal(q.name, '');
    assert.equal(q.type, TYPE.NS);
    assert.equal(q.questionEnd, 12 + 1 + 4);
  });

  it('keeps [a-z0-9-_*] and escapes every other byte as \\DDD', () => {
    const label = Buffer.from([0x61, 0x2e, 0x62, 0x20, 0x5f, 0x2a, 0x2d, 0x39, 0xc8, 0x5c, 0x00, 0x41]);
    const msg = Buffer.concat([header(), Buffer.from([label.length]), label, wireName('svc'), u16(TYPE.A, CLASS.IN)]);
    const q = expectQuery(readQuery(msg));
    assert.equal(q.name, 'a\\046b\\032_*-9\\200\\092\\000a.svc');
  });

  it('an escaped dot never reads as a label boundary', () => {
    const dotted = Buffer.concat([header(), Buffer.from([3]), Buffer.from('a.b'), wireName('svc'), u16(1, 1)]);
    const plain = Buffer.concat([header(), question('a.b.svc')]);
    assert.notEqual(expectQuery(readQuery(dotted)).name, expectQuery(readQuery(plain)).name);
  });

  it('accepts a name of exactly 255 octets', () => {
    const labels = ['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(61)];
    const name = wireName(labels.join('.'));
    assert.equal(name.length, 255);
    const q = expectQuery(readQuery(Buffer.concat([header(), name, u16(1, 1)])));
    assert.equal(q.name, labels.join('.'));
  });

  it('ignores bytes after the last record', () => {
    const msg = Buffer.concat([header(), question('a.b'), Buffer.from([1, 2, 3])]);
    assert.equal(expectQuery(readQuery(msg)).questionEnd, msg.length - 3);
  });
});

describe('readQuery: EDNS', () => {
  it('reads size, version and DO from the OPT record', () => {
    const q1 = expectQuery(readQuery(Buffer.concat([header({ ar: 1 }), question('a.b'), opt({ size: 4096, dnssecOk: true })])));
    assert.deepEqual(q1.edns, { udpSize: 4096, version: 0, dnssecOk: true, nsid: false });
    assert.equal(q1.questionEnd, 12 + wireName('a.b').length + 4);
    const q2 = expectQuery(readQuery(Buffer.concat([header({ ar: 1 }), question('a.b'), opt({ size: 1232, version: 1 })])));
    assert.deepEqual(q2.edns, { udpSize: 1232, version: 1, dnssecOk: false, nsid: false });
  });

  it('notes an NSID option (RFC 5001), empty as clients send it, among other options', () => {
    const nsid = Buffer.concat([u16(10, 8), Buffer.alloc(8, 1), u16(3, 0)]); // a COOKIE, then NSID
    const q = expectQuery(readQuery(Buffer.concat([header({ ar: 1 }), question('a.b'), opt({ rdata: nsid })])));
    assert.equal(q.edns?.nsid, true);
    const cookieOnly = Buffer.concat([u16(10, 8), Buffer.alloc(8, 1)]);
    assert.equal(expectQuery(readQuery(Buffer.concat([header({ ar: 1 }), question('a.b'), opt({ rdata: cookieOnly })]))).edns?.nsid, false);
  });

  it('never reports a UDP size below 512', () => {
    const q = expectQuery(readQuery(Buffer.concat([header({ ar: 1 }), question('a.b'), opt({ size: 100 })])));
    assert.equal(q.edns?.udpSize, 512);
  });

  it('reads an OPT written by dns2, options included', () => {
    const p = new Packet();
    p.questions.push(new Packet.Question('example.org', Packet.TYPE.A, Packet.CLASS.IN));
    p.additionals.push(Packet.Resource.EDNS([Packet.Resource.EDNS.ECS('10.1.2.0/24')], { udpPayloadSize: 1400, doFlag: true }));
    const q = expectQuery(readQuery(p.toBuffer()));
    assert.deepEqual(q.edns, { udpSize: 1400, version: 0, dnssecOk: true, nsid: false });
  });

  it('skips an unknown additional record (TSIG-like) after bounds-checking it', () => {
    const tsig = Buffer.concat([Buffer.from([0xc0, 0x0c]), u16(250, 255), Buffer.alloc(4), u16(3), Buffer.from([1, 2, 3])]);
    const q = expectQuery(readQuery(Buffer.concat([header({ ar: 2 }), question('a.b'), opt({ size: 2048 }), tsig])));
    assert.equal(q.edns?.udpSize, 2048);
    const q2 = expectQuery(readQuery(Buffer.concat([header({ ar: 1 }), question('a.b'), tsig])));
    assert.equal(q2.edns, null);
  });

  it('accepts an OPT whose root owner is a pointer to a root label', () => {
    // The question is the root, so 0xC00C points at a zero byte.
    const msg = Buffer.concat([header({ ar: 1 }), question('', TYPE.NS), opt({ owner: Buffer.from([0xc0, 0x0c]) })]);
    assert.notEqual(expectQuery(readQuery(msg)).edns, null);
  });
});

describe('readQuery: dropped messages', () => {
  it('drops anything shorter than a header', () => {
    for (let n = 0; n < 12; n++) assert.deepEqual(readQuery(Buffer.alloc(n)), { kind: 'drop', reason: 'short' });
  });

  it('drops responses, even malformed ones', () => {
    assert.deepEqual(readQuery(Buffer.concat([header({ flags: 0x8100 }), question('a.b')])), { kind: 'drop', reason: 'response' });
    assert.deepEqual(readQuery(header({ flags: 0x8000, qd: 9 })), { kind: 'drop', reason: 'response' });
  });
});

describe('readQuery: FORMERR', () => {
  const q = question('a.b');
  const qEnd = 12 + q.length;

  it('rejects question counts other than one, without echoing a question', () => {
    const none = expectError(readQuery(header({ qd: 0 })), RCODE.FORMERR);
    assert.equal(none.questionEnd, 0);
    const two = expectError(readQuery(Buffer.concat([header({ qd: 2 }), q, q])), RCODE.FORMERR);
    assert.equal(two.questionEnd, 0);
  });

  it('rejects answer and authority records, and more than two additional records', () => {
    const rr = Buffer.concat([Buffer.from([0xc0, 0x0c]), u16(1, 1), Buffer.alloc(4), u16(4), Buffer.from([10, 0, 0, 1])]);
    const an = expectError(readQuery(Buffer.concat([header({ an: 1 }), q, rr])), RCODE.FORMERR);
    assert.equal(an.questionEnd, qEnd);
    expectError(readQuery(Buffer.concat([header({ ns: 1 }), q, rr])), RCODE.FORMERR);
    expectError(readQuery(Buffer.concat([header({ ar: 3 }), q, opt(), rr, rr])), RCODE.FORMERR);
  });

  it('still finds the OPT when only the counts are wrong, so the error can carry one', () => {
    const rr = Buffer.concat([Buffer.from([0xc0, 0x0c]), u16(1, 1), Buffer.alloc(4), u16(4), Buffer.from([10, 0, 0, 1])]);
    const e = expectError(readQuery(Buffer.concat([header({ an: 1, ar: 1 }), q, rr, opt({ size: 4000 })])), RCODE.FORMERR);
    assert.equal(e.edns?.udpSize, 4000);
    assert.equal(e.id, 0xbeef);
    assert.equal(e.flags, 0x0100);
  });

  const badNames: Array<[string, Buffer]> = [
    ['a label running past the end', Buffer.concat([header(), Buffer.from([5, 0x61, 0x62])])],
    ['a name with no terminator', Buffer.concat([header(), Buffer.from([1, 0x61])])],
    [
      'a name over 255 octets',
      Buffer.concat([header(), wireName(['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(62)].join('.')), u16(1, 1)]),
    ],
    ['label type 0x40', Buffer.concat([header(), Buffer.from([0x41, 0x61, 0]), u16(1, 1)])],
    ['label type 0x80', Buffer.concat([header(), Buffer.from([0x81, 0x61, 0]), u16(1, 1)])],
    ['a pointer to itself', Buffer.concat([header(), Buffer.from([0xc0, 0x0c]), u16(1, 1)])],
    ['a pointer loop through a label', Buffer.concat([header(), Buffer.from([1, 0x61, 0xc0, 0x0c]), u16(1, 1)])],
    ['a forward pointer', Buffer.concat([header(), Buffer.from([1, 0x61, 0xc0, 0x12, 0, 0]), u16(1, 1), Buffer.from([0])])],
    ['a pointer into the header', Buffer.concat([header(), Buffer.from([0xc0, 0x02]), u16(1, 1)])],
    ['a pointer cut in half', Buffer.concat([header(), Buffer.from([1, 0x61, 0xc0])])],
    ['a question without type and class', Buffer.concat([header(), wireName('a.b'), Buffer.from([0, 1, 0])])],
  ];
  for (const [what, msg] of badNames) {
    it(`rejects ${what}, with no question to echo`, () => {
      const e = expectError(readQuery(msg), RCODE.FORMERR);
      assert.equal(e.questionEnd, 0);
      assert.equal(e.edns, null);
    });
  }

  const badAdditional: Array<[string, Buffer]> = [
    ['an additional record cut short', Buffer.concat([header({ ar: 1 }), q, Buffer.from([0, 0, 41, 4])])],
    ['RDATA running past the end', Buffer.concat([header({ ar: 1 }), q, opt().subarray(0, 9), u16(10), Buffer.from([1, 2])])],
    ['a missing additional record', Buffer.concat([header({ ar: 2 }), q, opt()])],
    ['two OPT records', Buffer.concat([header({ ar: 2 }), q, opt(), opt()])],
    ['an OPT owned by a non-root name', Buffer.concat([header({ ar: 1 }), q, opt({ owner: wireName('x') })])],
    ['an OPT owned by the question name', Buffer.concat([header({ ar: 1 }), q, opt({ owner: Buffer.from([0xc0, 0x0c]) })])],
    ['an OPT option running past its RDATA', Buffer.concat([header({ ar: 1 }), q, opt({ rdata: Buffer.from([0, 8, 0, 9, 1, 2]) })])],
    [
      'an additional owner with a forward pointer',
      Buffer.concat([header({ ar: 1 }), q, Buffer.from([0xc0, 0x30]), u16(1, 1), Buffer.alloc(4), u16(0)]),
    ],
  ];
  for (const [what, msg] of badAdditional) {
    it(`rejects ${what}, echoing the question but no OPT`, () => {
      const e = expectError(readQuery(msg), RCODE.FORMERR);
      assert.equal(e.questionEnd, qEnd);
      assert.equal(e.edns, null);
    });
  }
});

describe('readQuery: NOTIMP', () => {
  it('answers other opcodes with NOTIMP, echoing what it could read', () => {
    const notify = expectError(
      readQuery(Buffer.concat([header({ flags: 4 << 11, ar: 1 }), question('a.b', TYPE.SOA), opt()])),
      RCODE.NOTIMP,
    );
    assert.equal(notify.questionEnd, 12 + wireName('a.b').length + 4);
    assert.equal(notify.edns?.udpSize, 1232);
    assert.equal(notify.flags, 4 << 11);
    // A NOTIFY may carry an answer record; still NOTIMP, not FORMERR.
    const rr = Buffer.concat([Buffer.from([0xc0, 0x0c]), u16(1, 1), Buffer.alloc(4), u16(4), Buffer.from([10, 0, 0, 1])]);
    expectError(readQuery(Buffer.concat([header({ flags: 4 << 11, an: 1 }), question('a.b'), rr])), RCODE.NOTIMP);
    // Even an unreadable message with an unknown opcode.
    const status = expectError(readQuery(header({ flags: 2 << 11, qd: 1 })), RCODE.NOTIMP);
    assert.equal(status.questionEnd, 0);
  });
});

describe('readQuery: robustness', () => {
  it('never throws on mutated or random input (bounded fuzz)', () => {
    // Deterministic xorshift, so a failure reproduces.
    let seed = 0x9e3779b9;
    const rand = (n: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const base = Buffer.concat([
      header({ ar: 2 }),
      question('Www.Example.COM'),
      opt({ rdata: Buffer.from([0, 8, 0, 2, 1, 2]) }),
      Buffer.from([0xc0, 0x0c]),
      u16(250, 255),
      Buffer.alloc(4),
      u16(0),
    ]);
    for (let i = 0; i < 20_000; i++) {
      let msg: Buffer;
      if (i % 4 === 0) {
        msg = Buffer.alloc(rand(80));
        for (let j = 0; j < msg.length; j++) msg[j] = rand(256);
      } else {
        msg = Buffer.from(base.subarray(0, rand(base.length + 1)));
        for (let k = rand(4); k >= 0; k--) if (msg.length > 0) msg[rand(msg.length)] = rand(256);
      }
      msg[2] = (msg[2] ?? 0) & 0x7f; // keep QR clear so the parser goes past the header
      const r = readQuery(msg);
      if (r.kind === 'query') {
        assert.ok(r.query.questionEnd > 12 && r.query.questionEnd <= msg.length);
        assert.match(r.query.name, /^[a-z0-9\-_*.\\]*$/);
      } else if (r.kind === 'error') {
        assert.ok(r.questionEnd === 0 || (r.questionEnd > 12 && r.questionEnd <= msg.length));
      }
    }
  });
});
