// --snapshot files: a round trip answers exactly as the index it came from; a write is a
// point-in-time view even while the index changes under it, and atomic; bad files are refused
// with the reason and leave the index empty; bad objects are dropped and counted; too old and too
// big files are not restored; the writer only writes a live, changed (or due) index.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ClusterIndex } from '../../src/index/index.ts';
import { restoreSnapshot, SnapshotError, startSnapshotWriter, writeSnapshot, type RestoreLimits } from '../../src/index/snapshot.ts';
import { KINDS, objectKinds, objectLine } from '../../src/objects/kinds.ts';
import { toPod } from '../../src/objects/pod.ts';
import { toService } from '../../src/objects/service.ts';
import { TYPE } from '../../src/dns/constants.ts';
import { createLogger, silentLogger } from '../../src/base/log.ts';
import { KubernetesZone } from '../../src/zone/kubernetes.ts';
import { indexOf, testCluster } from '../support/cluster.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'cdns-snapshot-'));
const LIMITS: RestoreLimits = { zone: 'cluster.local', maxBytes: 64 * 1024 * 1024, maxAgeMs: 24 * 3_600_000 };

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

/** Every record of an index, sorted, for comparing two of them. */
function contents(index: ClusterIndex): string[] {
  return (['Namespace', 'Service', 'EndpointSlice', 'Pod'] as const)
    .flatMap((kind) => [...index.all(kind)].map((r) => `${kind} ${JSON.stringify(r)}`))
    .sort();
}

test('a snapshot restores an index that answers every question the same way', async () => {
  const original = indexOf(testCluster());
  const path = join(dir(), 'index.json');
  const bytes = await writeSnapshot(path, original.view(), 'cluster.local');
  assert.ok(bytes > 500);
  const restored = new ClusterIndex();
  assert.equal(restored.synced, false);
  const result = restoreSnapshot(path, restored, LIMITS);
  assert.deepEqual(result.counts, original.counts());
  assert.equal(result.dropped, 0);
  assert.equal(restored.synced, true, 'a complete snapshot counts as synced: misses are NXDOMAIN, not SERVFAIL');
  assert.deepEqual(answers(restored), answers(original));
  assert.deepEqual(contents(restored), contents(original));
});

test('noendpoints: a snapshot written with EndpointSlices restores without them, and drops nothing', async () => {
  const original = indexOf(testCluster());
  const path = join(dir(), 'index.json');
  await writeSnapshot(path, original.view(), 'cluster.local');
  const restored = new ClusterIndex();
  const result = restoreSnapshot(path, restored, { ...LIMITS, kinds: objectKinds({ noEndpoints: true }) });
  assert.equal(result.counts.EndpointSlice, 0);
  assert.equal(result.dropped, 0, 'a kind not read now is no problem with the file');
  assert.equal([...restored.all('EndpointSlice')].length, 0, 'no slice that no watch would ever replace');
  assert.equal(result.counts.Service, original.counts().Service);
});

test('plain pods, written straight from the pod table, are the lines objectLine writes, escapes and all', async () => {
  const index = indexOf(testCluster());
  const odd = ['quote"d', 'back\\slash', 'new\nline', 'ctl\u0001x', 'tab\t', 'utf-8-é-名', 'a/b'];
  odd.forEach((name, i) =>
    index.upsert('Pod', { namespace: 'odd', name, ips: [`10.${i}.${i * 20}.${255 - i}`], hostname: '', subdomain: '', ready: true }),
  );
  index.upsert('Pod', { namespace: 'odd', name: 'v6', ips: ['fd00::9'], hostname: '', subdomain: '', ready: true });
  const path = join(dir(), 'index.json');
  await writeSnapshot(path, index.view(), 'cluster.local');
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .slice(1, -2)
    .map((l) => `${l}\n`);
  const expected = KINDS.flatMap((kind) => [...index.all(kind)].map((r) => objectLine(kind, r)));
  assert.deepEqual([...lines].sort(), [...expected].sort());
  const restored = new ClusterIndex();
  restoreSnapshot(path, restored, LIMITS);
  assert.deepEqual(contents(restored), contents(index));
});

test('a write is the index as it was when it began, while watch events keep changing it (and it yields to them)', async () => {
  const index = indexOf(testCluster());
  for (let i = 0; i < 30_000; i++)
    index.upsert('Pod', toPod({ metadata: { name: `p-${i}`, namespace: 'testns' }, status: { podIP: `10.250.${i >> 8}.${i & 255}` } })!);
  const before = contents(index);
  const path = join(dir(), 'index.json');
  const writing = writeSnapshot(path, index.view(), 'cluster.local');
  let changes = 0;
  let done = false;
  void writing.finally(() => (done = true));
  // A watch event whenever the loop is free, as long as the write runs.
  while (!done && changes < 100_000) {
    await new Promise((r) => setImmediate(r));
    index.remove('Pod', `testns/p-${changes}`);
    index.upsert(
      'Service',
      toService({
        metadata: { name: `new-${changes}`, namespace: 'testns' },
        spec: { clusterIP: `10.97.${changes >> 8}.${changes & 255}` },
      }),
    );
    changes++;
  }
  await writing;
  assert.ok(changes > 3, `the write let the loop run (${changes} changes went in meanwhile)`);
  const restored = new ClusterIndex();
  restoreSnapshot(path, restored, LIMITS);
  assert.deepEqual(contents(restored), before, 'none of the changes made during the write is in the file');
});

test('writes are atomic: the file is replaced whole and no temporary file is left', async () => {
  const folder = dir();
  const path = join(folder, 'index.json');
  const index = indexOf(testCluster());
  await writeSnapshot(path, index.view(), 'cluster.local');
  const first = readFileSync(path, 'utf8');
  index.remove('Service', 'testns/svc1');
  await writeSnapshot(path, index.view(), 'cluster.local');
  assert.notEqual(readFileSync(path, 'utf8'), first);
  assert.deepEqual(readdirSync(folder), ['index.json']);
  const restored = new ClusterIndex();
  restoreSnapshot(path, restored, LIMITS);
  assert.equal(restored.service('testns', 'svc1'), undefined);
});

test('bad files are refused with the reason, and leave the index empty', async () => {
  const folder = dir();
  const good = join(folder, 'good.json');
  await writeSnapshot(good, indexOf(testCluster()).view(), 'cluster.local');
  const text = readFileSync(good, 'utf8');
  const lines = text.split('\n');
  const v1 = JSON.stringify({
    format: 'cluster-dns/snapshot/v1',
    zone: 'cluster.local',
    writtenAt: Date.now(),
    records: { Namespace: [], Service: [], EndpointSlice: [], Pod: [] },
  });
  const cases: [string, string, RegExp][] = [
    ['cut.json', text.slice(0, Math.floor(text.length / 2)), /cut\.json: incomplete \(no end line\)/],
    ['foreign.json', '{"hello":"world"}\n', /not a cluster-dns\/snapshot\/v2 file/],
    ['v1.json', `${v1}\n`, /written in the format cluster-dns\/snapshot\/v1, this version reads cluster-dns\/snapshot\/v2/],
    ['not-json.json', [...lines.slice(0, 3), '{"kind":"Pod",', ...lines.slice(3)].join('\n'), /object 3 is not JSON/],
    ['miscounted.json', [...lines.slice(0, 2), ...lines.slice(3)].join('\n'), /objects where the end line says/],
  ];
  for (const [name, content, reason] of cases) {
    const path = join(folder, name);
    writeFileSync(path, content);
    const index = new ClusterIndex();
    assert.throws(
      () => restoreSnapshot(path, index, LIMITS),
      (err: unknown) => err instanceof SnapshotError && reason.test(err.message),
      name,
    );
    assert.deepEqual(index.counts(), { Namespace: 0, Service: 0, EndpointSlice: 0, Pod: 0 }, `${name}: nothing restored`);
    assert.equal(index.synced, false, name);
  }
  assert.throws(
    () => restoreSnapshot(good, new ClusterIndex(), { ...LIMITS, zone: 'example.local' }),
    /written for zone cluster\.local, serving example\.local/,
  );
  assert.throws(() => restoreSnapshot(join(folder, 'absent.json'), new ClusterIndex(), LIMITS), SnapshotError);
});

test('objects that fail the live checks are dropped and counted; the rest is restored', async () => {
  const path = join(dir(), 'index.json');
  const original = indexOf(testCluster());
  await writeSnapshot(path, original.view(), 'cluster.local');
  const text = readFileSync(path, 'utf8');
  const tampered = text
    .replace('"clusterIPs":["10.96.1.1"]', '"clusterIPs":["banana"]')
    .replace('{"ip":"10.244.5.5"}', '{"ip":"10.244.5.500"}')
    .replace('{"kind":"Namespace","metadata":{"name":"emptyns"}}', '{"kind":"Secret","metadata":{"name":"x"}}');
  assert.notEqual(tampered, text);
  writeFileSync(path, tampered);
  const restored = new ClusterIndex();
  const result = restoreSnapshot(path, restored, LIMITS);
  assert.equal(result.dropped, 3);
  assert.equal(result.problems.length, 3);
  assert.match(result.problems.join('\n'), /spec\.clusterIP\(s\) "banana" is not an IP address/);
  assert.match(result.problems.join('\n'), /status\.podIPs\[0\]\.ip "10\.244\.5\.500" is not an IP address/);
  assert.match(result.problems.join('\n'), /Secret: not a kind of record/);
  assert.equal(result.counts.Service, original.counts().Service - 1);
  assert.equal(result.counts.Pod, original.counts().Pod - 1);
  assert.equal(restored.synced, true);
  // The name with the bad address is gone (NXDOMAIN) instead of failing at query time (SERVFAIL).
  const zone = new KubernetesZone({ index: restored, zone: 'cluster.local', ttl: 5, pods: 'verified' });
  assert.ok(restored.servicesByClusterIP('banana').length === 0);
  assert.equal(zone.sections('svc1.testns.svc.cluster.local', TYPE.A)?.rcode, 3);
  assert.deepEqual(answers(restored).slice(1, 3), answers(original).slice(1, 3), 'the other names answer as before');
});

test('a snapshot older than the maximum age, or bigger than the maximum size, is not restored', async () => {
  const folder = dir();
  const path = join(folder, 'index.json');
  await writeSnapshot(path, indexOf(testCluster()).view(), 'cluster.local', Date.now() - 25 * 3_600_000);
  const index = new ClusterIndex();
  assert.throws(() => restoreSnapshot(path, index, LIMITS), /written 25\.0h ago \(.*\), older than --snapshot-max-age 24\.0h/);
  assert.equal(index.counts().Service, 0);
  assert.equal(
    restoreSnapshot(path, index, { ...LIMITS, maxAgeMs: 26 * 3_600_000 }).counts.Namespace > 0,
    true,
    'within a longer maximum age it is',
  );
  // The size is checked before anything is read: a big file of garbage fails on its size.
  const big = join(folder, 'big.json');
  writeFileSync(big, Buffer.alloc(2 * 1024 * 1024, 'x'));
  assert.throws(
    () => restoreSnapshot(big, new ClusterIndex(), { ...LIMITS, maxBytes: 1024 * 1024 }),
    /big\.json: 2\.0 MiB, over --snapshot-max-size 1\.0 MiB/,
  );
});

test('the writer writes only a live index, only when it changed, and once more at stop', async () => {
  const path = join(dir(), 'index.json');
  const index = indexOf(testCluster());
  let live = false;
  const written: number[] = [];
  const writer = startSnapshotWriter({
    path,
    zone: 'cluster.local',
    index,
    logger: silentLogger(),
    intervalMs: 3_600_000,
    live: () => live,
    onWritten: (b) => written.push(b),
  });
  await writer.flush();
  assert.equal(written.length, 0, 'not live yet: a partial index is never written');
  live = true;
  await Promise.all([writer.flush(), writer.flush()]);
  await writer.flush();
  assert.equal(written.length, 1, 'unchanged index: one write');
  index.remove('Namespace', 'emptyns');
  await writer.stop();
  assert.equal(written.length, 2, 'the last write at stop');
  const restored = new ClusterIndex();
  restoreSnapshot(path, restored, LIMITS);
  assert.equal(restored.hasNamespace('emptyns'), false);
});

test('an unchanged index is rewritten while the API server confirms it, so a quiet cluster does not age out; not during an outage', async () => {
  const path = join(dir(), 'index.json');
  const index = indexOf(testCluster());
  let heard = Date.now();
  const written: number[] = [];
  // maxAge 400 ms: a refresh is due 100 ms after the last write.
  const writer = startSnapshotWriter({
    path,
    zone: 'cluster.local',
    index,
    logger: silentLogger(),
    intervalMs: 3_600_000,
    live: () => true,
    heardAt: () => heard,
    maxAgeMs: 400,
    onWritten: (b) => written.push(b),
  });
  await writer.flush();
  assert.equal(written.length, 1);
  await new Promise((r) => setTimeout(r, 150));
  await writer.flush();
  assert.equal(written.length, 1, 'nothing heard since the write (an outage): no refresh');
  heard = Date.now();
  await writer.flush();
  assert.equal(written.length, 2, 'heard from after the refresh interval: rewritten');
  await writer.stop();
});

test('the writer says when its file is over --snapshot-max-size', async () => {
  const path = join(dir(), 'index.json');
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(chunk.toString()), cb()) });
  const writer = startSnapshotWriter({
    path,
    zone: 'cluster.local',
    index: indexOf(testCluster()),
    logger: createLogger('info', { destination: sink }),
    intervalMs: 3_600_000,
    live: () => true,
    maxBytes: 100,
  });
  await writer.stop();
  await new Promise((r) => setImmediate(r));
  assert.match(lines.join(''), /"msg":"snapshot over --snapshot-max-size: a restart will not restore it"/);
});
