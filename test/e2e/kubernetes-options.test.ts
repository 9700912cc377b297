// The kubernetes-plugin options that change answers, through the real server over the wire:
// --endpoint-pod-names (endpoint_pod_names), --ignore-empty-service (ignore empty_service) and
// --no-endpoints (noendpoints), --namespaces (namespaces).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TYPE } from '../../src/dns/constants.ts';
import { buildQuery, decode } from '../support/dns.ts';
import { queryUdp } from '../support/client.ts';
import { startServer, type ServerProcess } from '../support/process.ts';
import { a, FakeUpstream } from '../support/upstream.ts';

const CLUSTER = `
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {clusterIP: None, ports: [{name: http, port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-abc, namespace: shop, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
endpoints:
- addresses: [10.244.1.5]
  targetRef: {kind: Pod, namespace: shop, name: web-7d9f-x2}
- addresses: [10.244.1.6]
  hostname: pet-0
  targetRef: {kind: Pod, namespace: shop, name: web-7d9f-y3}
ports: [{name: http, port: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: idle, namespace: shop}
spec: {clusterIP: 10.96.3.3, clusterIPs: [10.96.3.3], ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Namespace
metadata: {name: data}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: data}
spec: {clusterIP: 10.96.4.4, clusterIPs: [10.96.4.4]}
`;

async function withServer(t: { after: (fn: () => Promise<unknown>) => void }, args: string[]): Promise<ServerProcess> {
  const server = await startServer(args);
  t.after(() => server.stop());
  return server;
}

async function ask(server: ServerProcess, name: string, type: number) {
  const reply = await queryUdp(server.dns, buildQuery(name, type));
  assert.ok(reply, `a reply for ${name}`);
  return decode(reply);
}

test('--endpoint-pod-names, --ignore-empty-service, --no-endpoints and --namespaces change the answers; without them, CoreDNS defaults', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cdns-k8sopts-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'cluster.yaml');
  writeFileSync(file, CLUSTER);
  const [plain, options] = await Promise.all([
    withServer(t, ['--manifests', file]),
    withServer(t, ['--manifests', file, '--endpoint-pod-names', '--ignore-empty-service']),
  ]);
  const rows: { name: string; type: keyof typeof TYPE; plain: string[]; options: string[]; why: string }[] = [
    {
      name: 'web-7d9f-x2.web.shop.svc.cluster.local',
      type: 'A',
      plain: [],
      options: ['web-7d9f-x2.web.shop.svc.cluster.local. 5 IN A 10.244.1.5'],
      why: "the endpoint is named by its pod's name",
    },
    {
      name: '10-244-1-5.web.shop.svc.cluster.local',
      type: 'A',
      plain: ['10-244-1-5.web.shop.svc.cluster.local. 5 IN A 10.244.1.5'],
      options: [],
      why: 'the dashed IP names it only without the option',
    },
    {
      name: '5.1.244.10.in-addr.arpa',
      type: 'PTR',
      plain: ['5.1.244.10.in-addr.arpa. 5 IN PTR 10-244-1-5.web.shop.svc.cluster.local.'],
      options: ['5.1.244.10.in-addr.arpa. 5 IN PTR web-7d9f-x2.web.shop.svc.cluster.local.'],
      why: 'the PTR follows the name',
    },
    {
      name: 'pet-0.web.shop.svc.cluster.local',
      type: 'A',
      plain: ['pet-0.web.shop.svc.cluster.local. 5 IN A 10.244.1.6'],
      options: ['pet-0.web.shop.svc.cluster.local. 5 IN A 10.244.1.6'],
      why: 'a hostname wins over the pod name',
    },
    {
      name: 'idle.shop.svc.cluster.local',
      type: 'A',
      plain: ['idle.shop.svc.cluster.local. 5 IN A 10.96.3.3'],
      options: [],
      why: 'a ClusterIP Service without endpoints: NXDOMAIN under --ignore-empty-service',
    },
  ];
  for (const row of rows) {
    const [a, b] = await Promise.all([ask(plain, row.name, TYPE[row.type]), ask(options, row.name, TYPE[row.type])]);
    assert.deepEqual(a.answer, row.plain, `without: ${row.why}`);
    assert.deepEqual(b.answer, row.options, `with: ${row.why}`);
  }
  assert.equal((await ask(options, 'idle.shop.svc.cluster.local', TYPE.A)).rcode, 'NXDOMAIN');
  assert.equal((await ask(options, '10-244-1-5.web.shop.svc.cluster.local', TYPE.A)).rcode, 'NXDOMAIN');

  // noendpoints: the slices are not read; ClusterIP Services answer, headless ones do not.
  const bare = await withServer(t, ['--manifests', file, '--no-endpoints']);
  assert.deepEqual((await ask(bare, 'idle.shop.svc.cluster.local', TYPE.A)).answer, ['idle.shop.svc.cluster.local. 5 IN A 10.96.3.3']);
  assert.equal(
    (await ask(bare, '_http._tcp.idle.shop.svc.cluster.local', TYPE.SRV)).answer.length,
    1,
    "a ClusterIP Service's SRV comes from its ports",
  );
  for (const name of ['web.shop.svc.cluster.local', 'pet-0.web.shop.svc.cluster.local', '6.1.244.10.in-addr.arpa']) {
    const type = name.endsWith('.arpa') ? TYPE.PTR : TYPE.A;
    assert.equal(
      (await ask(bare, name, type)).rcode,
      name.endsWith('.arpa') ? 'REFUSED' : 'NXDOMAIN',
      `${name}: no endpoints, so not ours`,
    );
  }

  // namespaces: data is not exposed: its names and its ClusterIP's PTR are not answered.
  const scoped = await withServer(t, ['--manifests', file, '--namespaces', 'shop']);
  assert.deepEqual((await ask(plain, 'db.data.svc.cluster.local', TYPE.A)).answer, ['db.data.svc.cluster.local. 5 IN A 10.96.4.4']);
  assert.equal((await ask(scoped, 'db.data.svc.cluster.local', TYPE.A)).rcode, 'NXDOMAIN');
  assert.equal((await ask(scoped, 'data.svc.cluster.local', TYPE.A)).rcode, 'NXDOMAIN', 'the namespace itself is not there');
  assert.equal((await ask(plain, '4.4.96.10.in-addr.arpa', TYPE.PTR)).answer.length, 1);
  assert.equal((await ask(scoped, '4.4.96.10.in-addr.arpa', TYPE.PTR)).answer.length, 0, 'no PTR for a hidden namespace');
  assert.deepEqual((await ask(scoped, 'idle.shop.svc.cluster.local', TYPE.A)).answer, ['idle.shop.svc.cluster.local. 5 IN A 10.96.3.3']);

  // A reload is read in the manifests worker: the option reaches it too.
  writeFileSync(file, CLUSTER.replace('name: web-7d9f-x2', 'name: web-7d9f-z9'));
  let answer: string[] = [];
  for (let i = 0; i < 100 && answer.length === 0; i++) {
    answer = (await ask(options, 'web-7d9f-z9.web.shop.svc.cluster.local', TYPE.A)).answer;
    if (answer.length === 0) await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(answer, ['web-7d9f-z9.web.shop.svc.cluster.local. 5 IN A 10.244.1.5'], 'the reloaded pod name answers');
});

test('--fallthrough: a cluster-zone NXDOMAIN in the listed zone is asked upstream; what exists never is', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cdns-k8sopts-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'cluster.yaml');
  writeFileSync(file, CLUSTER);
  const up = await FakeUpstream.start();
  t.after(() => up.close());
  up.set('foo.cluster.local', { kind: 'answer', records: [a('foo.cluster.local', '10.10.10.10', 303)] });
  up.set('legacy.shop.svc.cluster.local', { kind: 'answer', records: [a('legacy.shop.svc.cluster.local', '10.10.10.11', 303)] });
  const server = await withServer(t, ['--manifests', file, '--upstream', up.address, '--fallthrough', 'svc.cluster.local']);
  assert.deepEqual(
    (await ask(server, 'legacy.shop.svc.cluster.local', TYPE.A)).answer,
    ['legacy.shop.svc.cluster.local. 303 IN A 10.10.10.11'],
    'in the zone: asked upstream',
  );
  const outside = await ask(server, 'foo.cluster.local', TYPE.A);
  assert.equal(outside.rcode, 'NXDOMAIN', 'outside the fallthrough zone: answered');
  assert.equal(outside.aa, true);
  assert.deepEqual((await ask(server, 'idle.shop.svc.cluster.local', TYPE.A)).answer, ['idle.shop.svc.cluster.local. 5 IN A 10.96.3.3']);
  assert.deepEqual(
    up.received.map((r) => r.name).filter((n) => n.endsWith('cluster.local')),
    ['legacy.shop.svc.cluster.local'],
    'only the miss went upstream',
  );
});
