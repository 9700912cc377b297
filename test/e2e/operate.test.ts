// Operating the real server as a CoreDNS replacement: the Prometheus endpoint under CoreDNS's
// names (checked against the queries of the dashboard operators already run), lameduck on
// SIGTERM, and the query log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { TYPE } from '../../src/dns/constants.ts';
import { BUNDLED_EXAMPLE, type HostPort } from '../../src/config.ts';
import { buildQuery, decode } from '../support/dns.ts';
import { queryTcp, queryUdp } from '../support/client.ts';
import { startServer, type ServerProcess } from '../support/process.ts';
import { parseScrape, whyEmpty, type Scrape } from '../support/promql.ts';

interface DashboardFixture {
  targetLabels: string[];
  variables: string[];
  panels: { title: string; exprs: string[] }[];
}
const DASHBOARD = JSON.parse(
  readFileSync(new URL('../fixtures/coredns-dashboard-12539.json', import.meta.url), 'utf8'),
) as DashboardFixture;

async function withServer(t: { after: (fn: () => Promise<unknown>) => void }, args: string[]): Promise<ServerProcess> {
  const server = await startServer(args);
  t.after(() => server.stop());
  return server;
}

async function get(address: HostPort | null, path: string): Promise<{ status: number; body: string; type: string }> {
  assert.ok(address, `an address for ${path}`);
  const res = await fetch(`http://${address.host}:${address.port}${path}`, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') ?? '' };
}

/** A little of everything: UDP and TCP, in and out of the zone, NXDOMAIN, DO bit, a FORMERR. */
async function someTraffic(server: ServerProcess): Promise<void> {
  assert.ok(await queryUdp(server.dns, buildQuery('web.shop.svc.cluster.local', TYPE.A)));
  assert.ok(await queryUdp(server.dns, buildQuery('nope.shop.svc.cluster.local', TYPE.AAAA)));
  const withDo = buildQuery('web.shop.svc.cluster.local', TYPE.SRV, { udpSize: 1232 });
  withDo[withDo.length - 4] = 0x80; // the OPT's DO bit
  assert.ok(await queryUdp(server.dns, withDo));
  assert.ok(await queryTcp(server.dns, buildQuery('web.shop.svc.cluster.local', TYPE.A)));
  assert.ok(await queryTcp(server.dns, buildQuery('example.com', TYPE.A)));
  const formerr = buildQuery('web.shop.svc.cluster.local', TYPE.A);
  formerr.writeUInt16BE(2, 4); // two questions announced, one present
  assert.ok(await queryUdp(server.dns, formerr));
}

async function scrape(server: ServerProcess): Promise<{ text: string; series: Scrape }> {
  const res = await get(server.metrics, '/metrics');
  assert.equal(res.status, 200);
  assert.match(res.type, /^text\/plain; version=0\.0\.4/);
  return { text: res.body, series: parseScrape(res.body) };
}

test('/metrics: every query of the kube-prometheus-stack CoreDNS dashboard (12539) finds its metrics and labels', async (t) => {
  const server = await withServer(t, ['--manifests', BUNDLED_EXAMPLE]);
  await someTraffic(server);
  const { series } = await scrape(server);
  const options = {
    targetLabels: DASHBOARD.targetLabels,
    // CoreDNS's misses counter has no `type` either; `by (type)` then sums it into one series.
    mayLack: { coredns_cache_misses_total: ['type'] },
  };
  let checked = 0;
  for (const panel of DASHBOARD.panels) {
    for (const expr of panel.exprs) {
      assert.equal(whyEmpty(expr, series, options), null, `${panel.title}: ${expr}`);
      checked++;
    }
  }
  for (const variable of DASHBOARD.variables) {
    const metric = /label_values\(([\w:]+)/.exec(variable)?.[1] ?? '';
    assert.ok(series.has(metric), `variable ${variable}`);
  }
  assert.ok(checked >= 20, `checked ${checked} queries`);
});

test('/metrics: CoreDNS families with CoreDNS labels, plus ours', async (t) => {
  const server = await withServer(t, ['--manifests', BUNDLED_EXAMPLE]);
  await someTraffic(server);
  const { text, series } = await scrape(server);
  const dnsServer = `dns://127.0.0.1:${server.dns.port}`;
  const find = (name: string, labels: Record<string, string>) =>
    (series.get(name) ?? []).some((s) => Object.entries(labels).every(([k, v]) => s[k] === v));

  assert.ok(
    find('coredns_dns_requests_total', { server: dnsServer, zone: 'cluster.local.', view: '', proto: 'udp', family: '1', type: 'A' }),
  );
  assert.ok(find('coredns_dns_requests_total', { zone: '.', proto: 'tcp', type: 'A' }), 'out-of-zone names count under "."');
  assert.ok(find('coredns_dns_requests_total', { zone: 'dropped' }), 'a FORMERR never entered the chain');
  assert.ok(find('coredns_dns_requests_total', { type: 'SRV' }));
  assert.ok(find('coredns_dns_responses_total', { server: dnsServer, zone: 'cluster.local.', rcode: 'NOERROR', plugin: 'kubernetes' }));
  assert.ok(find('coredns_dns_responses_total', { rcode: 'NXDOMAIN', plugin: 'kubernetes' }));
  assert.ok(find('coredns_dns_responses_total', { zone: '.', rcode: 'REFUSED', plugin: '' }), 'the server itself refused');
  assert.ok(find('coredns_dns_responses_total', { zone: 'dropped', rcode: 'FORMERR', plugin: '' }));
  assert.ok(find('coredns_dns_do_requests_total', { zone: 'cluster.local.' }));
  assert.ok(find('coredns_dns_request_duration_seconds_bucket', { server: dnsServer, zone: 'cluster.local.', view: '', le: '0.00025' }));
  assert.ok(find('coredns_dns_request_duration_seconds_bucket', { le: '8.192' }), 'CoreDNS buckets: 0.25 ms ×2, 16 of them');
  assert.equal((series.get('coredns_dns_request_duration_seconds_bucket') ?? []).filter((s) => s.zone === 'cluster.local.').length, 17);
  assert.ok(find('coredns_dns_request_size_bytes_bucket', { proto: 'udp', le: '511' }));
  assert.ok(find('coredns_dns_response_size_bytes_bucket', { proto: 'tcp', le: '64000' }));
  assert.ok(find('coredns_build_info', { version: JSON.parse(readFileSync('package.json', 'utf8')).version, goversion: process.version }));
  for (const name of [
    'coredns_panics_total',
    'coredns_cache_entries',
    'coredns_cache_hits_total',
    'coredns_cache_misses_total',
    'coredns_cache_requests_total',
    'coredns_cache_prefetch_total',
    'coredns_cache_served_stale_total',
    'coredns_cache_evictions_total',
    'coredns_forward_max_concurrent_rejects_total',
    'coredns_health_request_duration_seconds_count',
    'process_resident_memory_bytes',
    'process_cpu_seconds_total',
    'nodejs_eventloop_lag_seconds',
    'cluster_dns_index_objects',
    'cluster_dns_dropped_packets_total',
    'cluster_dns_spoofed_replies_total',
    'cluster_dns_watch_to_answer_seconds_count',
    'cluster_dns_ready',
  ]) {
    assert.ok(series.has(name), `${name} is exported`);
  }
  assert.ok(find('cluster_dns_index_objects', { kind: 'Service' }));
  // Histograms and counters are typed as CoreDNS types them.
  assert.match(text, /# TYPE coredns_dns_request_duration_seconds histogram/);
  assert.match(text, /# TYPE coredns_proxy_request_duration_seconds histogram/);
  assert.match(text, /# TYPE coredns_dns_requests_total counter/);
  assert.match(text, /# TYPE coredns_cache_entries gauge/);
  for (const family of ['coredns_forward_requests_total', 'coredns_forward_responses_total', 'coredns_proxy_healthcheck_failures_total']) {
    assert.match(text, new RegExp(`# TYPE ${family} counter`), `${family} is declared (series appear once there are upstreams)`);
  }
  assert.match(text, /# TYPE coredns_kubernetes_dns_programming_duration_seconds histogram/);
});

test('/metrics: scrapes within a second share one render; a second later the counters have moved', async (t) => {
  const server = await withServer(t, ['--manifests', BUNDLED_EXAMPLE]);
  await someTraffic(server);
  const requests = (text: string) =>
    [...text.matchAll(/^coredns_dns_requests_total\{[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  const started = performance.now();
  const [a, b] = await Promise.all([scrape(server), scrape(server)]);
  const c = await scrape(server);
  if (performance.now() - started < 900) {
    // process_cpu_seconds_total, the event-loop lag and the heap differ between two renders.
    assert.equal(a.text, b.text, 'one render for both');
    assert.equal(a.text, c.text, 'and for the next scrape in that second');
  }
  assert.ok(await queryUdp(server.dns, buildQuery('web.shop.svc.cluster.local', TYPE.A)));
  await new Promise((r) => setTimeout(r, 1_100));
  assert.equal(requests((await scrape(server)).text), requests(c.text) + 1);
});

test('/debug/resolve: off by default; --debug-endpoints serves it on loopback, with the objects behind an answer', async (t) => {
  const plain = await withServer(t, ['--manifests', BUNDLED_EXAMPLE]);
  assert.equal(plain.debug, null);
  assert.equal((await get(plain.metrics, '/debug/resolve?name=web.shop.svc.cluster.local')).status, 404, 'not on the metrics port');

  const server = await withServer(t, ['--manifests', BUNDLED_EXAMPLE, '--pods', 'disabled', '--debug-endpoints', '127.0.0.1:0']);
  assert.equal(server.debug?.host, '127.0.0.1');
  assert.equal((await get(server.metrics, '/debug/resolve?name=web.shop.svc.cluster.local')).status, 404);
  // DNS says NXDOMAIN for a pod name under --pods disabled; the operator's view says which pod has the IP.
  const res = await get(server.debug, '/debug/resolve?name=10-244-1-10.shop.pod.cluster.local');
  assert.equal(res.status, 200);
  const body = JSON.parse(res.body) as { rcode: string; objects: { kind: string; namespace?: string }[] };
  assert.equal(body.rcode, 'NXDOMAIN');
  assert.ok(body.objects.some((o) => o.kind === 'Pod' && o.namespace === 'shop'));
  assert.equal((await get(server.debug, '/metrics')).status, 404, 'and nothing else there');
});

test('SIGTERM: lameduck (ready 503, DNS still answers), then the sockets close and the process exits 0', async (t) => {
  const server = await withServer(t, ['--manifests', BUNDLED_EXAMPLE, '--lameduck', '1500ms']);
  assert.equal((await get(server.ready, '/ready')).status, 200);
  const exited = once(server.child, 'exit') as Promise<[number | null]>;
  const sent = performance.now();
  server.child.kill('SIGTERM');
  let ready = await get(server.ready, '/ready');
  for (let i = 0; i < 50 && ready.status === 200; i++) {
    await new Promise((r) => setTimeout(r, 20));
    ready = await get(server.ready, '/ready');
  }
  assert.equal(ready.status, 503);
  assert.match(ready.body, /lameduck/);
  assert.equal((await get(server.health, '/health')).body, 'OK', 'health stays OK: the process is fine, only leaving');
  const reply = await queryUdp(server.dns, buildQuery('web.shop.svc.cluster.local', TYPE.A));
  assert.ok(reply, 'DNS keeps answering during lameduck');
  assert.equal(decode(reply).rcode, 'NOERROR');
  const { series } = await scrape(server);
  assert.ok((series.get('cluster_dns_lameduck') ?? []).length === 1);
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 10_000);
  const [code] = await exited;
  clearTimeout(timer);
  assert.equal(code, 0);
  assert.ok(performance.now() - sent >= 1400, 'it waited for the lameduck period');
  assert.match(server.stdout(), /"msg":"lameduck"/);
});

test('--log-queries: one JSON line per answered query (FORMERR and NOTIMP too) with a stable msg, CoreDNS log fields and the duration; off by default', async (t) => {
  const quiet = await withServer(t, ['--manifests', BUNDLED_EXAMPLE]);
  await queryUdp(quiet.dns, buildQuery('web.shop.svc.cluster.local', TYPE.A));
  const logging = await withServer(t, ['--manifests', BUNDLED_EXAMPLE, '--log-queries']);
  await queryUdp(logging.dns, buildQuery('Web.Shop.svc.cluster.local', TYPE.A, { id: 4242 }));
  await queryUdp(logging.dns, buildQuery('nope.shop.svc.cluster.local', TYPE.AAAA));
  // FORMERR and NOTIMP are answered (and counted in /metrics), so they are logged too.
  const lying = buildQuery('web.shop.svc.cluster.local', TYPE.A, { id: 4343 });
  lying.writeUInt16BE(1, 6); // an answer count with no answer record
  await queryUdp(logging.dns, lying);
  await queryUdp(logging.dns, buildQuery('web.shop.svc.cluster.local', TYPE.A, { id: 4444, flags: 2 << 11 }));
  await queryUdp(logging.dns, Buffer.from([0x11, 0x5c, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63, 1]));
  // Lines are written synchronously before the reply is sent, so they are there (allow the pipe a moment).
  let lines: Record<string, unknown>[] = [];
  for (let i = 0; i < 50; i++) {
    lines = logging
      .stdout()
      .split('\n')
      .filter((l) => l.includes('"msg":"query"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    if (lines.length >= 5) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(lines.length, 5);
  assert.deepEqual(
    lines.slice(2).map((l) => [l.id, l.rcode, l.name, l.type, l.plugin]),
    [
      [4343, 'FORMERR', 'web.shop.svc.cluster.local.', 'A', ''],
      [4444, 'NOTIMP', 'web.shop.svc.cluster.local.', 'A', ''],
      [0x115c, 'FORMERR', null, null, ''],
    ],
    'what was read of them: the question only when it was read whole',
  );
  assert.equal(lines[0]?.name, 'web.shop.svc.cluster.local.');
  assert.equal(lines[0]?.type, 'A');
  assert.equal(lines[0]?.rcode, 'NOERROR');
  assert.equal(lines[0]?.id, 4242);
  assert.equal(lines[0]?.proto, 'udp');
  assert.equal(lines[0]?.plugin, 'kubernetes');
  assert.equal(lines[0]?.remote, '127.0.0.1');
  for (const line of lines) {
    // Milliseconds from arrival to reply: a number, and far below the client's 1 s wait.
    assert.equal(typeof line.ms, 'number', JSON.stringify(line));
    assert.ok((line.ms as number) >= 0 && (line.ms as number) < 1000, JSON.stringify(line));
  }
  assert.equal(lines[1]?.rcode, 'NXDOMAIN');
  assert.doesNotMatch(quiet.stdout(), /"msg":"query"/);
  const starting = quiet
    .stdout()
    .split('\n')
    .find((l) => l.includes('"msg":"starting"'));
  assert.ok(starting, 'a start-up line');
  assert.equal((JSON.parse(starting) as { source: string }).source, `--manifests ${BUNDLED_EXAMPLE}`, 'it names the source');
});
