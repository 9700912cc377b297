// /debug/resolve: the zone's answer in presentation form, with the index objects behind it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { debugRoutes, resolveForDebug } from '../../src/observe/debug.ts';
import { startHttpEndpoint } from '../../src/observe/health.ts';
import { KubernetesZone } from '../../src/zone/kubernetes.ts';
import { indexOf, testCluster } from '../support/cluster.ts';

function rig() {
  const index = indexOf(testCluster());
  const zone = new KubernetesZone({ index, zone: 'cluster.local', ttl: 5, pods: 'verified' });
  return { index, zone, resolve: (name: string, type = 'A') => resolveForDebug(zone, index, 'cluster.local', name, type) };
}

test('a headless service: its addresses, and the service and slices that produced them', () => {
  const { resolve } = rig();
  const r = resolve('HDLS.testns.svc.cluster.local.', 'a');
  assert.equal(r.rcode, 'NOERROR');
  assert.equal(r.authoritative, true);
  assert.deepEqual([...r.answer].sort(), [
    'hdls.testns.svc.cluster.local. 5 IN A 10.244.1.10',
    'hdls.testns.svc.cluster.local. 5 IN A 10.244.1.11',
  ]);
  assert.deepEqual(r.objects, [
    { kind: 'Namespace', name: 'testns' },
    { kind: 'Service', namespace: 'testns', name: 'hdls' },
    { kind: 'EndpointSlice', namespace: 'testns', name: 'hdls-v4' },
    { kind: 'EndpointSlice', namespace: 'testns', name: 'hdls-v6' },
  ]);
});

test('a pod hostname under its subdomain names the pod; SRV and TXT are presented in full', () => {
  const { resolve } = rig();
  const host = resolve('busybox-1.hdls.testns.svc.cluster.local');
  assert.deepEqual(host.answer, ['busybox-1.hdls.testns.svc.cluster.local. 5 IN A 10.244.4.1']);
  assert.ok(host.objects.some((o) => o.kind === 'Pod' && o.name === 'busybox1'));
  const srv = resolve('_http._tcp.svc1.testns.svc.cluster.local', 'SRV');
  assert.match(srv.answer[0]!, /^_http\._tcp\.svc1\.testns\.svc\.cluster\.local\. 5 IN SRV 0 100 80 svc1\.testns\.svc\.cluster\.local\.$/);
  const txt = resolve('dns-version.cluster.local', 'TXT');
  assert.deepEqual(txt.answer, ['dns-version.cluster.local. 28800 IN TXT "1.1.0"']);
});

test('misses show the SOA; reverse names name the service; names outside the zone say so', () => {
  const { resolve } = rig();
  const nx = resolve('nope.testns.svc.cluster.local');
  assert.equal(nx.rcode, 'NXDOMAIN');
  assert.match(
    nx.authority[0]!,
    /^cluster\.local\. 5 IN SOA ns\.dns\.cluster\.local\. hostmaster\.cluster\.local\. \d+ 7200 1800 86400 5$/,
  );
  const ptr = resolve('1.1.96.10.in-addr.arpa', 'PTR');
  assert.deepEqual(ptr.answer, ['1.1.96.10.in-addr.arpa. 5 IN PTR svc1.testns.svc.cluster.local.']);
  assert.deepEqual(ptr.objects, [{ kind: 'Service', namespace: 'testns', name: 'svc1' }]);
  const pod = resolve('10-244-4-1.testns.pod.cluster.local');
  assert.deepEqual(pod.objects, [
    { kind: 'Namespace', name: 'testns' },
    { kind: 'Pod', namespace: 'testns', ip: '10.244.4.1' },
  ]);
  const outside = resolve('example.com');
  assert.equal(outside.rcode, null);
  assert.deepEqual(outside.objects, []);
});

test('objects come from the names of the grammar only: a namespace label elsewhere names nothing', () => {
  const { resolve } = rig();
  const other = resolve('testns.other.cluster.local');
  assert.equal(other.rcode, 'NXDOMAIN');
  assert.deepEqual(other.objects, [], 'the zone reads no namespace for it, so none is shown');
  const long = resolve('a._http._tcp.svc1.testns.svc.cluster.local');
  assert.equal(long.rcode, 'NXDOMAIN');
  assert.deepEqual(
    long.objects,
    [
      { kind: 'Namespace', name: 'testns' },
      { kind: 'Service', namespace: 'testns', name: 'svc1' },
      { kind: 'EndpointSlice', namespace: 'testns', name: 'svc1-abc' },
    ],
    'too long for the grammar: what its labels would have been read from',
  );
});

test('over HTTP: JSON, and 400 for a bad type or name', async (t) => {
  const { index, zone } = rig();
  const endpoint = await startHttpEndpoint({ host: '127.0.0.1', port: 0 }, debugRoutes(zone, index, 'cluster.local'));
  t.after(() => endpoint.close());
  const base = `http://127.0.0.1:${endpoint.address.port}/debug/resolve`;
  const ok = await fetch(`${base}?name=svc1.testns.svc.cluster.local&type=AAAA`);
  assert.equal(ok.status, 200);
  assert.match(ok.headers.get('content-type') ?? '', /application\/json/);
  const body = (await ok.json()) as { rcode: string; answer: string[]; authority: string[] };
  assert.equal(body.rcode, 'NOERROR');
  assert.deepEqual(body.answer, []);
  assert.equal(body.authority.length, 1, 'NODATA carries the SOA');
  const badType = await fetch(`${base}?name=svc1.testns.svc.cluster.local&type=BOGUS`);
  assert.equal(badType.status, 400);
  assert.deepEqual(await badType.json(), { error: 'unknown type "BOGUS"' });
  const noName = await fetch(base);
  assert.equal(noName.status, 400);
});
