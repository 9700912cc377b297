// The real server forwarding to a scripted loopback upstream: names outside the zone over UDP
// and TCP, autopath, where a client with a pod's search list (ndots:5) gets an external name in
// one query, a cache that an NXDOMAIN flood does not flush, and poisoned replies scrubbed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLED_EXAMPLE } from '../../src/config.ts';
import { RCODE, TYPE } from '../../src/dns/constants.ts';
import { queryTcp, queryUdp } from '../support/client.ts';
import { buildQuery, decode } from '../support/dns.ts';
import { startServer, type ServerProcess } from '../support/process.ts';
import { a, FakeUpstream, handMadeReply, rr } from '../support/upstream.ts';

/** The bundled example plus a pod in `shop` whose IP is 127.0.0.1: the test client is that pod. */
function manifestsWithClientPod(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cdns-forward-'));
  writeFileSync(join(dir, 'cluster.yaml'), readFileSync(BUNDLED_EXAMPLE));
  writeFileSync(
    join(dir, 'client.yaml'),
    'apiVersion: v1\nkind: Pod\nmetadata: {name: client, namespace: shop}\nstatus: {phase: Running, podIP: 127.0.0.1, podIPs: [{ip: 127.0.0.1}], conditions: [{type: Ready, status: "True"}]}\n',
  );
  return dir;
}

/** A stub resolver as glibc/musl run it: ndots, then the search list, stopping at the first answer that is not NXDOMAIN. */
async function resolveLikeAPod(server: ServerProcess, name: string, type: number, search: string[], ndots: number, from?: string) {
  const dots = name.split('.').length - 1;
  const candidates = dots >= ndots ? [name, ...search.map((s) => `${name}.${s}`)] : [...search.map((s) => `${name}.${s}`), name];
  let asked = 0;
  for (const candidate of candidates) {
    asked++;
    const raw = await queryUdp(server.dns, buildQuery(candidate, type), 2_000, from);
    assert.ok(raw);
    const reply = decode(raw);
    if (reply.rcode !== 'NXDOMAIN') return { reply, asked };
  }
  return { reply: null, asked };
}

test('names outside the zone are forwarded over UDP and TCP; cluster names never are', async (t) => {
  const up = await FakeUpstream.start();
  t.after(() => up.close());
  up.set('www.example.com', { kind: 'answer', records: [a('www.example.com', '192.0.2.44', 120)] });
  const server = await startServer(['--manifests', BUNDLED_EXAMPLE, '--upstream', up.address]);
  t.after(() => server.stop());

  const udp = decode((await queryUdp(server.dns, buildQuery('www.example.com', TYPE.A)))!);
  assert.equal(udp.rcode, 'NOERROR');
  assert.equal(udp.ra, true);
  assert.deepEqual(udp.answer, ['www.example.com. 120 IN A 192.0.2.44']);
  const tcp = decode(await queryTcp(server.dns, buildQuery('nothere.example.com', TYPE.A)));
  assert.equal(tcp.rcode, 'NXDOMAIN');
  assert.equal(tcp.authority.length, 1, 'the upstream SOA comes along');
  const cluster = decode((await queryUdp(server.dns, buildQuery('nope.shop.svc.cluster.local', TYPE.A)))!);
  assert.equal(cluster.rcode, 'NXDOMAIN');
  assert.equal(cluster.aa, true);
  assert.equal(up.received.filter((r) => r.name.endsWith('cluster.local')).length, 0);
  // Asked again: a cache hit, counted as CoreDNS counts it, under plugin "cache".
  const before = up.received.length;
  assert.equal(decode((await queryUdp(server.dns, buildQuery('www.example.com', TYPE.A)))!).answer.length, 1);
  assert.equal(up.received.length, before, 'served from the cache');
  const metrics = await (await fetch(`http://${server.metrics!.host}:${server.metrics!.port}/metrics`)).text();
  assert.match(metrics, new RegExp(`coredns_forward_requests_total\\{to="127\\.0\\.0\\.1:${up.port}"\\} [1-9]`));
  assert.match(metrics, /^coredns_cache_misses_total\{server="dns:\/\/127\.0\.0\.1:\d+",zones="\.",view=""\} [1-9]/m);
  assert.match(
    metrics,
    /^coredns_dns_responses_total\{server="dns:\/\/127\.0\.0\.1:\d+",zone="\.",view="",rcode="NOERROR",plugin="cache"\} 1$/m,
  );
  assert.match(
    metrics,
    /^coredns_dns_responses_total\{server="dns:\/\/127\.0\.0\.1:\d+",zone="\.",view="",rcode="NOERROR",plugin="forward"\} 1$/m,
  );
});

test('--autopath: a pod resolving an external name with its search list gets it in one query', async (t) => {
  const up = await FakeUpstream.start();
  t.after(() => up.close());
  up.set('api.example.com', { kind: 'answer', records: [a('api.example.com', '192.0.2.55', 60)] });
  const server = await startServer(['--manifests', manifestsWithClientPod(), '--upstream', up.address, '--autopath']);
  t.after(() => server.stop());
  const search = ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'];

  const { reply, asked } = await resolveLikeAPod(server, 'api.example.com', TYPE.A, search, 5);
  assert.equal(asked, 1, 'one round trip');
  assert.ok(reply);
  assert.deepEqual(reply.answer, [
    'api.example.com.shop.svc.cluster.local. 5 IN CNAME api.example.com.',
    'api.example.com. 60 IN A 192.0.2.55',
  ]);
  assert.deepEqual(
    up.received.map((r) => r.name).filter((n) => n.startsWith('api')),
    ['api.example.com'],
  );

  // A service of another namespace through the second search domain, also in one query.
  const cross = await resolveLikeAPod(server, 'cache.data', TYPE.A, search, 5);
  assert.equal(cross.asked, 1);
  assert.deepEqual(cross.reply?.answer, [
    'cache.data.shop.svc.cluster.local. 5 IN CNAME cache.data.svc.cluster.local.',
    'cache.data.svc.cluster.local. 5 IN A 10.96.20.30',
  ]);

  // A client that is not a pod of `shop` walks its search list as without autopath.
  const stranger = await resolveLikeAPod(server, 'api.example.com', TYPE.A, search, 5, '127.0.0.2');
  assert.equal(stranger.asked, 4);
  assert.deepEqual(stranger.reply?.answer, ['api.example.com. 60 IN A 192.0.2.55']);
});

async function metricsText(server: ServerProcess): Promise<string> {
  return (await fetch(`http://${server.metrics!.host}:${server.metrics!.port}/metrics`)).text();
}

function metric(text: string, pattern: RegExp): number {
  return Number(pattern.exec(text)?.[1] ?? Number.NaN);
}

test('an NXDOMAIN flood ten times the cache leaves the popular names cached', async (t) => {
  const up = await FakeUpstream.start();
  t.after(() => up.close());
  const popular = Array.from({ length: 20 }, (_, i) => `pop${i}.example.com`);
  const quiet = Array.from({ length: 20 }, (_, i) => `quiet${i}.example.com`);
  for (const name of popular) up.set(name, { kind: 'answer', records: [a(name, '192.0.2.80', 3600)] });
  for (const name of quiet) up.set(name, { kind: 'nodata', soaTtl: 3600, minimum: 3600 });
  up.fallback = { kind: 'nxdomain', soaTtl: 3600, minimum: 3600 };
  const server = await startServer([
    '--manifests',
    BUNDLED_EXAMPLE,
    '--upstream',
    up.address,
    '--cache-size',
    '300',
    '--cache-denial-ttl',
    '3600',
  ]);
  t.after(() => server.stop());
  const ask = async (name: string) => {
    const raw = await queryUdp(server.dns, buildQuery(name, TYPE.A), 3_000);
    assert.ok(raw, `an answer for ${name}`);
    return decode(raw);
  };
  const everyone = [...popular, ...quiet];
  for (let round = 0; round < 3; round++) for (const name of everyone) await ask(name);
  // What the upstream was asked so far (on a loaded machine a slow first answer may have been
  // asked again by a retransmit); from here on every one of these names comes from the cache.
  const warmed = new Map(everyone.map((name) => [name, up.asked(name).length]));
  // 3,000 names asked once each, 4 at a time; the popular names keep being asked meanwhile, one
  // after every tenth flood name (each comes round every 400 flood names, more than a cache holds).
  let next = 0;
  let nxdomain = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < 3_000) {
        const n = next++;
        // NXDOMAIN, or on a loaded machine now and then a SERVFAIL (the double missed a timeout).
        if ((await ask(`f${n}.flood.example.com`)).rcode === 'NXDOMAIN') nxdomain++;
        if (n % 10 === 9) await ask(everyone[((n - 9) / 10) % everyone.length]!);
      }
    }),
  );
  assert.ok(nxdomain > 2_700, `${nxdomain} NXDOMAIN of 3,000`);
  for (const name of popular)
    assert.match((await ask(name)).answer.join(' | '), new RegExp(`^${name.replaceAll('.', '\\.')}\\. \\d+ IN A 192\\.0\\.2\\.80$`));
  for (const name of quiet) assert.deepEqual([(await ask(name)).rcode, (await ask(name)).answer], ['NOERROR', []]);
  for (const name of everyone) assert.equal(up.asked(name).length, warmed.get(name), `${name} came from the cache`);
  const text = await metricsText(server);
  assert.equal(metric(text, /^coredns_cache_entries\{[^}]*type="success"[^}]*\} (\d+)$/m), 20);
  assert.ok(
    metric(text, /^coredns_cache_evictions_total\{[^}]*type="denial"[^}]*\} (\d+)$/m) > 2_000,
    'the flood went through the denial cache',
  );
  assert.equal(metric(text, /^coredns_cache_evictions_total\{[^}]*type="success"[^}]*\} (\d+)$/m), 0);
});

test('a poisoned upstream reply is scrubbed before it reaches the client; a dead name is asked once', async (t) => {
  const up = await FakeUpstream.start();
  t.after(() => up.close());
  up.set('www.example.com', {
    kind: 'raw',
    build: (request) =>
      handMadeReply(request, RCODE.NOERROR, {
        answer: [rr.a('www.example.com', '192.0.2.10', 120), rr.a('bank.example.org', '198.51.100.66', 86400)],
        authority: [rr.name(TYPE.NS, 'example.org', 'ns.evil.example')],
        additional: [rr.a('ns.evil.example', '198.51.100.53', 0x80000001)],
      }),
  });
  up.set('dead.example.com', { kind: 'servfail' });
  const server = await startServer(['--manifests', BUNDLED_EXAMPLE, '--upstream', up.address]);
  t.after(() => server.stop());
  const r = decode((await queryUdp(server.dns, buildQuery('www.example.com', TYPE.A)))!);
  assert.equal(r.rcode, 'NOERROR');
  assert.deepEqual(r.answer, ['www.example.com. 120 IN A 192.0.2.10']);
  assert.deepEqual([r.authority, r.additional], [[], []]);
  for (let i = 0; i < 10; i++)
    assert.equal(decode((await queryUdp(server.dns, buildQuery('dead.example.com', TYPE.A)))!).rcode, 'SERVFAIL');
  assert.equal(up.asked('dead.example.com').length, 1);
  const text = await metricsText(server);
  assert.equal(metric(text, /^cluster_dns_upstream_scrubbed_records_total (\d+)$/m), 3);
  assert.equal(metric(text, /^cluster_dns_cache_servfail_hits_total (\d+)$/m), 9);
  assert.match(text, /^coredns_dns_responses_total\{[^}]*rcode="SERVFAIL",plugin="cache"\} 9$/m);
});
