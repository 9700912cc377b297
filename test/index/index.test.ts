import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterIndex } from '../../src/index/index.ts';
import { toRecord, type Kind, type RecordOf } from '../../src/objects/kinds.ts';
import { endpointSlice, pod, service, testCluster, indexOf } from '../support/cluster.ts';

function record<K extends Kind>(obj: Parameters<typeof toRecord>[0]): RecordOf[K] {
  return toRecord(obj)!.record as RecordOf[K];
}

test('lookups by the questions DNS asks', () => {
  const index = indexOf(testCluster());
  assert.equal(index.service('testns', 'svc1')?.clusterIPs[0], '10.96.1.1');
  assert.deepEqual(
    index.servicesByClusterIP('fd00:10:96::2').map((s) => s.name),
    ['dual'],
  );
  assert.deepEqual(
    index
      .slicesOf('testns', 'hdls')
      .map((s) => s.name)
      .sort(),
    ['hdls-v4', 'hdls-v6'],
  );
  assert.deepEqual(
    index.slicesByAddress('10.244.1.11').map((s) => s.name),
    ['hdls-v4'],
  );
  assert.ok(index.hasPodIP('default', 'fd00:244::5'));
  assert.ok(!index.hasPodIP('testns', 'fd00:244::5'));
  assert.deepEqual(
    index
      .podsBySubdomain('testns', 'hdls')
      .map((p) => p.name)
      .sort(),
    ['busybox1', 'busybox2'],
  );
  assert.ok(index.hasNamespace('emptyns'));
  assert.deepEqual(index.counts(), { Namespace: 4, Service: 9, EndpointSlice: 5, Pod: 4 });
});

test('updates move secondary indexes with the record', () => {
  const index = indexOf(testCluster());
  index.upsert('Service', record<'Service'>(service('testns', 'svc1', { clusterIPs: ['10.96.9.9'] })));
  assert.equal(index.servicesByClusterIP('10.96.1.1').length, 0);
  assert.equal(index.servicesByClusterIP('10.96.9.9').length, 1);
  index.upsert('Pod', record<'Pod'>(pod('default', 'dualpod', ['10.244.7.7'])));
  assert.equal(index.hasPodIP('default', '10.244.5.5'), false);
  assert.equal(index.hasPodIP('default', '10.244.7.7'), true);
  index.remove('EndpointSlice', 'testns/hdls-v6');
  assert.deepEqual(
    index.slicesOf('testns', 'hdls').map((s) => s.name),
    ['hdls-v4'],
  );
  assert.equal(index.slicesByAddress('fd00:244::10').length, 0);
});

test('pods sharing an IP (host network) are all kept', () => {
  const index = indexOf([pod('a', 'p1', ['192.168.0.5']), pod('b', 'p2', ['192.168.0.5'])]);
  const index2 = indexOf([pod('a', 'p1', ['192.168.0.5']), pod('b', 'p2', ['192.168.0.5']), pod('b', 'p3', ['192.168.0.5'])]);
  assert.ok(index.hasPodIP('a', '192.168.0.5') && index.hasPodIP('b', '192.168.0.5'));
  index.remove('Pod', 'a/p1');
  assert.equal(index.hasPodIP('a', '192.168.0.5'), false);
  assert.equal(index.hasPodIP('b', '192.168.0.5'), true);
  index2.remove('Pod', 'b/p2');
  assert.equal(index2.hasPodIP('b', '192.168.0.5'), true, 'another pod of b still has it');
  index2.remove('Pod', 'b/p3');
  assert.equal(index2.hasPodIP('b', '192.168.0.5'), false);
});

test('an update that changes nothing DNS reads does not bump the version', () => {
  const index = indexOf(testCluster());
  const before = index.version;
  index.upsert('Pod', record<'Pod'>(pod('testns', 'web-0', ['10.244.1.10'])));
  assert.equal(index.version, before);
  index.upsert('Pod', record<'Pod'>(pod('testns', 'web-0', ['10.244.1.10'], { ready: false })));
  assert.equal(index.version, before, 'readiness of a pod without hostname/subdomain answers nothing');
  index.upsert('Pod', record<'Pod'>(pod('testns', 'busybox1', ['10.244.4.1'], { hostname: 'busybox-1', subdomain: 'hdls', ready: false })));
  assert.equal(index.version, before + 1, 'readiness of a named pod decides its hostname record');
  index.upsert('Pod', record<'Pod'>(pod('testns', 'web-0', ['10.244.1.99'])));
  assert.equal(index.version, before + 2);
});

test('replace is a relist: unchanged records stay, missing ones go, and no moment lacks a kept name', () => {
  const index = indexOf(testCluster());
  const kept = index.service('default', 'kubernetes');
  let sawGap = false;
  index.onChange(() => {
    if (!index.service('default', 'kubernetes')) sawGap = true;
  });
  const services = testCluster()
    .filter((o) => o.kind === 'Service' && o.metadata.name !== 'svc1')
    .map((o) => record<'Service'>(o));
  services.push(record<'Service'>(service('testns', 'new', { clusterIPs: ['10.96.5.5'] })));
  index.replace('Service', services);
  assert.equal(sawGap, false);
  assert.equal(index.service('default', 'kubernetes'), kept, 'an unchanged record is the same object');
  assert.equal(index.service('testns', 'svc1'), undefined);
  assert.equal(index.service('testns', 'new')?.clusterIPs[0], '10.96.5.5');
});

test('a pod relist keeps what it lists and removes the rest: plain, named and IPv6 pods alike', () => {
  const index = new ClusterIndex();
  const plain = (name: string, ip: string) => record<'Pod'>(pod('a', name, [ip]));
  const named = (name: string, ip: string) => record<'Pod'>(pod('a', name, [ip], { hostname: name, subdomain: 'h' }));
  const before = [
    plain('p1', '10.244.0.1'),
    plain('p2', '10.244.0.2'),
    plain('p6', 'fd00:244::6'),
    plain('gone6', 'fd00:244::7'),
    named('n1', '10.244.0.3'),
    named('n2', '10.244.0.4'),
  ];
  index.replace('Pod', before);
  assert.equal(index.counts().Pod, 6);
  // The second list: p2 is gone, p1 changed address, n2 became plain, gone6 went, a new pod came.
  const relist = index.beginReplace('Pod');
  for (const p of [
    plain('p1', '10.244.9.1'),
    plain('p6', 'fd00:244::6'),
    named('n1', '10.244.0.3'),
    plain('n2', '10.244.0.4'),
    plain('new', '10.244.0.5'),
  ])
    relist.add(p);
  // Until the commit nothing that was there is gone.
  assert.ok(index.hasPodIP('a', '10.244.0.2'));
  assert.ok(index.hasPodIP('a', 'fd00:244::7'));
  relist.commit();
  assert.equal(index.counts().Pod, 5);
  assert.ok(!index.hasPodIP('a', '10.244.0.2'), 'p2 removed');
  assert.ok(!index.hasPodIP('a', 'fd00:244::7'), 'gone6 removed');
  assert.ok(!index.hasPodIP('a', '10.244.0.1') && index.hasPodIP('a', '10.244.9.1'), 'p1 moved');
  assert.ok(index.hasPodIP('a', 'fd00:244::6'), 'p6 kept');
  assert.deepEqual(
    index.podsBySubdomain('a', 'h').map((p) => p.name),
    ['n1'],
  );
  assert.ok(index.hasPodIP('a', '10.244.0.4') && index.hasPodIP('a', '10.244.0.5'));
  // A relist that lists nothing empties the kind; an abandoned one (never committed) removes nothing.
  index.beginReplace('Pod').add(plain('p1', '10.244.9.1'));
  assert.equal(index.counts().Pod, 5);
  index.replace('Pod', []);
  assert.equal(index.counts().Pod, 0);
});

test('synced only once every required kind has synced', () => {
  const index = new ClusterIndex();
  assert.equal(index.synced, false);
  index.markSynced('Namespace');
  index.markSynced('Service');
  assert.deepEqual(index.unsyncedKinds(), ['EndpointSlice', 'Pod']);
  index.require(['Namespace', 'Service']);
  assert.equal(index.synced, true);
});

test('a slice without the service-name label is kept but belongs to no service', () => {
  const obj = endpointSlice('testns', 'x', 'orphan', 'IPv4', [{ ip: '10.1.1.1' }], []);
  delete (obj.metadata as { labels?: unknown }).labels;
  const index = indexOf([obj]);
  assert.equal(index.counts().EndpointSlice, 1);
  assert.equal(index.slicesOf('testns', '').length, 0);
});

test('pods move between the plain and the named form, and all() gives them back', () => {
  const index = indexOf([pod('a', 'p', ['10.1.1.1'])]);
  index.upsert('Pod', record<'Pod'>(pod('a', 'p', ['10.1.1.1'], { hostname: 'h', subdomain: 'svc' })));
  assert.equal(index.podsBySubdomain('a', 'svc').length, 1);
  assert.ok(index.hasPodIP('a', '10.1.1.1'));
  index.upsert('Pod', record<'Pod'>(pod('a', 'p', ['10.1.1.2'])));
  assert.equal(index.podsBySubdomain('a', 'svc').length, 0);
  assert.equal(index.hasPodIP('a', '10.1.1.1'), false);
  assert.ok(index.hasPodIP('a', '10.1.1.2'));
  assert.equal(index.counts().Pod, 1);
  assert.deepEqual(
    [...index.all('Pod')].map((p) => [p.namespace, p.name, p.ips]),
    [['a', 'p', ['10.1.1.2']]],
  );
  index.replace('Pod', []);
  assert.equal(index.counts().Pod, 0);
  assert.equal(index.hasPodIP('a', '10.1.1.2'), false);
});

test('plain pods keep their addresses exactly (single IPv4 kept as an integer)', () => {
  const ips = ['0.0.0.1', '10.244.0.7', '128.0.0.1', '192.168.255.254', '255.255.255.255'];
  const index = indexOf([
    ...ips.map((ip, i) => pod('a', `p${i}`, [ip])),
    pod('a', 'six', ['fd00::1']),
    pod('a', 'both', ['10.1.2.3', 'fd00::2']),
  ]);
  for (const ip of ips) assert.ok(index.hasPodIP('a', ip), ip);
  for (const ip of ['fd00::1', '10.1.2.3', 'fd00::2']) assert.ok(index.hasPodIP('a', ip), ip);
  // Other spellings of the same address are other names, as they were as strings.
  for (const ip of ['010.244.0.7', '10.244.00.7', '10.244.0.07', '10.244.0', '10.244.0.7.', '10.244.0.256', ''])
    assert.equal(index.hasPodIP('a', ip), false, ip);
  assert.deepEqual(
    [...index.all('Pod')].map((p) => `${p.name} ${p.ips.join(',')}`).sort(),
    [...ips.map((ip, i) => `p${i} ${ip}`), 'six fd00::1', 'both 10.1.2.3,fd00::2'].sort(),
  );
  index.remove('Pod', 'a/p2');
  assert.equal(index.hasPodIP('a', '128.0.0.1'), false);
});

test("scopes: a namespace's moves with its objects only, `namespaces` with Namespaces, `epoch` with the sync", () => {
  const index = indexOf(testCluster());
  const upsert = (obj: ReturnType<typeof service>) => {
    const r = toRecord(obj)!;
    index.upsert(r.kind, r.record);
  };
  const testns = index.namespaceScope('testns');
  const other = index.namespaceScope('default');
  assert.equal(index.namespaceScope('testns'), testns, 'one scope per namespace');
  const gens = () => [testns.gen, other.gen, index.namespaces.gen, index.everything.gen];
  let before = gens();
  upsert(service('testns', 'svc9', { clusterIPs: ['10.96.1.9'] }));
  upsert(endpointSlice('testns', 'svc9', 'svc9-a', 'IPv4', [{ ip: '10.244.1.9' }], []));
  upsert(pod('testns', 'p9', ['10.244.1.9']));
  index.remove('Pod', 'testns/p9');
  assert.deepEqual(gens(), [before[0]! + 4, before[1], before[2], before[3]! + 4]);
  before = gens();
  upsert(service('testns', 'svc9', { clusterIPs: ['10.96.1.9'] }));
  assert.deepEqual(gens(), before, 'an update DNS does not see moves nothing');
  index.upsert('Namespace', { name: 'fresh' });
  assert.deepEqual(gens(), [before[0], before[1], before[2]! + 1, before[3]! + 1]);
  const fresh = index.namespaceScope('fresh');
  index.remove('Namespace', 'fresh');
  assert.equal(fresh.gen, 1, "a removed namespace's scope moves");
  assert.notEqual(index.namespaceScope('fresh'), fresh, 'and is not reused');
  const epoch = index.epoch;
  const unsynced = new ClusterIndex();
  unsynced.markSynced('Pod');
  index.markSynced('Pod');
  assert.equal(index.epoch, epoch, 'already synced: nothing moves');
  assert.equal(unsynced.epoch, 1);
});
