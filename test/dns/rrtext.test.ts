import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TYPE } from '../../src/dns/constants.ts';
import { parseRecordText, RecordTextError } from '../../src/dns/rrtext.ts';
import { ReplyWriter, type WireRecord } from '../../src/dns/writer.ts';
import { decode, replyMessage } from '../support/dns.ts';

/** The record as an independent decoder (dns2) reads it back from the wire. */
function roundTrip(rr: WireRecord): string {
  const writer = new ReplyWriter('q.example');
  writer.record(rr);
  const body = writer.bytes();
  return decode(replyMessage('q.example', TYPE.A, { rcode: 0, authoritative: true, ancount: 1, nscount: 0, arcount: 0, body }))
    .answer[0] as string;
}

const rows: { text: string; wire: string; why: string }[] = [
  { text: 'a.example. 60 IN A 10.0.0.1', wire: 'a.example. 60 IN A 10.0.0.1', why: 'the full form' },
  {
    text: 'A.Example 60 IN A 10.0.0.1',
    wire: 'a.example. 60 IN A 10.0.0.1',
    why: 'names lower-cased; no trailing dot is still absolute (origin is the root)',
  },
  { text: 'a.example. IN 60 A 10.0.0.1', wire: 'a.example. 60 IN A 10.0.0.1', why: 'class before TTL' },
  { text: 'a.example. A 10.0.0.1', wire: 'a.example. 3600 IN A 10.0.0.1', why: 'no TTL: 3600, no class: IN (miekg/dns)' },
  { text: 'a.example. 1h IN A 10.0.0.1', wire: 'a.example. 3600 IN A 10.0.0.1', why: 'BIND TTL units' },
  { text: 'a.example.  60  IN  AAAA  fd00:0:0::1', wire: 'a.example. 60 IN AAAA fd00::1', why: 'extra blanks; IPv6 in any form' },
  { text: 'a.example. 60 IN CNAME b.example.', wire: 'a.example. 60 IN CNAME b.example.', why: 'CNAME' },
  { text: '4.3.2.1.in-addr.arpa. 60 IN PTR ip-1-2-3-4.example.', wire: '4.3.2.1.in-addr.arpa. 60 IN PTR ip-1-2-3-4.example.', why: 'PTR' },
  { text: 'example. 60 IN NS ns0.example.', wire: 'example. 60 IN NS ns0.example.', why: 'NS' },
  { text: '_x._tcp.example. 60 IN SRV 10 20 443 t.example.', wire: '_x._tcp.example. 60 IN SRV 10 20 443 t.example.', why: 'SRV' },
  { text: 'a.example. 60 IN TXT "hello world" two', wire: 'a.example. 60 IN TXT "hello world" "two"', why: 'quoted and bare strings' },
  { text: 'a.example. 60 IN TXT "say \\"hi\\"\\033"', wire: 'a.example. 60 IN TXT "say \\"hi\\"!"', why: 'escapes in a string' },
  {
    text: 'invalid. 60 IN SOA ns.invalid. hostmaster.invalid. (1 60 60 60 60)',
    wire: 'invalid. 60 IN SOA ns.invalid. hostmaster.invalid. 1 60 60 60 60',
    why: 'SOA with parentheses, as the template docs write it',
  },
  { text: 'a.example. 60 IN A 10.0.0.1 ; a comment', wire: 'a.example. 60 IN A 10.0.0.1', why: 'a comment' },
];

for (const row of rows) {
  test(`parseRecordText ${row.text}: ${row.why}`, () => {
    assert.equal(roundTrip(parseRecordText(row.text)), row.wire);
  });
}

test('MX is parsed (dns2 does not render it: checked field by field)', () => {
  assert.deepEqual(parseRecordText('ip-10.example. 60 IN MX 10 ip-10.example.'), {
    name: 'ip-10.example',
    ttl: 60,
    type: TYPE.MX,
    preference: 10,
    exchange: 'ip-10.example',
  });
});

const bad: { text: string; error: RegExp; why: string }[] = [
  { text: 'a.example. 60 IN A 10.0.0', error: /bad IPv4 address/, why: 'three octets' },
  { text: 'a.example. 60 IN A 010.0.0.1x', error: /bad IPv4 address/, why: 'not an address' },
  { text: 'a.example. 60 IN AAAA 1::2::3', error: /bad IPv6 address/, why: 'two ::' },
  { text: 'a.example. 60 CH TXT "x"', error: /class CH/, why: 'only IN records can be answered' },
  { text: 'a.example. 60 IN HINFO x y', error: /type HINFO is not supported/, why: 'a known type the parser does not take' },
  { text: 'a.example. 60 IN BOGUS x', error: /unknown type/, why: 'not a type' },
  { text: 'a..example. 60 IN A 10.0.0.1', error: /bad owner name/, why: 'an empty label' },
  { text: 'a.example. 60 IN MX ten b.', error: /bad MX preference/, why: 'not a number' },
  { text: 'a.example. 60 IN SRV 1 2 70000 t.', error: /bad SRV port/, why: 'over 65535' },
  { text: 'a.example. 60 IN A 10.0.0.1 10.0.0.2', error: /extra data/, why: 'two addresses' },
  { text: 'a.example. 60 IN TXT "open', error: /unterminated/, why: 'an open quote' },
  { text: 'a.example. 60 IN', error: /missing type/, why: 'nothing after the class' },
  { text: 'a.example. 60 IN SOA ns. host. 1 2 3', error: /bad SOA expire/, why: 'too few SOA fields' },
];

for (const row of bad) {
  test(`parseRecordText refuses ${row.text}: ${row.why}`, () => {
    assert.throws(
      () => parseRecordText(row.text),
      (err: unknown) => err instanceof RecordTextError && row.error.test(err.message) && err.message.includes(row.text),
    );
  });
}

test('a TXT string over 255 octets is split, as miekg/dns does', () => {
  const rr = parseRecordText(`a. 1 IN TXT "${'x'.repeat(300)}"`);
  assert.ok('rdata' in rr);
  assert.deepEqual([rr.rdata[0], rr.rdata[256]], [255, 45]);
  assert.equal(rr.rdata.length, 302);
});
