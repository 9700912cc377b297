// The real server with --kubeconfig (and $KUBECONFIG) against the kube-apiserver double:
// SERVFAIL and /ready 503 until the first sync, answers that follow the cluster as it changes,
// and the last index serving through an API outage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TYPE } from '../../src/dns/constants.ts';
import { buildQuery, decode } from '../support/dns.ts';
import { queryUdp } from '../support/client.ts';
import { startServer, type ServerProcess } from '../support/process.ts';
import { endpointSlice, FakeApiServer, namespace, pod, service } from '../support/apiserver.ts';
import { a as aRecord, FakeUpstream } from '../support/upstream.ts';

async function ask(server: ServerProcess, name: string, type: number) {
  const reply = await queryUdp(server.dns, buildQuery(name, type));
  assert.ok(reply, `a reply for ${name}`);
  return decode(reply);
}

async function httpStatus(target: { host: string; port: number } | null, path: string): Promise<number> {
  assert.ok(target);
  const response = await fetch(`http://${target.host}:${target.port}${path}`);
  await response.arrayBuffer();
  return response.status;
}

async function eventually<T>(what: string, probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function seed(api: FakeApiServer): void {
  api.apply(namespace('default'));
  api.apply(namespace('shop'));
  api.apply(service('shop', 'web', { clusterIP: '10.96.10.20', ports: [{ name: 'http', port: 80 }] }));
  api.apply(service('shop', 'db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] }));
  api.apply(endpointSlice('shop', 'db-1', 'db', [{ addresses: ['10.244.1.10'], hostname: 'db-0' }], [{ name: 'pg', port: 5432 }]));
  api.apply(pod('shop', 'db-0', '10.244.1.10', { hostname: 'db-0', subdomain: 'db' }));
}

test('--kubeconfig: SERVFAIL and not ready before the first sync, then answers that follow the cluster, through an outage', async (t) => {
  const api = await FakeApiServer.start();
  t.after(() => api.close());
  seed(api);
  const kubeconfig = api.writeKubeconfig();
  await api.pause(); // the API server is down when the DNS server starts

  const upstream = await FakeUpstream.start();
  t.after(() => upstream.close());
  upstream.set('www.example.com', { kind: 'answer', records: [aRecord('www.example.com', '192.0.2.7', 60)] });
  const server = await startServer(['--kubeconfig', kubeconfig, '--upstream', upstream.address]);
  t.after(() => server.stop());
  const early = await ask(server, 'web.shop.svc.cluster.local', TYPE.A);
  assert.equal(early.rcode, 'SERVFAIL', 'no index yet: SERVFAIL, never a false NXDOMAIN');
  assert.equal(await httpStatus(server.ready, '/ready'), 503);
  const external = await ask(server, 'www.example.com', TYPE.A);
  assert.deepEqual(external.answer, ['www.example.com. 60 IN A 192.0.2.7'], 'names outside the cluster are still forwarded');

  await api.resume();
  await eventually(
    'ready',
    () => httpStatus(server.ready, '/ready'),
    (s) => s === 200,
  );
  const a = await ask(server, 'web.shop.svc.cluster.local', TYPE.A);
  assert.equal(a.rcode, 'NOERROR');
  assert.deepEqual(a.answer, ['web.shop.svc.cluster.local. 5 IN A 10.96.10.20']);
  const named = await ask(server, 'db-0.db.shop.svc.cluster.local', TYPE.A);
  assert.deepEqual(named.answer, ['db-0.db.shop.svc.cluster.local. 5 IN A 10.244.1.10']);

  // The cluster changes; the answers follow.
  api.apply(service('shop', 'cart', { clusterIP: '10.96.10.30' }));
  await eventually(
    'cart answers',
    () => ask(server, 'cart.shop.svc.cluster.local', TYPE.A),
    (r) => r.answer[0] === 'cart.shop.svc.cluster.local. 5 IN A 10.96.10.30',
  );
  api.apply(service('shop', 'web', { clusterIP: '10.96.10.21', ports: [{ name: 'http', port: 80 }] }));
  await eventually(
    'web moved',
    () => ask(server, 'web.shop.svc.cluster.local', TYPE.A),
    (r) => r.answer[0] === 'web.shop.svc.cluster.local. 5 IN A 10.96.10.21',
  );
  api.apply(
    endpointSlice(
      'shop',
      'db-1',
      'db',
      [
        { addresses: ['10.244.1.10'], hostname: 'db-0' },
        { addresses: ['10.244.1.11'], hostname: 'db-1' },
      ],
      [{ name: 'pg', port: 5432 }],
    ),
  );
  await eventually(
    'db has two endpoints',
    () => ask(server, 'db.shop.svc.cluster.local', TYPE.A),
    (r) => r.answer.length === 2,
  );
  api.delete('Service', 'shop', 'cart');
  await eventually(
    'cart gone',
    () => ask(server, 'cart.shop.svc.cluster.local', TYPE.A),
    (r) => r.rcode === 'NXDOMAIN',
  );

  // The API server goes away: the last index keeps answering and the server stays ready.
  await api.pause();
  await new Promise((r) => setTimeout(r, 200));
  const during = await ask(server, 'web.shop.svc.cluster.local', TYPE.A);
  assert.deepEqual(during.answer, ['web.shop.svc.cluster.local. 5 IN A 10.96.10.21']);
  assert.equal(await httpStatus(server.ready, '/ready'), 200);
  // It comes back with changes made meanwhile, and its history compacted.
  api.delete('Service', 'shop', 'web');
  api.apply(service('shop', 'api', { clusterIP: '10.96.10.40' }));
  api.compact();
  await api.resume();
  await eventually(
    'web gone after the outage',
    () => ask(server, 'web.shop.svc.cluster.local', TYPE.A),
    (r) => r.rcode === 'NXDOMAIN',
    8_000,
  );
  const added = await ask(server, 'api.shop.svc.cluster.local', TYPE.A);
  assert.deepEqual(added.answer, ['api.shop.svc.cluster.local. 5 IN A 10.96.10.40']);

  // The watch figures are on /metrics.
  const metrics = await (await fetch(`http://${server.metrics!.host}:${server.metrics!.port}/metrics`)).text();
  assert.match(metrics, /cluster_dns_watch_events_total\{kind="Service",type="ADDED"\} [1-9]/);
  assert.match(metrics, /cluster_dns_relists_total\{kind="Service"\} [1-9]/);
  // Only reads, never writes.
  assert.ok(api.requests.every((r) => r.method === 'GET'));
});

test('$KUBECONFIG is used when no source flag is given', async (t) => {
  const api = await FakeApiServer.start();
  t.after(() => api.close());
  seed(api);
  const server = await startServer([], { KUBECONFIG: api.writeKubeconfig() });
  t.after(() => server.stop());
  await eventually(
    'ready',
    () => httpStatus(server.ready, '/ready'),
    (s) => s === 200,
  );
  const srv = await ask(server, '_pg._tcp.db.shop.svc.cluster.local', TYPE.SRV);
  assert.deepEqual(srv.answer, ['_pg._tcp.db.shop.svc.cluster.local. 5 IN SRV 0 100 5432 db-0.db.shop.svc.cluster.local.']);
});

test('--snapshot: a restart while the API server is down serves the last index, until a live sync replaces it', async (t) => {
  const api = await FakeApiServer.start();
  t.after(() => api.close());
  seed(api);
  const kubeconfig = api.writeKubeconfig();
  const snapshot = join(mkdtempSync(join(tmpdir(), 'cdns-snap-')), 'index.json');

  const first = await startServer(['--kubeconfig', kubeconfig, '--snapshot', snapshot]);
  await eventually(
    'ready',
    () => httpStatus(first.ready, '/ready'),
    (s) => s === 200,
  );
  assert.equal(await first.stop(), 0);
  assert.ok(existsSync(snapshot), 'written at shutdown');

  // Control plane down and the DNS pod restarted at the same time.
  await api.pause();
  const second = await startServer(['--kubeconfig', kubeconfig, '--snapshot', snapshot]);
  t.after(() => second.stop());
  const a = await ask(second, 'web.shop.svc.cluster.local', TYPE.A);
  assert.equal(a.rcode, 'NOERROR');
  assert.deepEqual(a.answer, ['web.shop.svc.cluster.local. 5 IN A 10.96.10.20']);
  assert.equal((await ask(second, 'nope.shop.svc.cluster.local', TYPE.A)).rcode, 'NXDOMAIN');
  assert.equal(await httpStatus(second.ready, '/ready'), 200);
  assert.match(second.stdout(), /"msg":"serving from snapshot until the live sync"/);
  const metricsUrl = `http://${second.metrics!.host}:${second.metrics!.port}/metrics`;
  assert.match(await (await fetch(metricsUrl)).text(), /^cluster_dns_snapshot_serving 1$/m);

  // The API server returns with a changed cluster: the live sync replaces the snapshot.
  api.delete('Service', 'shop', 'web');
  api.apply(service('shop', 'api', { clusterIP: '10.96.10.40' }));
  await api.resume();
  await eventually(
    'web gone',
    () => ask(second, 'web.shop.svc.cluster.local', TYPE.A),
    (r) => r.rcode === 'NXDOMAIN',
    8_000,
  );
  assert.deepEqual((await ask(second, 'api.shop.svc.cluster.local', TYPE.A)).answer, ['api.shop.svc.cluster.local. 5 IN A 10.96.10.40']);
  await eventually(
    'snapshot flag cleared',
    async () => (await fetch(metricsUrl)).text(),
    (text) => /^cluster_dns_snapshot_serving 0$/m.test(text),
  );
  assert.match(second.stdout(), /"msg":"live sync replaced the snapshot"/);
});

test('--snapshot files that must not be served: bad addresses dropped, too old, too big and old-format files ignored, each with a log line; the server starts and syncs live', async (t) => {
  const api = await FakeApiServer.start();
  t.after(() => api.close());
  seed(api);
  const kubeconfig = api.writeKubeconfig();
  const folder = mkdtempSync(join(tmpdir(), 'cdns-snap-'));
  const good = join(folder, 'good.json');
  const first = await startServer(['--kubeconfig', kubeconfig, '--snapshot', good]);
  await eventually(
    'ready',
    () => httpStatus(first.ready, '/ready'),
    (s) => s === 200,
  );
  assert.equal(await first.stop(), 0);
  const text = readFileSync(good, 'utf8');
  const variant = (name: string, content: string | Buffer) => {
    const path = join(folder, name);
    writeFileSync(path, content);
    return path;
  };
  const banana = variant('banana.json', text.replace('"clusterIPs":["10.96.10.20"]', '"clusterIPs":["banana"]'));
  const old = variant('old.json', text.replace(/"writtenAt":\d+/, `"writtenAt":${Date.now() - 2 * 3_600_000}`));
  const big = variant('big.json', Buffer.alloc(2 * 1024 * 1024, ' '));
  const v1 = variant(
    'v1.json',
    `${JSON.stringify({ format: 'cluster-dns/snapshot/v1', zone: 'cluster.local', writtenAt: Date.now(), records: {} })}\n`,
  );
  assert.notEqual(readFileSync(banana, 'utf8'), text);

  // A restart while the API server is down: the bad Service is left out (NXDOMAIN, not SERVFAIL), the rest serves.
  await api.pause();
  const server = await startServer(['--kubeconfig', kubeconfig, '--snapshot', banana]);
  t.after(() => server.stop());
  assert.equal((await ask(server, 'web.shop.svc.cluster.local', TYPE.A)).rcode, 'NXDOMAIN');
  assert.deepEqual((await ask(server, 'db-0.db.shop.svc.cluster.local', TYPE.A)).answer, [
    'db-0.db.shop.svc.cluster.local. 5 IN A 10.244.1.10',
  ]);
  const dropped = server
    .stdout()
    .split('\n')
    .find((l) => l.includes('"msg":"snapshot objects that fail the checks were left out"'));
  assert.ok(dropped, server.stdout());
  assert.equal((JSON.parse(dropped) as { dropped: number }).dropped, 1);
  assert.match(dropped, /Service shop\/web: spec\.clusterIP\(s\) \\"banana\\" is not an IP address/);
  await api.resume();
  await eventually(
    'web from the live sync',
    () => ask(server, 'web.shop.svc.cluster.local', TYPE.A),
    (r) => r.answer[0] === 'web.shop.svc.cluster.local. 5 IN A 10.96.10.20',
    8_000,
  );

  // Files that are not restored at all: the reason logged, then the live sync as without a snapshot.
  const ignored: [string, string[], RegExp][] = [
    [old, ['--snapshot-max-age', '1h'], /written 2\.0h ago .*older than --snapshot-max-age 1\.0h/],
    [big, ['--snapshot-max-size', '1Mi'], /big\.json: 2\.0 MiB, over --snapshot-max-size 1\.0 MiB/],
    [v1, [], /written in the format cluster-dns\/snapshot\/v1/],
  ];
  await Promise.all(
    ignored.map(async ([path, flags, reason]) => {
      const s = await startServer(['--kubeconfig', kubeconfig, '--snapshot', path, ...flags]);
      t.after(() => s.stop());
      await eventually(
        `ready after ignoring ${path}`,
        () => httpStatus(s.ready, '/ready'),
        (code) => code === 200,
        10_000,
      );
      const line = s
        .stdout()
        .split('\n')
        .find((l) => l.includes('"msg":"snapshot ignored"'));
      assert.ok(line, s.stdout());
      assert.match((JSON.parse(line) as { err: string }).err, reason);
      assert.deepEqual((await ask(s, 'web.shop.svc.cluster.local', TYPE.A)).answer, ['web.shop.svc.cluster.local. 5 IN A 10.96.10.20']);
    }),
  );
});

test('the first sync releases memory once, after the last kind lists (not between lists)', async (t) => {
  const api = await FakeApiServer.start();
  t.after(() => api.close());
  seed(api);
  // Pods list last: three failures back off ~0.5 + 1 + 2 s, past the release's 1 s delay.
  api.failNext(3, 500, { kind: 'Pod', watch: false });
  const server = await startServer(['--kubeconfig', api.writeKubeconfig()]);
  t.after(() => server.stop());
  await eventually(
    'ready',
    () => httpStatus(server.ready, '/ready'),
    (s) => s === 200,
    15_000,
  );
  const released = () =>
    server
      .stdout()
      .split('\n')
      .filter((l) => l.includes('"msg":"memory released"'));
  await eventually(
    'the release',
    async () => released().length,
    (n) => n > 0,
    5_000,
  );
  await new Promise((r) => setTimeout(r, 1_500));
  assert.equal(released().length, 1, released().join('\n'));
  const reasons = (JSON.parse(released()[0]!) as { reasons: string[] }).reasons;
  assert.deepEqual([...reasons].sort(), ['EndpointSlice synced', 'Namespace synced', 'Pod synced', 'Service synced']);
  assert.equal(reasons.at(-1), 'Pod synced');
});
