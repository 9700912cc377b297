// Whole-message reading (upstream replies): records found where they are, names decoded through
// compression, and malformed messages refused rather than misread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TYPE } from '../../src/dns/constants.ts';
import { decodeRecord, MalformedMessageError, readMessage, recordEnds } from '../../src/dns/reader.ts';
import { writeReply } from '../../src/dns/writer.ts';
import { replyMessage } from '../support/dns.ts';

function message() {
  const reply = writeReply(
    'www.example.com',
    { rcode: 0, authoritative: false, recursionAvailable: true },
    [
      { name: 'www.example.com', type: TYPE.CNAME, ttl: 60, target: 'edge.example.net' },
      { name: 'edge.example.net', type: TYPE.A, ttl: 30, address: '192.0.2.9' },
      { name: 'edge.example.net', type: TYPE.AAAA, ttl: 30, address: '2001:db8::9' },
      { name: 'example.com', type: TYPE.MX, ttl: 300, preference: 10, exchange: 'mail.example.com' },
      { name: 'www.example.com', type: 99, ttl: 5, rdata: Uint8Array.from([3, 0x61, 0x62, 0x63]) },
    ],
    [
      {
        name: 'example.com',
        type: TYPE.SOA,
        ttl: 900,
        mname: 'ns.example.com',
        rname: 'admin.example.com',
        serial: 7,
        refresh: 1,
        retry: 2,
        expire: 3,
        minimum: 60,
      },
    ],
    [],
  );
  return replyMessage('www.example.com', TYPE.A, reply);
}

test('every record is found, with its TTL offset, and decodes back to what was written', () => {
  const wire = message();
  const m = readMessage(wire);
  assert.deepEqual(m.question, { name: 'www.example.com', type: TYPE.A, class: 1 });
  assert.equal(m.answer.length, 5);
  assert.equal(m.authority.length, 1);
  for (const rr of [...m.answer, ...m.authority]) assert.equal(wire.readUInt32BE(rr.ttlAt), rr.ttl);
  const decoded = [...m.answer, ...m.authority].map((rr) => decodeRecord(wire, rr));
  assert.deepEqual(decoded[0], { name: 'www.example.com', type: TYPE.CNAME, ttl: 60, target: 'edge.example.net' });
  assert.deepEqual(decoded[1], { name: 'edge.example.net', type: TYPE.A, ttl: 30, address: '192.0.2.9' });
  assert.equal((decoded[2] as { address: string }).address, '2001:db8::9');
  assert.deepEqual(decoded[3], { name: 'example.com', type: TYPE.MX, ttl: 300, preference: 10, exchange: 'mail.example.com' });
  assert.deepEqual(decoded[4], { name: 'www.example.com', type: 99, ttl: 5, rdata: Uint8Array.from([3, 0x61, 0x62, 0x63]) });
  assert.equal((decoded[5] as { minimum: number }).minimum, 60);
});

test('malformed messages are refused: cut short, counts that lie, RDATA past the end, pointer loops', () => {
  const wire = message();
  const cases: [string, Buffer][] = [
    ['short', wire.subarray(0, 8)],
    ['cut', wire.subarray(0, wire.length - 3)],
    [
      'count lies',
      (() => {
        const b = Buffer.from(wire);
        b.writeUInt16BE(9, 6);
        return b;
      })(),
    ],
    [
      'rdlength',
      (() => {
        const b = Buffer.from(wire);
        const m = readMessage(wire);
        b.writeUInt16BE(500, m.answer[1]!.rdataStart - 2);
        return b;
      })(),
    ],
    [
      'pointer loop',
      (() => {
        const b = Buffer.from(wire);
        const m = readMessage(wire);
        b.writeUInt16BE(0xc000 | m.answer[0]!.start, m.answer[0]!.start);
        return b;
      })(),
    ],
    [
      'two questions',
      (() => {
        const b = Buffer.from(wire);
        b.writeUInt16BE(2, 4);
        return b;
      })(),
    ],
  ];
  for (const [what, bad] of cases) assert.throws(() => readMessage(bad), MalformedMessageError, what);
});

test('recordEnds: where each record of a body ends, as readMessage finds them; a malformed tail ends the walk early', () => {
  const wire = message();
  const m = readMessage(wire);
  const body = wire.subarray(m.questionEnd);
  const spans = [...m.answer, ...m.authority];
  assert.deepEqual(
    [...recordEnds(body, spans.length)],
    spans.map((rr) => rr.end - m.questionEnd),
  );
  assert.deepEqual(
    [...recordEnds(body, 2)],
    spans.slice(0, 2).map((rr) => rr.end - m.questionEnd),
    'only the records asked for',
  );
  const third = spans[2]!.start - m.questionEnd;
  assert.equal(recordEnds(body.subarray(0, third + 5), spans.length).length, 2, 'a record cut short is not counted');
  const badLabel = Buffer.from(body);
  badLabel[third] = 0x40;
  assert.equal(recordEnds(badLabel, spans.length).length, 2, 'an extended label type stops the walk');
  const longRdata = Buffer.from(body);
  longRdata.writeUInt16BE(0xffff, spans[2]!.rdataStart - 2 - m.questionEnd);
  assert.equal(recordEnds(longRdata, spans.length).length, 2, 'RDATA past the end stops the walk');
  assert.equal(recordEnds(body, spans.length + 5).length, spans.length, 'counts that lie stop at the end');
});
