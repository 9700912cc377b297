// The scrubber through convertReply, on hand-made upstream replies (names uncompressed, any TTL,
// records a poisoner would add): what each section keeps, what the TTLs say, and that a clean
// reply is still copied byte for byte rather than re-encoded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HEADER_SIZE, RCODE, TYPE, typeName } from '../../src/dns/constants.ts';
import type { Reply } from '../../src/dns/message.ts';
import { readMessage } from '../../src/dns/reader.ts';
import { convertReply, ttlOf, within } from '../../src/upstream/scrub.ts';
import { buildQuery, replyMessage } from '../support/dns.ts';
import { handMadeReply, type HandMadeRecord, rr } from '../support/upstream.ts';

const DNAME = 39;
const RRSIG = 46;
const NAMES: Record<number, string> = { [DNAME]: 'DNAME', [RRSIG]: 'RRSIG', 47: 'NSEC' };
const LIMITS = { successTtl: 3600, denialTtl: 30 };

interface Sections {
  answer?: HandMadeRecord[];
  authority?: HandMadeRecord[];
  additional?: HandMadeRecord[];
}

function convert(qname: string, qtype: number, rcode: number, sections: Sections, limits: typeof LIMITS | null = LIMITS) {
  const request = buildQuery(qname, qtype, { udpSize: 1232 });
  const wire = handMadeReply(request, rcode, sections);
  return { wire, converted: convertReply({ wire, message: readMessage(wire) }, limits) };
}

/** Each kept record as `owner TTL TYPE`, read back from the reply's bytes. */
function shown(qname: string, qtype: number, reply: Reply) {
  const m = readMessage(replyMessage(qname, qtype, reply));
  const line = (r: { name: string; ttl: number; type: number }) => `${r.name} ${r.ttl} ${NAMES[r.type] ?? typeName(r.type)}`;
  return { answer: m.answer.map(line), authority: m.authority.map(line), additional: m.additional.map(line) };
}

const txt = (name: string): HandMadeRecord => ({ name, type: TYPE.TXT, ttl: 300, rdata: Buffer.from([3, 0x61, 0x62, 0x63]) });
const ns = (zone: string, target: string) => rr.name(TYPE.NS, zone, target);

interface Row {
  why: string;
  qname?: string;
  qtype?: number;
  rcode?: number;
  sections: Sections;
  kept: { answer?: string[]; authority?: string[]; additional?: string[] };
  /** The negative TTL the cache is offered (null: not cacheable as a denial). */
  negativeTtl?: number | null;
}

const rows: Row[] = [
  {
    why: 'answer: a record owned by a name off the chain is dropped',
    sections: { answer: [rr.a('www.example.com', '192.0.2.1'), rr.a('evil.example.net', '198.51.100.6')] },
    kept: { answer: ['www.example.com 300 A'] },
  },
  {
    why: 'answer: the CNAME chain is kept across zones, a record beside it is not',
    sections: {
      answer: [
        rr.name(TYPE.CNAME, 'www.example.com', 'web.example.net'),
        rr.a('web.example.net', '192.0.2.2'),
        rr.a('other.example.net', '198.51.100.7'),
      ],
    },
    kept: { answer: ['www.example.com 300 CNAME', 'web.example.net 300 A'] },
  },
  {
    why: 'answer: of two CNAMEs for one owner the first is followed, the second and its target dropped',
    sections: {
      answer: [
        rr.name(TYPE.CNAME, 'www.example.com', 'a.example.net'),
        rr.name(TYPE.CNAME, 'www.example.com', 'b.example.net'),
        rr.a('a.example.net', '192.0.2.3'),
        rr.a('b.example.net', '198.51.100.8'),
      ],
    },
    kept: { answer: ['www.example.com 300 CNAME', 'a.example.net 300 A'] },
  },
  {
    why: 'answer: a record of another type at the end of the chain is dropped',
    sections: { answer: [rr.a('www.example.com', '192.0.2.1'), txt('www.example.com')] },
    kept: { answer: ['www.example.com 300 A'] },
  },
  {
    why: 'answer: a DNAME above the question name is kept with the CNAME it makes and the target',
    qname: 'www.sub.example.com',
    sections: {
      answer: [
        rr.name(DNAME, 'sub.example.com', 'sub.example.net'),
        rr.name(TYPE.CNAME, 'www.sub.example.com', 'www.sub.example.net'),
        rr.a('www.sub.example.net', '192.0.2.4'),
        rr.a('sub.example.net', '198.51.100.9'),
      ],
    },
    kept: { answer: ['sub.example.com 300 DNAME', 'www.sub.example.com 300 CNAME', 'www.sub.example.net 300 A'] },
  },
  {
    why: 'answer: a DNAME is followed by substitution when the upstream left out its CNAME',
    qname: 'www.sub.example.com',
    sections: { answer: [rr.name(DNAME, 'sub.example.com', 'sub.example.net'), rr.a('www.sub.example.net', '192.0.2.4')] },
    kept: { answer: ['sub.example.com 300 DNAME', 'www.sub.example.net 300 A'] },
  },
  {
    why: 'answer: a CNAME loop ends the chain, nothing is dropped that belongs to it',
    sections: {
      answer: [rr.name(TYPE.CNAME, 'www.example.com', 'loop.example.com'), rr.name(TYPE.CNAME, 'loop.example.com', 'www.example.com')],
    },
    kept: { answer: ['www.example.com 300 CNAME', 'loop.example.com 300 CNAME'] },
  },
  {
    why: 'answer: for qtype CNAME the CNAME is the answer; its target is not followed',
    qtype: TYPE.CNAME,
    sections: { answer: [rr.name(TYPE.CNAME, 'www.example.com', 'web.example.net'), rr.a('web.example.net', '192.0.2.2')] },
    kept: { answer: ['www.example.com 300 CNAME'] },
  },
  {
    why: 'answer: ANY keeps every type owned by the question name',
    qtype: TYPE.ANY,
    sections: { answer: [rr.a('www.example.com', '192.0.2.1'), txt('www.example.com'), txt('elsewhere.example.com')] },
    kept: { answer: ['www.example.com 300 A', 'www.example.com 300 TXT'] },
  },
  {
    why: "answer and authority: signatures of kept records and the signer zone's proofs stay (DNSSEC)",
    sections: {
      answer: [rr.a('www.example.com', '192.0.2.1'), rr.rrsig('www.example.com', TYPE.A, 'example.com')],
      authority: [rr.nsec('w.example.com', 'x.example.com'), rr.rrsig('w.example.com', 47, 'example.com')],
    },
    kept: {
      answer: ['www.example.com 300 A', 'www.example.com 300 RRSIG'],
      authority: ['w.example.com 300 NSEC', 'w.example.com 300 RRSIG'],
    },
  },
  {
    why: "authority: the zone's NS set and its glue are kept",
    sections: {
      answer: [rr.a('www.example.com', '192.0.2.1')],
      authority: [ns('example.com', 'ns1.example.com')],
      additional: [rr.a('ns1.example.com', '192.0.2.53')],
    },
    kept: { answer: ['www.example.com 300 A'], authority: ['example.com 300 NS'], additional: ['ns1.example.com 300 A'] },
  },
  {
    why: 'authority: an NS set for a zone the question is not in, and its glue, are dropped',
    sections: {
      answer: [rr.a('www.example.com', '192.0.2.1')],
      authority: [ns('example.net', 'ns.evil.example')],
      additional: [rr.a('ns.evil.example', '198.51.100.53')],
    },
    kept: { answer: ['www.example.com 300 A'] },
  },
  {
    why: 'authority: only the first NS set stays',
    sections: {
      answer: [rr.a('www.example.com', '192.0.2.1')],
      authority: [ns('example.com', 'ns1.example.com'), ns('com', 'a.gtld.example')],
      additional: [rr.a('a.gtld.example', '198.51.100.54')],
    },
    kept: { answer: ['www.example.com 300 A'], authority: ['example.com 300 NS'] },
  },
  {
    why: 'authority: address records and CNAMEs never belong there, even in the zone',
    sections: {
      answer: [rr.a('www.example.com', '192.0.2.1')],
      authority: [rr.a('www.example.com', '198.51.100.1'), rr.name(TYPE.CNAME, 'mail.example.com', 'evil.example.net')],
    },
    kept: { answer: ['www.example.com 300 A'] },
  },
  {
    why: "NXDOMAIN: the zone's SOA stays; an NS set (and so its glue) does not",
    qname: 'nx.example.com',
    rcode: RCODE.NXDOMAIN,
    sections: {
      authority: [rr.soa('example.com', 30, 30), ns('example.com', 'ns1.example.com')],
      additional: [rr.a('ns1.example.com', '192.0.2.53')],
    },
    kept: { authority: ['example.com 30 SOA'] },
    negativeTtl: 30,
  },
  {
    why: 'NODATA: as NXDOMAIN',
    qname: 'nodata.example.com',
    sections: { authority: [rr.soa('example.com', 30, 30), ns('example.com', 'ns1.example.com')] },
    kept: { authority: ['example.com 30 SOA'] },
  },
  {
    why: 'NXDOMAIN: an SOA of a zone the name is not in is dropped (so the denial is not cacheable)',
    qname: 'nx.example.com',
    rcode: RCODE.NXDOMAIN,
    sections: { authority: [rr.soa('example.net', 30, 30)] },
    kept: {},
    negativeTtl: null,
  },
  {
    why: "NXDOMAIN: after a CNAME, the SOA of the target's zone stays",
    qname: 'www.example.com',
    rcode: RCODE.NXDOMAIN,
    sections: { answer: [rr.name(TYPE.CNAME, 'www.example.com', 'gone.example.net')], authority: [rr.soa('example.net', 30, 30)] },
    kept: { answer: ['www.example.com 30 CNAME'], authority: ['example.net 30 SOA'] },
  },
  {
    why: "DNSSEC denial: proofs inside the SOA's zone stay; one elsewhere, or whose next name leaves the zone, does not",
    qname: 'nx.example.com',
    rcode: RCODE.NXDOMAIN,
    sections: {
      authority: [
        rr.soa('example.com', 30, 30),
        rr.rrsig('example.com', TYPE.SOA, 'example.com', 30),
        rr.nsec('a.example.com', 'z.example.com', 30),
        rr.nsec('a.example.net', 'b.example.net', 30),
        rr.nsec('y.example.com', 'evil.example.net', 30),
      ],
    },
    kept: { authority: ['example.com 30 SOA', 'example.com 30 RRSIG', 'a.example.com 30 NSEC'] },
  },
  {
    why: 'additional: addresses for the exchange an MX answer names; not for other names',
    qname: 'example.com',
    qtype: TYPE.MX,
    sections: {
      answer: [rr.mx('example.com', 10, 'mail.example.com')],
      additional: [rr.a('mail.example.com', '192.0.2.25'), rr.a('bank.example.org', '198.51.100.25')],
    },
    kept: { answer: ['example.com 300 MX'], additional: ['mail.example.com 300 A'] },
  },
  {
    why: 'additional: addresses for SRV targets',
    qname: '_http._tcp.example.com',
    qtype: TYPE.SRV,
    sections: {
      answer: [rr.srv('_http._tcp.example.com', 80, 'web.example.com')],
      additional: [rr.a('web.example.com', '192.0.2.80'), rr.a('evil.example.com', '198.51.100.80')],
    },
    kept: { answer: ['_http._tcp.example.com 300 SRV'], additional: ['web.example.com 300 A'] },
  },
  {
    why: 'additional: CNAME, NS and SOA never belong there; other records only for a named or chain name',
    sections: {
      answer: [rr.a('www.example.com', '192.0.2.1')],
      additional: [
        rr.name(TYPE.CNAME, 'www.example.com', 'evil.example.net'),
        ns('example.com', 'ns.evil.example'),
        rr.soa('example.com', 30, 30),
        txt('www.example.com'),
        txt('other.example.org'),
      ],
    },
    kept: { answer: ['www.example.com 300 A'], additional: ['www.example.com 300 TXT'] },
  },
];

for (const row of rows) {
  test(`scrub: ${row.why}`, () => {
    const qname = row.qname ?? 'www.example.com';
    const qtype = row.qtype ?? TYPE.A;
    const { converted } = convert(qname, qtype, row.rcode ?? RCODE.NOERROR, row.sections);
    assert.deepEqual(shown(qname, qtype, converted.reply), {
      answer: row.kept.answer ?? [],
      authority: row.kept.authority ?? [],
      additional: row.kept.additional ?? [],
    });
    const given = (row.sections.answer?.length ?? 0) + (row.sections.authority?.length ?? 0) + (row.sections.additional?.length ?? 0);
    const kept = (row.kept.answer?.length ?? 0) + (row.kept.authority?.length ?? 0) + (row.kept.additional?.length ?? 0);
    assert.equal(converted.scrubbed, given - kept, 'dropped records counted');
    if (row.negativeTtl !== undefined) assert.equal(converted.negativeTtl, row.negativeTtl);
  });
}

test('a clean reply is copied as it came, not re-encoded (names stay uncompressed, the OPT is cut off)', () => {
  const sections = {
    answer: [rr.a('www.example.com', '192.0.2.1', 60)],
    authority: [ns('example.com', 'ns1.example.com')],
    additional: [rr.a('ns1.example.com', '192.0.2.53', 60)],
  };
  // NS TTL 300 is served as 60: no record outlives the answer (what a cache hit would say too).
  const { wire, converted } = convert('www.example.com', TYPE.A, RCODE.NOERROR, sections);
  assert.equal(converted.scrubbed, 0);
  const questionEnd = HEADER_SIZE + 'www.example.com'.length + 2 + 4;
  const expected = Buffer.from(wire.subarray(questionEnd, wire.length - 11));
  const nsTtlAt = converted.ttlOffsets[1]!;
  expected.writeUInt32BE(60, nsTtlAt);
  assert.deepEqual(Buffer.from(converted.reply.body), expected);
  assert.deepEqual(shown('www.example.com', TYPE.A, converted.reply).authority, ['example.com 60 NS']);
});

test('a scrubbed reply with the OPT first is re-encoded whole: every kept record readable', () => {
  const request = buildQuery('www.example.com', TYPE.A, { udpSize: 1232 });
  const wire = handMadeReply(request, RCODE.NOERROR, {
    answer: [rr.a('www.example.com', '192.0.2.1')],
    additional: [rr.a('ns1.example.com', '192.0.2.53'), rr.a('evil.example.org', '198.51.100.1')],
    optFirst: true,
  });
  const converted = convertReply({ wire, message: readMessage(wire) }, LIMITS);
  assert.deepEqual(shown('www.example.com', TYPE.A, converted.reply), { answer: ['www.example.com 300 A'], authority: [], additional: [] });
  assert.equal(converted.scrubbed, 2);
});

test('TTLs with the top bit set are read as 0 (RFC 2181 §8), on the copied and the re-encoded path', () => {
  for (const extra of [[], [rr.a('evil.example.net', '198.51.100.1')]]) {
    const { converted } = convert('www.example.com', TYPE.A, RCODE.NOERROR, {
      answer: [rr.a('www.example.com', '192.0.2.1', 0x80000000), rr.a('www.example.com', '192.0.2.2', 0xffffffff), ...extra],
    });
    assert.deepEqual(shown('www.example.com', TYPE.A, converted.reply).answer, ['www.example.com 0 A', 'www.example.com 0 A']);
    assert.deepEqual(converted.ttls, [0, 0]);
  }
  assert.equal(ttlOf(0x7fffffff), 0x7fffffff);
  assert.equal(ttlOf(0x80000000), 0);
});

test('served TTLs are capped as the cache caps them: --cache-success-ttl, and a huge negative TTL by --cache-denial-ttl', () => {
  const long = convert('www.example.com', TYPE.A, RCODE.NOERROR, { answer: [rr.a('www.example.com', '192.0.2.1', 604_800)] });
  assert.deepEqual(shown('www.example.com', TYPE.A, long.converted.reply).answer, ['www.example.com 3600 A']);
  const nx = convert('nx.example.com', TYPE.A, RCODE.NXDOMAIN, { authority: [rr.soa('example.com', 86_400, 86_400)] });
  assert.deepEqual(
    shown('nx.example.com', TYPE.A, nx.converted.reply).authority,
    ['example.com 30 SOA'],
    'what a downstream cache sees: 30 s, not a day',
  );
  assert.equal(nx.converted.negativeTtl, 86_400, "the SOA's own figure, for the cache to cap");
  const untouched = convert('nx.example.com', TYPE.A, RCODE.NXDOMAIN, { authority: [rr.soa('example.com', 86_400, 86_400)] }, null);
  assert.deepEqual(
    shown('nx.example.com', TYPE.A, untouched.converted.reply).authority,
    ['example.com 86400 SOA'],
    'no limits given: only the top-bit rule',
  );
});

test('within(): a name is at or below a zone only on a label boundary', () => {
  assert.ok(within('www.example.com', 'example.com'));
  assert.ok(within('example.com', 'example.com'));
  assert.ok(within('example.com', ''));
  assert.ok(!within('badexample.com', 'example.com'));
  assert.ok(!within('example.com', 'www.example.com'));
  assert.ok(!within('a\\046example.com', 'example.com'), 'an escaped dot is inside its label');
});
