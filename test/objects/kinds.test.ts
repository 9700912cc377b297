import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkObject,
  InvalidObjectError,
  objectKinds,
  objectLine,
  OBJECT_KINDS,
  recordKey,
  toObject,
  toRecord,
  KINDS,
} from '../../src/objects/kinds.ts';
import { toEndpointSlice } from '../../src/objects/endpoint-slice.ts';
import { toPod } from '../../src/objects/pod.ts';
import { toService } from '../../src/objects/service.ts';
import { endpointSlice, indexOf, pod, service, testCluster } from '../support/cluster.ts';

test('services: ClusterIP, dual-stack, headless, ExternalName', () => {
  assert.deepEqual(
    toService(service('NS', 'Web', { clusterIPs: ['10.0.0.1', 'fd00::1'], ports: [{ name: 'HTTP', protocol: 'TCP', port: 80 }] })),
    {
      namespace: 'ns',
      name: 'web',
      kind: 'ClusterIP',
      clusterIPs: ['10.0.0.1', 'fd00::1'],
      externalName: '',
      ports: [{ name: 'http', protocol: 'tcp', port: 80 }],
      publishNotReadyAddresses: false,
    },
  );
  assert.equal(toService(service('a', 'h', { headless: true })).kind, 'Headless');
  assert.deepEqual(toService(service('a', 'h', { headless: true })).clusterIPs, []);
  const ext = toService(service('a', 'e', { externalName: 'WWW.Example.COM.' }));
  assert.equal(ext.kind, 'ExternalName');
  assert.equal(ext.externalName, 'www.example.com');
  // Older objects carry only spec.clusterIP.
  assert.deepEqual(toService({ metadata: { name: 's', namespace: 'a' }, spec: { clusterIP: '10.0.0.9' } }).clusterIPs, ['10.0.0.9']);
});

test('endpoint slices: ready unset counts as ready, FQDN slices hold nothing', () => {
  const slice = toEndpointSlice(
    endpointSlice(
      'a',
      'svc',
      's1',
      'IPv4',
      [
        { ip: '10.0.0.1', ready: null },
        { ip: '10.0.0.2', ready: false, hostname: 'H' },
      ],
      [{ name: 'p', port: 1 }],
    ),
  );
  assert.equal(slice.service, 'svc');
  assert.deepEqual(slice.endpoints, [
    { addresses: ['10.0.0.1'], hostname: '', ready: true },
    { addresses: ['10.0.0.2'], hostname: 'h', ready: false },
  ]);
  const fqdn = endpointSlice('a', 'svc', 's2', 'IPv4', [{ ip: 'x.example.com' }], []);
  fqdn.addressType = 'FQDN';
  assert.deepEqual(toEndpointSlice(fqdn).endpoints, []);
});

test('endpoint_pod_names: an endpoint without a hostname is named by its pod, when that is one DNS label', () => {
  const ref = (kind: string, name: string) => ({ kind, name, namespace: 'a', uid: 'u' });
  const rows: { endpoint: Record<string, unknown>; off: string; on: string; why: string }[] = [
    { endpoint: { targetRef: ref('Pod', 'web-7d9f-x2') }, off: '', on: 'web-7d9f-x2', why: "the pod's name" },
    { endpoint: { targetRef: ref('Pod', 'Web-0') }, off: '', on: 'web-0', why: 'lower-cased, as names are matched' },
    {
      endpoint: { hostname: 'pet-0', targetRef: ref('Pod', 'web-0') },
      off: 'pet-0',
      on: 'pet-0',
      why: 'a hostname wins (CoreDNS endpointHostname)',
    },
    { endpoint: { targetRef: ref('Node', 'node-1') }, off: '', on: '', why: 'only a Pod names an endpoint' },
    {
      endpoint: { targetRef: ref('Pod', 'web.v1') },
      off: '',
      on: '',
      why: 'a pod name with a dot would be two labels: the dashed IP stays',
    },
    { endpoint: { targetRef: ref('Pod', 'x'.repeat(64)) }, off: '', on: '', why: 'longer than a label' },
    { endpoint: {}, off: '', on: '', why: 'no targetRef' },
  ];
  const without = objectKinds({ noEndpoints: true });
  assert.deepEqual(Object.keys(without), ['Namespace', 'Service', 'Pod'], 'noendpoints: EndpointSlices are not read');
  assert.equal(toRecord({ kind: 'EndpointSlice', metadata: { name: 's', namespace: 'a' } }, without), null);
  const kinds = objectKinds({ endpointPodNames: true });
  assert.equal(objectKinds({}), OBJECT_KINDS, 'off: the very same kinds, nothing read in addition');
  for (const row of rows) {
    const obj = {
      kind: 'EndpointSlice',
      metadata: { name: 's', namespace: 'a', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.0.0.1'], ...row.endpoint }],
    };
    const hostnameOf = (converted: ReturnType<typeof toRecord>) =>
      (converted!.record as unknown as { endpoints: { hostname: string }[] }).endpoints[0]!.hostname;
    assert.equal(hostnameOf(toRecord(obj)), row.off, `off: ${row.why}`);
    assert.equal(hostnameOf(toRecord(obj, kinds)), row.on, `on: ${row.why}`);
  }
});

test('namespaces: only the exposed namespaces are kept; with one, the API is asked for it alone', () => {
  const one = objectKinds({ namespaces: ['shop'] });
  const rows: { obj: Record<string, unknown>; kept: boolean; why: string }[] = [
    { obj: service('shop', 'web', { clusterIPs: ['10.96.0.1'] }), kept: true, why: 'an exposed namespace' },
    { obj: service('data', 'db', { clusterIPs: ['10.96.0.2'] }), kept: false, why: 'another namespace: never in the index' },
    { obj: { kind: 'Namespace', metadata: { name: 'shop' } }, kept: true, why: 'a Namespace by its own name' },
    { obj: { kind: 'Namespace', metadata: { name: 'data' } }, kept: false, why: 'so data.svc is NXDOMAIN' },
    { obj: pod('data', 'p', ['10.244.0.9']), kept: false, why: 'pods too' },
    { obj: endpointSlice('shop', 'web', 'web-1', 'IPv4', [{ ip: '10.244.0.1' }], []), kept: true, why: 'and slices' },
  ];
  for (const row of rows) assert.equal(toRecord(row.obj as Parameters<typeof toRecord>[0], one) !== null, row.kept, row.why);
  assert.equal(one.Service!.fieldSelector, 'metadata.namespace=shop');
  assert.equal(one.Namespace!.fieldSelector, 'metadata.name=shop');
  assert.equal(one.Pod!.fieldSelector, `${OBJECT_KINDS.Pod.fieldSelector},metadata.namespace=shop`, "joined with the pods' own selector");
  const two = objectKinds({ namespaces: ['shop', 'data'] });
  assert.equal(two.Service!.fieldSelector, undefined, 'no OR in field selectors: two namespaces are filtered as they arrive');
  assert.equal(two.Pod!.fieldSelector, OBJECT_KINDS.Pod.fieldSelector);
  assert.notEqual(toRecord(service('data', 'db', { clusterIPs: ['10.96.0.2'] }) as Parameters<typeof toRecord>[0], two), null);
});

test('pods: slim, with hostname/subdomain and readiness; finished or deleting pods are dropped', () => {
  const p = toPod(pod('a', 'p', ['10.0.0.1', 'fd00::1'], { hostname: 'H', subdomain: 'Sub', ready: false }));
  assert.deepEqual(p, { namespace: 'a', name: 'p', ips: ['10.0.0.1', 'fd00::1'], hostname: 'h', subdomain: 'sub', ready: false });
  assert.equal(toPod(pod('a', 'p', ['10.0.0.1'], { phase: 'Succeeded' })), null);
  assert.equal(toPod(pod('a', 'p', ['10.0.0.1'], { phase: 'Failed' })), null);
  const deleting = pod('a', 'p', ['10.0.0.1']);
  (deleting.metadata as Record<string, unknown>).deletionTimestamp = '2026-01-01T00:00:00Z';
  assert.equal(toPod(deleting), null);
  // No podIPs: fall back to podIP.
  assert.deepEqual(toPod({ metadata: { name: 'p', namespace: 'a' }, status: { podIP: '10.0.0.3' } })?.ips, ['10.0.0.3']);
});

test('a slim pod is far smaller than the API object it replaces', () => {
  const obj = pod('default', 'web-7d9f6-abcde', ['10.244.1.10']);
  const slim = toPod(obj)!;
  assert.ok(JSON.stringify(slim).length * 2 < JSON.stringify(obj).length);
  assert.deepEqual(Object.keys(slim).sort(), ['hostname', 'ips', 'name', 'namespace', 'ready', 'subdomain']);
});

test('objects without a name are refused with a typed error; unknown kinds are ignored', () => {
  assert.throws(() => toService({ metadata: {} }), InvalidObjectError);
  assert.equal(toRecord({ kind: 'ConfigMap', metadata: { name: 'x' } }), null);
  // Kinds are looked up by name: no name of Object.prototype is one.
  for (const kind of ['constructor', 'toString', '__proto__', 'hasOwnProperty'])
    assert.equal(toRecord({ kind, metadata: { name: 'x' } }), null, kind);
  for (const kind of KINDS) assert.throws(() => OBJECT_KINDS[kind].keyOf({ metadata: { namespace: 'a' } }), InvalidObjectError, kind);
});

test("an object's key, from its metadata alone (a DELETED event), is the key its record is stored under", () => {
  const objects = [
    ...testCluster(),
    { kind: 'Namespace', metadata: { name: 'Mixed-Case' } },
    // A namespaced object without a namespace is in `default`.
    { ...service('x', 'Web', {}), metadata: { name: 'Web' } },
    { ...pod('x', 'P-0', ['10.244.0.1']), metadata: { name: 'P-0' } },
    { ...endpointSlice('Ns', 'web', 'Web-Abc', 'IPv4', [{ ip: '10.0.0.1' }], []) },
  ];
  let n = 0;
  for (const obj of objects) {
    const converted = toRecord(obj);
    if (!converted) continue;
    assert.equal(OBJECT_KINDS[converted.kind].keyOf(obj), recordKey(converted.record), JSON.stringify(obj.metadata));
    n++;
  }
  assert.equal(recordKey(toRecord(objects.at(-3)!)!.record), 'default/web');
  assert.ok(n > 20);
});

test('port lists with the same contents are one frozen array, shared by services and slices', () => {
  const a = toService(service('a', 'one', { ports: [{ name: 'HTTP', protocol: 'TCP', port: 80 }] }));
  const b = toService(service('b', 'two', { ports: [{ name: 'http', port: 80 }] }));
  const c = toService(service('b', 'three', { ports: [{ name: 'http', protocol: 'UDP', port: 80 }] }));
  const slice = toEndpointSlice(
    endpointSlice('a', 'one', 's1', 'IPv4', [{ ip: '10.0.0.1' }], [{ name: 'http', protocol: 'TCP', port: 80 }]),
  );
  assert.equal(a.ports, b.ports);
  assert.equal(a.ports, slice.ports);
  assert.notEqual(a.ports, c.ports);
  assert.deepEqual(c.ports, [{ name: 'http', protocol: 'udp', port: 80 }]);
  assert.ok(Object.isFrozen(a.ports) && Object.isFrozen(a.ports[0]));
  assert.throws(() => (a.ports as unknown as { port: number }[]).push({ port: 1 }), TypeError);
});

test('toObject and objectLine (what snapshots hold) turn back into the very record, through the checks files pass', () => {
  const index = indexOf(testCluster());
  index.upsert('Pod', { namespace: 'x', name: 'no-ip', ips: [], hostname: '', subdomain: '', ready: false });
  index.upsert('Pod', { namespace: 'x', name: 'only-host', ips: ['10.9.9.9'], hostname: 'h', subdomain: '', ready: false });
  let n = 0;
  for (const kind of KINDS) {
    for (const record of index.all(kind)) {
      const obj = toObject(kind, record);
      assert.equal(objectLine(kind, record), `${JSON.stringify(obj)}\n`, `${kind} ${JSON.stringify(record)}: the line is the object`);
      const parsed = JSON.parse(objectLine(kind, record)) as Record<string, unknown>;
      checkObject(parsed);
      assert.deepEqual(toRecord(parsed), { kind, record }, `${kind} ${JSON.stringify(record)}`);
      n++;
    }
  }
  assert.ok(n > 20);
});
