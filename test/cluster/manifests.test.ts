import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterIndex } from '../../src/cluster/index.ts';
import { ManifestError, readManifests, startManifestSource } from '../../src/cluster/manifests.ts';
import { silentLogger } from '../../src/observe/log.ts';
import { BUNDLED_EXAMPLE } from '../../src/config.ts';

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'cdns-manifests-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('the bundled example parses into every kind', () => {
  const r = readManifests(BUNDLED_EXAMPLE);
  assert.ok(r.Namespace.length >= 3);
  assert.ok(r.Service.some((s) => s.kind === 'Headless'));
  assert.ok(r.Service.some((s) => s.kind === 'ExternalName'));
  assert.ok(r.Service.some((s) => s.clusterIPs.length === 2), 'a dual-stack service');
  assert.ok(r.Pod.some((p) => p.hostname && p.subdomain));
  assert.ok(!r.Pod.some((p) => p.name === 'old-job-x7k2'), 'finished pods are left out');
});

test('a folder of YAML and JSON, List kinds flattened, namespaces implied by objects', (t) => {
  const dir = scratch(t);
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'a.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: implied}\nspec: {clusterIP: 10.0.0.1}\n---\n');
  writeFileSync(
    join(dir, 'sub', 'b.json'),
    JSON.stringify({ kind: 'List', items: [{ kind: 'Pod', metadata: { name: 'p', namespace: 'x' }, status: { podIP: '10.1.1.1' } }] }),
  );
  writeFileSync(join(dir, 'notes.txt'), 'not a manifest');
  const r = readManifests(dir);
  assert.deepEqual(r.Service.map((s) => s.name), ['s']);
  assert.deepEqual(r.Pod.map((p) => p.name), ['p']);
  assert.deepEqual(r.Namespace.map((n) => n.name).sort(), ['implied', 'x']);
});

test('bad files are refused with the file and the problem named', (t) => {
  const dir = scratch(t);
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'kind: Service\nmetadata: [unclosed\n');
  assert.throws(() => readManifests(file), (err: Error) => err instanceof ManifestError && err.message.startsWith(file));
  writeFileSync(file, 'kind: Service\nmetadata: {namespace: a}\n');
  assert.throws(() => readManifests(file), /object 1: Service without metadata.name/);
  writeFileSync(file, '- just\n- a list\n');
  assert.throws(() => readManifests(file), /not a Kubernetes object/);
});

test('a changed file is reloaded; a broken one keeps the last good index', async (t) => {
  const dir = scratch(t);
  const file = join(dir, 'c.yaml');
  writeFileSync(file, 'kind: Service\nmetadata: {name: one, namespace: a}\nspec: {clusterIP: 10.0.0.1}\n');
  const index = new ClusterIndex();
  const source = startManifestSource({ path: file, index, logger: silentLogger(), pollIntervalMs: 20 });
  t.after(() => source.stop());
  assert.ok(index.synced);
  assert.ok(index.service('a', 'one'));
  const waitFor = async (check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
    return check();
  };
  writeFileSync(file, 'kind: Service\nmetadata: {name: two, namespace: a}\nspec: {clusterIP: 10.0.0.2}\n');
  assert.ok(await waitFor(() => index.service('a', 'two') !== undefined));
  assert.equal(index.service('a', 'one'), undefined);
  writeFileSync(file, 'kind: Service\nmetadata: {name: [broken\n');
  assert.equal(source.reload(), false);
  assert.ok(index.service('a', 'two'), 'the last good index keeps serving');
});
