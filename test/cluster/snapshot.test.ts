// --snapshot files: a round trip answers exactly as the index it came from; writes are atomic;
// bad files are refused with the reason; the writer only writes a live, changed index.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterIndex } from '../../src/cluster/index.ts';
import { readSnapshot, restoreSnapshot, SnapshotError, startSnapshotWriter, writeSnapshot } from '../../src/cluster/snapshot.ts';
import { TYPE } from '../../src/dns/constants.ts';
import { silentLogger } from '../../src/observe/log.ts';
import { KubernetesZone } from '../../src/zone/kubernetes.ts';
import { indexOf, testCluster } from '../support/cluster.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'cdns-snapshot-'));

const QUESTIONS: [string, number][] = [
  ['svc1.testns.svc.cluster.local', TYPE.A],
  ['dual.testns.svc.cluster.local', TYPE.AAAA],
  ['hdls.testns.svc.cluster.local', TYPE.A],
  ['pet-0.hdls.testns.svc.cluster.local', TYPE.AAAA],
  ['busybox-1.hdls.testns.svc.cluster.local', TYPE.A],
  ['_http._tcp.hdls.testns.svc.cluster.local', TYPE.SRV],
  ['hdls-pna.testns.svc.cluster.local', TYPE.A],
  ['ext.testns.svc.cluster.local', TYPE.A],
  ['10-244-5-5.default.pod.cluster.local', TYPE.A],
  ['1.1.96.10.in-addr.arpa', TYPE.PTR],
  ['nope.emptyns.svc.cluster.local', TYPE.A],
  ['nope.nons.svc.cluster.local', TYPE.A],
];

function answers(index: ClusterIndex): string[] {
  const zone = new KubernetesZone({ index, zone: 'cluster.local', ttl: 5, pods: 'verified' });
  return QUESTIONS.map(([name, type]) => {
    const sections = zone.sections(name, type);
    // The SOA serial is the time of the last change, which differs by design: leave it out.
    return JSON.stringify(sections, (k, v) => (k === 'serial' ? 0 : v));
  });
}

test('a snapshot restores an index that answers every question the same way', () => {
  const original = indexOf(testCluster());
  const path = join(dir(), 'index.json');
  const bytes = writeSnapshot(path, original, 'cluster.local');
  assert.ok(bytes > 500);
  const restored = new ClusterIndex();
  assert.equal(restored.synced, false);
  const counts = restoreSnapshot(restored, readSnapshot(path, 'cluster.local'));
  assert.deepEqual(counts, original.counts());
  assert.equal(restored.synced, true, 'a complete snapshot counts as synced: misses are NXDOMAIN, not SERVFAIL');
  assert.deepEqual(answers(restored), answers(original));
});

test('writes are atomic: the file is replaced whole and no temporary file is left', () => {
  const folder = dir();
  const path = join(folder, 'index.json');
  const index = indexOf(testCluster());
  writeSnapshot(path, index, 'cluster.local');
  const first = readFileSync(path, 'utf8');
  index.remove('Service', 'testns/svc1');
  writeSnapshot(path, index, 'cluster.local');
  assert.notEqual(readFileSync(path, 'utf8'), first);
  assert.deepEqual(readdirSync(folder), ['index.json']);
  assert.equal(readSnapshot(path, 'cluster.local').records.Service.some((s) => s.name === 'svc1'), false);
});

test('bad snapshots are refused with the reason', () => {
  const folder = dir();
  const good = join(folder, 'good.json');
  writeSnapshot(good, indexOf(testCluster()), 'cluster.local');
  const text = readFileSync(good, 'utf8');
  const cases: [string, string, RegExp][] = [
    ['truncated.json', text.slice(0, text.length / 2), /truncated\.json: /],
    ['foreign.json', '{"hello":"world"}', /not a cluster-dns\/snapshot\/v1 file/],
    ['bad-record.json', text.replace('"clusterIPs":["10.96.0.1"]', '"clusterIPs":"10.96.0.1"'), /Service record \d+ is malformed/],
  ];
  for (const [name, content, reason] of cases) {
    const path = join(folder, name);
    writeFileSync(path, content);
    assert.throws(() => readSnapshot(path, 'cluster.local'), (err: unknown) => err instanceof SnapshotError && reason.test(err.message), name);
  }
  assert.throws(() => readSnapshot(good, 'example.local'), /written for zone cluster\.local, serving example\.local/);
  assert.throws(() => readSnapshot(join(folder, 'absent.json'), 'cluster.local'), SnapshotError);
});

test('the writer writes only a live index, only when it changed, and once more at stop', () => {
  const path = join(dir(), 'index.json');
  const index = indexOf(testCluster());
  let live = false;
  const written: number[] = [];
  const writer = startSnapshotWriter({ path, zone: 'cluster.local', index, logger: silentLogger(), intervalMs: 3_600_000, live: () => live, onWritten: (b) => written.push(b) });
  writer.flush();
  assert.equal(written.length, 0, 'not live yet: a partial index is never written');
  live = true;
  writer.flush();
  writer.flush();
  assert.equal(written.length, 1, 'unchanged index: one write');
  index.remove('Namespace', 'emptyns');
  writer.stop();
  assert.equal(written.length, 2, 'the last write at stop');
  assert.equal(readSnapshot(path, 'cluster.local').records.Namespace.some((n) => n.name === 'emptyns'), false);
});
