import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TYPE } from '../../src/dns/constants.ts';
import { canonicalIPv6, encodeReply, ipv6Bytes, nameOctets } from '../../src/dns/writer.ts';
import { decode, replyMessage } from '../support/dns.ts';

const Q = 'web.shop.svc.cluster.local';

test('records decode with an independent decoder (dns2)', () => {
  const reply = encodeReply(Q, {
    rcode: 0,
    authoritative: true,
    answer: [
      { name: Q, type: TYPE.A, ttl: 5, address: '10.96.0.1' },
      { name: Q, type: TYPE.AAAA, ttl: 5, address: 'fd00::1' },
      { name: Q, type: TYPE.SRV, ttl: 5, priority: 0, weight: 100, port: 80, target: Q },
      { name: Q, type: TYPE.TXT, ttl: 5, text: ['1.1.0'] },
      { name: Q, type: TYPE.CNAME, ttl: 5, target: 'www.example.com' },
    ],
    authority: [
      {
        name: 'cluster.local',
        type: TYPE.SOA,
        ttl: 5,
        mname: 'ns.dns.cluster.local',
        rname: 'hostmaster.cluster.local',
        serial: 7,
        refresh: 7200,
        retry: 1800,
        expire: 86400,
        minimum: 5,
      },
    ],
    additional: [],
  });
  const d = decode(replyMessage(Q, TYPE.A, reply));
  assert.deepEqual(d.answer, [
    `${Q}. 5 IN A 10.96.0.1`,
    `${Q}. 5 IN AAAA fd00::1`,
    `${Q}. 5 IN SRV 0 100 80 ${Q}.`,
    `${Q}. 5 IN TXT "1.1.0"`,
    `${Q}. 5 IN CNAME www.example.com.`,
  ]);
  assert.deepEqual(d.authority, ['cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 7 7200 1800 86400 5']);
});

test('owners equal to the question point at it; SRV targets are never compressed (RFC 2782)', () => {
  const reply = encodeReply(Q, {
    rcode: 0,
    authoritative: true,
    answer: [{ name: Q, type: TYPE.SRV, ttl: 5, priority: 0, weight: 100, port: 80, target: Q }],
    authority: [],
    additional: [],
  });
  const body = Buffer.from(reply.body);
  assert.equal(body.readUInt16BE(0), 0xc00c, 'owner is a pointer to offset 12');
  const rdata = body.subarray(12 + 6);
  assert.equal(rdata.length, nameOctets(Q));
  assert.equal(rdata.includes(0xc0), false, 'the target is written in full');
});

test('a name with escaped bytes keeps its wire length', () => {
  assert.equal(nameOctets('a\\046b.example'), 1 + 3 + 1 + 7 + 1);
  assert.equal(nameOctets(''), 1);
});

test('IPv6 text forms', () => {
  const b = new Uint8Array(16);
  assert.ok(ipv6Bytes('::ffff:10.0.0.1', b, 0));
  assert.deepEqual([...b.subarray(10)], [0xff, 0xff, 10, 0, 0, 1]);
  assert.equal(ipv6Bytes('1::2::3', b, 0), false);
  assert.equal(ipv6Bytes('12345::', b, 0), false);
  assert.equal(canonicalIPv6('2001:0db8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
  assert.equal(canonicalIPv6('1:0:0:1:0:0:0:1'), '1:0:0:1::1');
  assert.equal(canonicalIPv6('::'), '::');
});
