// --workers replication: a replica fed the snapshot and then the mutation stream holds exactly the
// watching process's index, through upserts, removals, relists and syncs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterIndex } from '../../src/index/index.ts';
import { KINDS, recordKey, toRecord } from '../../src/objects/kinds.ts';
import { TYPE } from '../../src/dns/constants.ts';
import { KubernetesZone } from '../../src/zone/kubernetes.ts';
import { endpointSlice, pod, service, testCluster } from '../support/cluster.ts';

function load(index: ClusterIndex, objects: ReturnType<typeof testCluster>): void {
  for (const obj of objects) {
    const c = toRecord(obj);
    if (c) index.upsert(c.kind, c.record);
  }
}

function state(index: ClusterIndex) {
  const out: Record<string, string[]> = {};
  for (const kind of KINDS) out[kind] = [...index.all(kind)].map((r) => `${recordKey(r)} ${JSON.stringify(r)}`).sort();
  return { records: out, synced: index.synced, unsynced: index.unsyncedKinds() };
}

function answers(index: ClusterIndex): string[] {
  const zone = new KubernetesZone({ index, zone: 'cluster.local', ttl: 5, pods: 'verified' });
  const names: [string, number][] = [
    ['svc1.testns.svc.cluster.local', TYPE.A],
    ['hdls.testns.svc.cluster.local', TYPE.A],
    ['busybox-1.hdls.testns.svc.cluster.local', TYPE.A],
    ['10-244-4-1.testns.pod.cluster.local', TYPE.A],
    ['new.testns.svc.cluster.local', TYPE.A],
    ['nope.testns.svc.cluster.local', TYPE.A],
  ];
  return names.map(([n, t]) => JSON.stringify(zone.sections(n, t), (k, v) => (k === 'serial' ? 0 : v)));
}

test('snapshot then stream: the replica equals the watcher after every kind of change', () => {
  const primary = new ClusterIndex();
  primary.require(KINDS);
  load(primary, testCluster().slice(0, 10));
  primary.markSynced('Namespace');

  const replica = new ClusterIndex();
  for (const m of primary.snapshot()) replica.apply(m);
  primary.onMutation((m) => replica.apply(m));
  assert.deepEqual(state(replica), state(primary));

  load(primary, testCluster().slice(10));
  for (const kind of KINDS) primary.markSynced(kind);
  primary.upsert('Service', toRecord(service('testns', 'new', { clusterIPs: ['10.96.9.9'] }))!.record as never);
  primary.remove('Service', 'testns/svc1');
  primary.upsert('Pod', toRecord(pod('testns', 'extra', ['10.244.9.9'], { hostname: 'x', subdomain: 'hdls' }))!.record as never);
  primary.remove('Pod', 'testns/web-0');
  // A relist that drops a slice and changes another.
  const slices = [...primary.all('EndpointSlice')].filter((s) => s.name !== 'hdls-v6');
  primary.replace('EndpointSlice', [
    ...slices,
    toRecord(endpointSlice('testns', 'svc1', 'svc1-new', 'IPv4', [{ ip: '10.244.8.8' }], []))!.record as never,
  ]);

  assert.deepEqual(state(replica), state(primary));
  assert.equal(replica.synced, true);
  assert.deepEqual(answers(replica), answers(primary));
});
