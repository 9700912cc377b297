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

// Objects of the wrong shape, as a hand-written file may hold them: each refused with the file,
// the object and the field named, never a TypeError and never an answer that fails at query time.
const badObjects: Array<[string, string, RegExp]> = [
  ['a ClusterIP that is not an IP', 'kind: Service\nmetadata: {name: s, namespace: a}\nspec: {clusterIP: banana}\n', /Service a\/s: spec\.clusterIP\(s\) "banana" is not an IP address/],
  ['clusterIPs with a bad entry', 'kind: Service\nmetadata: {name: s, namespace: a}\nspec: {clusterIPs: [10.0.0.1, 10.0.0.300]}\n', /"10\.0\.0\.300" is not an IP address/],
  ['a port out of range', 'kind: Service\nmetadata: {name: s, namespace: a}\nspec: {clusterIP: 10.0.0.1, ports: [{port: 70000}]}\n', /spec\.ports\[0\]\.port must be a number from 1 to 65535/],
  ['ports that are not a list', 'kind: Service\nmetadata: {name: s, namespace: a}\nspec: {ports: "80"}\n', /spec\.ports must be a list/],
  ['a spec that is a string', 'kind: Service\nmetadata: {name: s, namespace: a}\nspec: hello\n', /spec must be an object/],
  ['a namespace that is a number', 'kind: Service\nmetadata: {name: s, namespace: 5}\n', /metadata\.namespace must be a string/],
  ['an externalName that is a number', 'kind: Service\nmetadata: {name: s, namespace: a}\nspec: {type: ExternalName, externalName: 5}\n', /spec\.externalName must be a string/],
  ['endpoints that are not a list', 'kind: EndpointSlice\nmetadata: {name: e, namespace: a}\nendpoints: 5\n', /EndpointSlice a\/e: endpoints must be a list/],
  ['addresses that are a string', 'kind: EndpointSlice\nmetadata: {name: e, namespace: a}\nendpoints: [{addresses: "10.0.0.1"}]\n', /endpoints\[0\]\.addresses must be a list/],
  ['an IPv4 address in an IPv6 slice', 'kind: EndpointSlice\nmetadata: {name: e, namespace: a}\naddressType: IPv6\nendpoints: [{addresses: [10.0.0.1]}]\n', /endpoints\[0\]\.addresses\[0\] "10\.0\.0\.1" is not an IPv6 address/],
  ['a service-name label that is a number', 'kind: EndpointSlice\nmetadata: {name: e, namespace: a, labels: {kubernetes.io/service-name: 5}}\n', /metadata\.labels\["kubernetes\.io\/service-name"\] must be a string/],
  ['a ready condition that is a string', 'kind: EndpointSlice\nmetadata: {name: e, namespace: a}\nendpoints: [{addresses: [10.0.0.1], conditions: {ready: "yes"}}]\n', /conditions\.ready must be true or false/],
  ['a pod IP that is not one', 'kind: Pod\nmetadata: {name: p, namespace: a}\nstatus: {podIP: 10.1.1.300}\n', /Pod a\/p: status\.podIP "10\.1\.1\.300" is not an IP address/],
  ['podIPs that are a number', 'kind: Pod\nmetadata: {name: p, namespace: a}\nstatus: {podIPs: 7}\n', /status\.podIPs must be a list/],
  ['a hostname that is a number', 'kind: Pod\nmetadata: {name: p, namespace: a}\nspec: {hostname: 5}\n', /spec\.hostname must be a string/],
];

for (const [what, yaml, message] of badObjects) {
  test(`an object with ${what} is refused with the file, object and field named`, (t) => {
    const file = join(scratch(t), 'bad.yaml');
    writeFileSync(file, yaml);
    assert.throws(
      () => readManifests(file),
      (err: Error) => err instanceof ManifestError && err.message.startsWith(`${file}: object 1: `) && message.test(err.message) && !err.message.includes('\n'),
    );
  });
}

test('FQDN slices, ExternalName services and empty optional fields are fine', (t) => {
  const file = join(scratch(t), 'ok.yaml');
  writeFileSync(
    file,
    'kind: EndpointSlice\nmetadata: {name: f, namespace: a}\naddressType: FQDN\nendpoints: [{addresses: [db.example.com]}]\nports: [{name: x, port: null}]\n---\n' +
      'kind: Service\nmetadata: {name: x, namespace: a}\nspec: {type: ExternalName, externalName: db.example.com, clusterIP: ""}\n---\n' +
      'kind: Pod\nmetadata: {name: p, namespace: a}\nspec: {hostname: null}\nstatus: {podIP: "", podIPs: [{ip: fd00::1}]}\n',
  );
  const r = readManifests(file);
  assert.equal(r.EndpointSlice[0]?.endpoints.length, 0);
  assert.equal(r.Service[0]?.externalName, 'db.example.com');
  assert.deepEqual(r.Pod[0]?.ips, ['fd00::1']);
});
