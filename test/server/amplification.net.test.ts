// Queries an attacker would pick to amplify a spoofed flood (RFC 8482 ANY, a large headless
// service) get a minimal answer, or one cut to the client's UDP limit, over UDP, and odd names
// (spaces, dots inside labels, non-ASCII bytes, 63-octet labels, 255-octet names) come back byte
// for byte or fail cleanly with FORMERR. Real listeners on loopback with the cluster zone.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { TYPE } from '../../src/dns/constants.ts';
import { readMessage } from '../../src/dns/reader.ts';
import { startListeners } from '../../src/server/listen.ts';
import { QueryProcessor } from '../../src/server/processor.ts';
import { KubernetesZone } from '../../src/zone/kubernetes.ts';
import { queryTcp, queryUdp } from '../support/client.ts';
import { endpointSlice, indexOf, namespace, service, testCluster } from '../support/cluster.ts';
import { decode } from '../support/dns.ts';
import { header, opt, query, wireName } from '../support/fuzz.ts';

function endpoints(count: number, second: number) {
  return Array.from({ length: count }, (_, i) => ({ ip: `10.${second}.${i >> 8}.${i & 255}`, hostname: `pod-${i}` }));
}

async function serve(t: TestContext) {
  const cluster = [
    ...testCluster(),
    namespace('big'),
    // ~16 KB of A records: over every UDP limit, well within a TCP message.
    service('big', 'many', { headless: true, ports: [{ name: 'http', port: 80 }] }),
    endpointSlice('big', 'many', 'many-1', 'IPv4', endpoints(1000, 250), [{ name: 'http', port: 80 }]),
    // ~80 KB of A records: more than one DNS message can carry at all (65,535 octets).
    service('big', 'huge', { headless: true }),
    endpointSlice('big', 'huge', 'huge-1', 'IPv4', endpoints(5000, 251), []),
  ];
  const zone = new KubernetesZone({ index: indexOf(cluster), zone: 'cluster.local', ttl: 5, pods: 'verified' });
  const processor = new QueryProcessor({ handlers: [zone] });
  const listeners = await startListeners([{ host: '127.0.0.1', port: 0 }], processor, { tcpIdleTimeoutMs: 2_000 });
  t.after(() => listeners.close());
  return { processor, address: listeners.addresses()[0]! };
}

async function udp(address: { host: string; port: number }, message: Buffer): Promise<Buffer> {
  const reply = await queryUdp(address, message, 1_000);
  assert.ok(reply, 'a UDP reply');
  return reply;
}

test('ANY gets one HINFO record (RFC 8482) over UDP and TCP, however much the name has', async (t) => {
  const { address } = await serve(t);
  for (const q of [query('many.big.svc.cluster.local', TYPE.ANY), query('many.big.svc.cluster.local', TYPE.ANY, { udpSize: 4096 })]) {
    for (const reply of [await udp(address, q), await queryTcp(address, q)]) {
      const d = decode(reply);
      assert.equal(d.rcode, 'NOERROR');
      assert.equal(d.tc, false);
      assert.deepEqual(
        d.answer.map((r) => r.split(' ')[3]),
        ['HINFO'],
      );
      assert.equal(d.additional.length, 0);
      // The amplification an attacker gets: under 2x, against 16 KB for the A records.
      assert.ok(reply.length < 2 * q.length, `ANY reply ${reply.length} octets for a ${q.length}-octet query`);
    }
  }
  const missing = decode(await udp(address, query('nobody.big.svc.cluster.local', TYPE.ANY)));
  assert.equal(missing.rcode, 'NXDOMAIN');
  assert.equal(missing.answer.length, 0);
});

/** Whether every SRV target in the answer section is written out in full (RFC 2782: never compressed). */
function srvTargetsUncompressed(reply: Buffer): boolean {
  const m = readMessage(reply);
  return m.answer.every((rr) => {
    let at = rr.rdataStart + 6;
    // Bounded by the record: each step consumes a label.
    while (at < rr.end && reply[at] !== 0) {
      if ((reply[at]! & 0xc0) !== 0) return false;
      at += 1 + reply[at]!;
    }
    return at === rr.end - 1;
  });
}

test('a large headless service over UDP: TC with as many whole records as fit (512, or the EDNS size up to 1232); complete over TCP', async (t) => {
  const { address, processor } = await serve(t);
  const name = 'many.big.svc.cluster.local';
  // Every type the name has, and some it has not: no UDP reply ever exceeds the limit.
  for (const type of [TYPE.A, TYPE.AAAA, TYPE.SRV, TYPE.TXT, TYPE.ANY, TYPE.CNAME, TYPE.MX]) {
    const plain = await udp(address, query(name, type));
    assert.ok(plain.length <= 512, `type ${type} without EDNS: ${plain.length} octets`);
    const edns = await udp(address, query(name, type, { udpSize: 65535 }));
    assert.ok(edns.length <= 1232, `type ${type} with EDNS 65535: ${edns.length} octets (the --max-udp-size cap)`);
  }
  const overTcp = decode(await queryTcp(address, query(name, TYPE.A)));
  assert.equal(overTcp.tc, false);
  assert.equal(overTcp.answer.length, 1000);

  // The question takes 12 + 28 + 4 = 44 octets, each A record 16 (its owner a pointer).
  const classic = decode(await udp(address, query(name, TYPE.A)));
  assert.equal(classic.tc, true);
  assert.equal(classic.question, `${name}. A`);
  assert.deepEqual(classic.answer, overTcp.answer.slice(0, Math.floor((512 - 44) / 16)), 'the first 29 records, whole');
  const capped = decode(await udp(address, query(name, TYPE.A, { udpSize: 65535 })));
  assert.equal(capped.tc, true);
  assert.equal(capped.optUdpSize, 1232, 'the OPT stays, advertising our cap');
  assert.deepEqual(capped.answer, overTcp.answer.slice(0, Math.floor((1232 - 44 - 11) / 16)));
  // SRV answers carry targets in the additional section: the answer section is cut first, so
  // none of them comes along; targets stay uncompressed in the cut reply too.
  const srvWire = await udp(address, query(`_http._tcp.${name}`, TYPE.SRV, { udpSize: 1232 }));
  const srv = decode(srvWire);
  assert.equal(srv.tc, true);
  assert.ok(srv.answer.length > 10, `${srv.answer.length} SRV records`);
  assert.equal(srv.additional.length, 0);
  assert.ok(srvTargetsUncompressed(srvWire), 'SRV targets written in full');
  assert.ok(processor.stats.truncated >= 3);
});

test('an answer larger than any DNS message: TC over TCP too, the records that fit, never a frame over 65,535 octets', async (t) => {
  const { address } = await serve(t);
  const q = query('huge.big.svc.cluster.local', TYPE.A);
  const reply = await queryTcp(address, q);
  assert.ok(reply.length <= 65535);
  const d = decode(reply);
  assert.equal(d.tc, true);
  assert.equal(d.answer.length, Math.floor((65535 - q.length) / 16));
  assert.deepEqual(reply.subarray(12, q.length), q.subarray(12), 'the question is still echoed');
});

/** The name's wire form built from raw label bytes (so a label may hold a '.', a space, 0x00…). */
function rawQuery(labels: Buffer[], type: number = TYPE.A): Buffer {
  return Buffer.concat([header({ id: 0x0dd5 }), wireName(labels), Buffer.from([0, type, 0, 1])]);
}
const latin1 = (s: string) => Buffer.from(s, 'latin1');
const zoneLabels = (...rest: string[]) => [...rest, 'svc', 'cluster', 'local'].map(latin1);
/** Labels making a name of exactly `octets` octets on the wire (root included) that ends in `suffix`. */
function nameOfOctets(octets: number, suffix: string[]): Buffer[] {
  const tail = suffix.map(latin1);
  let left = octets - 1 - tail.reduce((n, l) => n + l.length + 1, 0);
  const head: Buffer[] = [];
  // Bounded: each label takes at least 2 of the octets left.
  while (left > 0) {
    const size = Math.min(63, left - 1);
    head.push(latin1('a'.repeat(size)));
    left -= size + 1;
  }
  return [...head, ...tail];
}

const odd: Array<[string, Buffer[], string]> = [
  ['a space inside a label', zoneLabels('my svc', 'testns'), 'NXDOMAIN'],
  ['a dot inside a label (svc1.testns as one label) never matches svc1.testns', [latin1('svc1.testns'), ...zoneLabels()], 'NXDOMAIN'],
  ['a dot inside the namespace label', zoneLabels('svc1', 'test.ns'), 'NXDOMAIN'],
  ['a backslash and escape-like text', zoneLabels('svc1\\046testns', 'testns'), 'NXDOMAIN'],
  ['UTF-8 bytes (é)', [Buffer.from('café', 'utf8'), ...zoneLabels('testns')], 'NXDOMAIN'],
  ['every high byte and NUL', [Buffer.from([0x00, 0x7f, 0x80, 0xc8, 0xff]), ...zoneLabels('testns')], 'NXDOMAIN'],
  [
    '0x20 case on a name that exists',
    zoneLabels('SvC1', 'TeStNs').map((l, i) => (i > 1 ? latin1(l.toString('latin1').toUpperCase()) : l)),
    'NOERROR',
  ],
  ['a 63-octet label', zoneLabels('x'.repeat(63), 'testns'), 'NXDOMAIN'],
  ['a 255-octet name in the zone', nameOfOctets(255, ['svc', 'cluster', 'local']), 'NXDOMAIN'],
  ['a 255-octet name outside the zone', nameOfOctets(255, ['example']), 'REFUSED'],
];

for (const [what, labels, rcode] of odd) {
  test(`odd name: ${what} → ${rcode}, question echoed byte for byte over UDP and TCP`, async (t) => {
    const { address, processor } = await serve(t);
    const q = rawQuery(labels);
    assert.ok(q.length - 12 - 4 <= 255, 'a legal name');
    if (what.includes('255-octet')) assert.equal(q.length - 12 - 4, 255);
    for (const reply of [await udp(address, q), await queryTcp(address, q)]) {
      const d = decode(reply);
      assert.equal(d.rcode, rcode);
      assert.equal(reply.readUInt16BE(4), 1, 'one question');
      assert.deepEqual(reply.subarray(12, q.length), q.subarray(12), 'byte-exact question');
      if (rcode === 'NOERROR') {
        // The owner is a pointer to the question: the client's exact bytes again.
        assert.equal(d.answer[0]?.split(' ')[0], `${labels.map((l) => l.toString('latin1')).join('.')}.`);
      }
    }
    assert.equal(processor.stats.panics, 0);
  });
}

const illegal: Array<[string, Buffer]> = [
  ['a 64-octet label (0x40: an extended label type)', rawQuery(zoneLabels('x'.repeat(64), 'testns'))],
  ['a 256-octet name', rawQuery(nameOfOctets(256, ['svc', 'cluster', 'local']))],
  ['a label running past the end', Buffer.concat([header({ id: 0x0dd5 }), Buffer.from([40]), latin1('short')])],
  ['two OPT records', Buffer.concat([header({ id: 0x0dd5, ar: 2 }), rawQuery(zoneLabels('svc1', 'testns')).subarray(12), opt(), opt()])],
];

for (const [what, q] of illegal) {
  test(`illegal name or layout: ${what} → FORMERR, nothing echoed that was not read`, async (t) => {
    const { address, processor } = await serve(t);
    for (const reply of [await udp(address, q), await queryTcp(address, q)]) {
      const d = decode(reply);
      assert.equal(d.rcode, 'FORMERR');
      assert.equal(d.id, 0x0dd5);
      assert.equal(d.answer.length + d.authority.length + d.additional.length, 0);
      const qd = reply.readUInt16BE(4);
      // A question is echoed only when it was read whole (the two-OPT case); never a partial one.
      if (qd === 1) assert.deepEqual(reply.subarray(12, 12 + (reply.length - 12)), q.subarray(12, reply.length));
      else assert.equal(reply.length, 12);
    }
    assert.equal(processor.stats.panics, 0);
  });
}
