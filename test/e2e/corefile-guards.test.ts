// A Corefile's server-side directives, run by the real server and asked over the wire: acl
// (block, filter, drop by type and source), chaos (version.bind), nsid, whoami, and log lines
// in CoreDNS's format on stdout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLASS, TYPE } from '../../src/dns/constants.ts';
import { buildQuery, decode } from '../support/dns.ts';
import { queryTcp, queryUdp } from '../support/client.ts';
import { startServer } from '../support/process.ts';
import { a, FakeUpstream } from '../support/upstream.ts';
import { SHOP_WEB } from '../support/cluster.ts';

const COREFILE = `.:0 {
    bind 127.0.0.1
    log
    chaos CDNS-e2e Ada Grace
    nsid e2e-node
    acl {
        block net 127.0.0.2
        filter type MX
        drop type HINFO
        allow
    }
    kubernetes cluster.local
    forward . {$UPSTREAM}
}
whoami.test:0 {
    bind 127.0.0.1
    whoami
}
`;

/** A query whose OPT carries one empty NSID option (what `dig +nsid` sends). */
function askingNsid(name: string): Buffer {
  return Buffer.concat([buildQuery(name, TYPE.A, { udpSize: 1232 }).subarray(0, -2), Buffer.from([0, 4, 0, 3, 0, 0])]);
}

test('acl, chaos, nsid, whoami and the CoreDNS log format, over the wire', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cdns-guards-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'cluster.yaml'), SHOP_WEB);
  writeFileSync(join(dir, 'Corefile'), COREFILE);
  const up = await FakeUpstream.start();
  t.after(() => up.close());
  up.set('www.example.com', { kind: 'answer', records: [a('www.example.com', '192.0.2.1')] });
  const server = await startServer(
    ['--conf', join(dir, 'Corefile'), '--manifests', join(dir, 'cluster.yaml')],
    { UPSTREAM: up.address },
    15_000,
    { corefileListens: true },
  );
  t.after(() => server.stop());
  const ask = async (message: Buffer, from?: string) => {
    const reply = await queryUdp(server.dns, message, 1_500, from);
    return reply === null ? null : decode(reply);
  };

  // acl, in order.
  const web = await ask(buildQuery('web.shop.svc.cluster.local', TYPE.A, { id: 4160 }));
  assert.deepEqual(web?.answer, ['web.shop.svc.cluster.local. 5 IN A 10.96.0.20'], 'allowed');
  assert.equal((await ask(buildQuery('web.shop.svc.cluster.local', TYPE.A), '127.0.0.2'))?.rcode, 'REFUSED', 'block net');
  const mx = await ask(buildQuery('www.example.com', TYPE.MX));
  assert.equal(mx?.rcode, 'NOERROR', 'filter: NOERROR');
  assert.deepEqual(mx?.answer, [], 'filter: nothing in it');
  assert.equal(up.received.filter((r) => r.type === TYPE.MX).length, 0, 'a filtered query never goes upstream');
  assert.equal(await ask(buildQuery('www.example.com', TYPE.HINFO)), null, 'drop: no reply at all');

  // chaos: CH TXT, and other CH names refused, never forwarded.
  const version = await ask(buildQuery('version.bind', TYPE.TXT, { qclass: CLASS.CH }));
  assert.deepEqual(version?.answer, ['version.bind. 0 IN TXT "CDNS-e2e"']);
  const authors = await ask(buildQuery('authors.bind', TYPE.TXT, { qclass: CLASS.CH }));
  assert.deepEqual(authors?.answer, ['authors.bind. 0 IN TXT "Ada"', 'authors.bind. 0 IN TXT "Grace"']);
  assert.equal((await ask(buildQuery('www.example.com', TYPE.TXT, { qclass: CLASS.CH })))?.rcode, 'REFUSED');
  assert.equal((await ask(buildQuery('version.bind', TYPE.TXT, { qclass: CLASS.CH }), '127.0.0.2'))?.rcode, 'REFUSED', 'acl first');

  // nsid: only when asked.
  const named = (await queryUdp(server.dns, askingNsid('www.example.com'))) as Buffer;
  assert.ok(named);
  assert.deepEqual([...named.subarray(named.length - 14)], [0, 12, 0, 3, 0, 8, ...Buffer.from('e2e-node')]);
  const plain = (await queryUdp(server.dns, buildQuery('www.example.com', TYPE.A, { udpSize: 1232 }))) as Buffer;
  assert.equal(plain.readUInt16BE(plain.length - 2), 0, 'not asked: no NSID');

  // whoami: where the query came from, UDP and TCP.
  const me = await ask(buildQuery('whoami.test', TYPE.A));
  assert.equal(me?.aa, true);
  assert.equal(me?.additional[0], 'whoami.test. 0 IN A 127.0.0.1');
  assert.match(me?.additional[1] ?? '', /^_udp\.whoami\.test\. 0 IN SRV 0 0 \d+ \.$/);
  const overTcp = decode(await queryTcp(server.dns, buildQuery('whoami.test', TYPE.A)));
  assert.match(overTcp.additional[1] ?? '', /^_tcp\.whoami\.test\. 0 IN SRV 0 0 [1-9]\d* \.$/);

  // log: CoreDNS's common format, one line per query, on stdout.
  const line =
    /^\[INFO\] 127\.0\.0\.1:(\d+) - 4160 "A IN web\.shop\.svc\.cluster\.local\. udp (\d+) false 512" NOERROR qr,aa,rd (\d+) (\d+\.\d+)s$/m.exec(
      server.stdout(),
    );
  assert.ok(line, `a CoreDNS log line for the first query in:\n${server.stdout().slice(0, 2000)}`);
  assert.ok(Number(line[1]) > 0, 'the client port');
  assert.match(
    server.stdout(),
    /^\[INFO\] 127\.0\.0\.2:\d+ - \d+ "A IN web\.shop\.svc\.cluster\.local\. udp \d+ false 512" REFUSED qr,rd \d+ /m,
  );
});
