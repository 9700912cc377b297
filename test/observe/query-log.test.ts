// The query log in CoreDNS's format: the line a CoreDNS parser expects, the classes and zones
// that choose what is logged, and the JSON line kept for --log-queries alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/base/log.ts';
import { RCODE, TYPE } from '../../src/dns/constants.ts';
import type { Query, Reply } from '../../src/dns/message.ts';
import { classify, compileLogFormat, queryLogger, type LogClass } from '../../src/observe/query-log.ts';
import type { ServerContext } from '../../src/server/processor.ts';
import { assemble } from '../../src/server/respond.ts';
import { readQuery } from '../../src/dns/query.ts';
import { buildQuery } from '../support/dns.ts';
import { writeReply } from '../../src/dns/writer.ts';

function queryOf(msg: Buffer): Query {
  const read = readQuery(msg);
  assert.equal(read.kind, 'query');
  return (read as Extract<typeof read, { kind: 'query' }>).query;
}

const request = buildQuery('www.Example.org', TYPE.A, { id: 4160, udpSize: 1232 });
const query = queryOf(request);
const UDP: ServerContext = { protocol: 'udp', remoteAddress: '10.244.0.1', remotePort: 43245 };
const answer: Reply = writeReply(
  'www.example.org',
  { rcode: RCODE.NOERROR, authoritative: false, recursionAvailable: true },
  [{ name: 'www.example.org', type: TYPE.A, ttl: 30, address: '93.184.216.34' }],
  [],
  [],
);
const nodata: Reply = writeReply(
  'www.example.org',
  { rcode: RCODE.NOERROR, authoritative: true },
  [],
  [
    {
      name: 'example.org',
      type: TYPE.SOA,
      ttl: 5,
      mname: 'ns.example.org',
      rname: 'h.example.org',
      serial: 1,
      refresh: 1,
      retry: 1,
      expire: 1,
      minimum: 5,
    },
  ],
  [],
);
const referral: Reply = writeReply(
  'www.example.org',
  { rcode: RCODE.NOERROR, authoritative: false },
  [],
  [{ name: 'example.org', type: TYPE.NS, ttl: 5, target: 'ns.example.org' }],
  [],
);
const wire = (reply: Reply) => assemble(request, query, reply, 1232, 1232);

test('{common}: the line CoreDNS prints, field by field', () => {
  const out = wire(answer);
  const line = compileLogFormat('{common}')({
    query,
    context: UDP,
    rcode: 0,
    plugin: 'forward',
    reply: out,
    requestSize: request.length,
    seconds: 0.000123456,
  });
  assert.equal(
    line,
    `10.244.0.1:43245 - 4160 "A IN www.example.org. udp ${request.length} false 1232" NOERROR qr,rd,ra ${out.length} 0.000123456s`,
  );
});

test('{combined} adds the opcode; IPv6 clients in brackets; TCP reports 65535 as the buffer; unknown placeholders stay', () => {
  const out = wire(nodata);
  const line = compileLogFormat('{combined} {nosuch}')({
    query,
    context: { protocol: 'tcp', remoteAddress: 'fd00::1', remotePort: 5353 },
    rcode: 0,
    plugin: 'kubernetes',
    reply: out,
    requestSize: request.length,
    seconds: 0.5,
  });
  assert.equal(
    line,
    `[fd00::1]:5353 - 4160 "A IN www.example.org. tcp ${request.length} false 65535" NOERROR qr,aa,rd ${out.length} 0.5s "0" {nosuch}`,
  );
});

const classRows: { reply: Reply; rcode: number; want: Exclude<LogClass, 'all'>; why: string }[] = [
  { reply: answer, rcode: RCODE.NOERROR, want: 'success', why: 'an answer' },
  { reply: referral, rcode: RCODE.NOERROR, want: 'success', why: 'a referral (NS in authority, no SOA), as CoreDNS classes a delegation' },
  { reply: nodata, rcode: RCODE.NOERROR, want: 'denial', why: 'NODATA' },
  { reply: nodata, rcode: RCODE.NXDOMAIN, want: 'denial', why: 'NXDOMAIN' },
  { reply: nodata, rcode: RCODE.SERVFAIL, want: 'error', why: 'SERVFAIL' },
  { reply: nodata, rcode: RCODE.REFUSED, want: 'error', why: 'REFUSED' },
];
for (const row of classRows) {
  test(`classify: ${row.why}`, () => {
    assert.equal(classify(row.rcode, wire({ ...row.reply, rcode: row.rcode })), row.want);
  });
}

test('class and zones choose the lines; each is [INFO] and the format', () => {
  const lines: string[] = [];
  const log = queryLogger(
    createLogger('silent'),
    { format: '{name} {rcode}', classes: ['denial', 'error'], zones: ['example.org'], sample: 1 },
    (l) => lines.push(l),
  );
  log(query, UDP, 0, 'forward', wire(answer), request.length, 0.001);
  log(query, UDP, 3, 'forward', wire({ ...nodata, rcode: 3 }), request.length, 0.001);
  const other = queryOf(buildQuery('www.example.com', TYPE.A));
  log(other, UDP, 3, 'forward', assemble(buildQuery('www.example.com', TYPE.A), other, { ...nodata, rcode: 3 }, 512, 1232), 33, 0.001);
  assert.deepEqual(lines, ['[INFO] www.example.org. NXDOMAIN\n']);
});

test('json: one pino line per query with its fields, as --log-queries wrote before', () => {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const log = queryLogger(createLogger('info', { destination: sink }), { format: 'json', classes: ['all'], zones: [''], sample: 1 }, () =>
    assert.fail('json lines go through the logger'),
  );
  const out = wire(answer);
  log(query, UDP, 0, 'forward', out, request.length, 0.0015);
  const line = JSON.parse(chunks.join(''));
  assert.equal(line.msg, 'query');
  assert.equal(line.name, 'www.example.org.');
  assert.equal(line.type, 'A');
  assert.equal(line.rcode, 'NOERROR');
  assert.equal(line.rsize, out.length);
  assert.equal(line.ms, 1.5);
});
