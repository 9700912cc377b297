import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ClusterIndex } from '../../src/index/index.ts';
import { ManifestError, readManifests, startManifestSource } from '../../src/index/manifests.ts';
import { createLogger, silentLogger } from '../../src/base/log.ts';
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
  assert.ok(
    r.Service.some((s) => s.clusterIPs.length === 2),
    'a dual-stack service',
  );
  assert.ok(r.Pod.some((p) => p.hostname && p.subdomain));
  assert.ok(!r.Pod.some((p) => p.name === 'old-job-x7k2'), 'finished pods are left out');
});

test('a folder of YAML and JSON, List kinds flattened, namespaces implied by objects', (t) => {
  const dir = scratch(t);
  mkdirSync(join(dir, 'sub'));
  writeFileSync(
    join(dir, 'a.yaml'),
    'apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: implied}\nspec: {clusterIP: 10.0.0.1}\n---\n',
  );
  writeFileSync(
    join(dir, 'sub', 'b.json'),
    JSON.stringify({ kind: 'List', items: [{ kind: 'Pod', metadata: { name: 'p', namespace: 'x' }, status: { podIP: '10.1.1.1' } }] }),
  );
  writeFileSync(join(dir, 'notes.txt'), 'not a manifest');
  const r = readManifests(dir);
  assert.deepEqual(
    r.Service.map((s) => s.name),
    ['s'],
  );
  assert.deepEqual(
    r.Pod.map((p) => p.name),
    ['p'],
  );
  assert.deepEqual(r.Namespace.map((n) => n.name).sort(), ['implied', 'x']);
});

test('bad files are refused with the file and the problem named', (t) => {
  const dir = scratch(t);
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'kind: Service\nmetadata: [unclosed\n');
  assert.throws(
    () => readManifests(file),
    (err: Error) => err instanceof ManifestError && err.message.startsWith(file),
  );
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
  const source = await startManifestSource({ path: file, index, logger: silentLogger(), pollIntervalMs: 20 });
  t.after(() => source.stop());
  assert.ok(index.synced);
  assert.ok(index.service('a', 'one'));
  const waitFor = async (check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
    return check();
  };
  writeFileSync(file, 'kind: Service\nmetadata: {name: two, namespace: a}\nspec: {clusterIP: 10.0.0.2}\n');
  // Applied as a relist is: the new objects first, what the file no longer has removed at the end.
  assert.ok(await waitFor(() => index.service('a', 'two') !== undefined && index.service('a', 'one') === undefined));
  writeFileSync(file, 'kind: Service\nmetadata: {name: [broken\n');
  assert.equal(await source.reload(), false);
  assert.ok(index.service('a', 'two'), 'the last good index keeps serving');
});

// Objects of the wrong shape, as a hand-written file may hold them: each refused with the file,
// the object and the field named, never a TypeError and never an answer that fails at query time.
const badObjects: Array<[string, string, RegExp]> = [
  [
    'a ClusterIP that is not an IP',
    'kind: Service\nmetadata: {name: s, namespace: a}\nspec: {clusterIP: banana}\n',
    /Service a\/s: spec\.clusterIP\(s\) "banana" is not an IP address/,
  ],
  [
    'clusterIPs with a bad entry',
    'kind: Service\nmetadata: {name: s, namespace: a}\nspec: {clusterIPs: [10.0.0.1, 10.0.0.300]}\n',
    /"10\.0\.0\.300" is not an IP address/,
  ],
  [
    'a port out of range',
    'kind: Service\nmetadata: {name: s, namespace: a}\nspec: {clusterIP: 10.0.0.1, ports: [{port: 70000}]}\n',
    /spec\.ports\[0\]\.port must be a number from 1 to 65535/,
  ],
  ['ports that are not a list', 'kind: Service\nmetadata: {name: s, namespace: a}\nspec: {ports: "80"}\n', /spec\.ports must be a list/],
  ['a spec that is a string', 'kind: Service\nmetadata: {name: s, namespace: a}\nspec: hello\n', /spec must be an object/],
  ['a namespace that is a number', 'kind: Service\nmetadata: {name: s, namespace: 5}\n', /metadata\.namespace must be a string/],
  [
    'an externalName that is a number',
    'kind: Service\nmetadata: {name: s, namespace: a}\nspec: {type: ExternalName, externalName: 5}\n',
    /spec\.externalName must be a string/,
  ],
  [
    'endpoints that are not a list',
    'kind: EndpointSlice\nmetadata: {name: e, namespace: a}\nendpoints: 5\n',
    /EndpointSlice a\/e: endpoints must be a list/,
  ],
  [
    'addresses that are a string',
    'kind: EndpointSlice\nmetadata: {name: e, namespace: a}\nendpoints: [{addresses: "10.0.0.1"}]\n',
    /endpoints\[0\]\.addresses must be a list/,
  ],
  [
    'an IPv4 address in an IPv6 slice',
    'kind: EndpointSlice\nmetadata: {name: e, namespace: a}\naddressType: IPv6\nendpoints: [{addresses: [10.0.0.1]}]\n',
    /endpoints\[0\]\.addresses\[0\] "10\.0\.0\.1" is not an IPv6 address/,
  ],
  [
    'a service-name label that is a number',
    'kind: EndpointSlice\nmetadata: {name: e, namespace: a, labels: {kubernetes.io/service-name: 5}}\n',
    /metadata\.labels\["kubernetes\.io\/service-name"\] must be a string/,
  ],
  [
    'a ready condition that is a string',
    'kind: EndpointSlice\nmetadata: {name: e, namespace: a}\nendpoints: [{addresses: [10.0.0.1], conditions: {ready: "yes"}}]\n',
    /conditions\.ready must be true or false/,
  ],
  [
    'a pod IP that is not one',
    'kind: Pod\nmetadata: {name: p, namespace: a}\nstatus: {podIP: 10.1.1.300}\n',
    /Pod a\/p: status\.podIP "10\.1\.1\.300" is not an IP address/,
  ],
  ['podIPs that are a number', 'kind: Pod\nmetadata: {name: p, namespace: a}\nstatus: {podIPs: 7}\n', /status\.podIPs must be a list/],
  ['a hostname that is a number', 'kind: Pod\nmetadata: {name: p, namespace: a}\nspec: {hostname: 5}\n', /spec\.hostname must be a string/],
];

for (const [what, yaml, message] of badObjects) {
  test(`an object with ${what} is refused with the file, object and field named`, (t) => {
    const file = join(scratch(t), 'bad.yaml');
    writeFileSync(file, yaml);
    assert.throws(
      () => readManifests(file),
      (err: Error) =>
        err instanceof ManifestError &&
        err.message.startsWith(`${file}: object 1: `) &&
        message.test(err.message) &&
        !err.message.includes('\n'),
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

/** 651 bytes in the issue, ~500 here: six levels of ten aliases, 10^6 pods once expanded. */
function aliasBomb(): string {
  const ten = (anchor: string) => `[${Array(10).fill(`*${anchor}`).join(',')}]`;
  let yaml = 'kind: List\nx0: &x0 {kind: Pod, metadata: {name: bomb, namespace: default}, status: {podIP: 10.1.0.1}}\n';
  for (let i = 1; i <= 5; i++) yaml += `x${i}: &x${i} {kind: List, items: ${ten(`x${i - 1}`)}}\n`;
  return `${yaml}items: ${ten('x5')}\n`;
}

test('a YAML alias bomb is refused at once, naming the file; aliases that refer to themselves too', (t) => {
  const dir = scratch(t);
  const file = join(dir, 'bomb.yaml');
  writeFileSync(file, aliasBomb());
  const started = performance.now();
  assert.throws(
    () => readManifests(file),
    (err: Error) =>
      err instanceof ManifestError &&
      err.message.startsWith(`${file}: YAML aliases expand it to more than`) &&
      /refused \(an alias bomb\?\)$/.test(err.message),
  );
  // Generous: refusing reads ~60 distinct nodes; expanding took 0.9 s and 352 MiB.
  assert.ok(performance.now() - started < 2_000);
  writeFileSync(file, 'kind: List\nitems: &a [*a]\n');
  assert.throws(() => readManifests(file), /a YAML alias refers to an object that contains it: refused/);
  // js-yaml's own bound: more than 1000 aliases in one document.
  writeFileSync(file, `kind: List\nx: &x {kind: Namespace, metadata: {name: n}}\nitems: [${Array(1001).fill('*x').join(',')}]\n`);
  assert.throws(() => readManifests(file), /aliases exceeded maxAliases \(1000\)/);
});

test('aliases used as people use them (shared labels, a repeated port list) are fine', (t) => {
  const file = join(scratch(t), 'ok.yaml');
  const services = Array.from(
    { length: 20 },
    (_, i) => `kind: Service\nmetadata: {name: s${i}, namespace: a, labels: *labels}\nspec: {clusterIP: 10.0.0.${i + 1}, ports: *ports}\n`,
  );
  writeFileSync(
    file,
    `kind: Namespace\nmetadata: {name: a, labels: &labels {team: web, tier: front}}\nspec: {x: &ports [{name: http, port: 80}, {name: https, port: 443}]}\n---\n${services
      .map((s) => s.replace('*labels', '{team: web}'))
      .join('---\n')
      .replace(/\*ports/g, '[{name: http, port: 80}]')}`,
  );
  assert.equal(readManifests(file).Service.length, 20);
  writeFileSync(
    file,
    `kind: List\nx: &ports [{name: http, port: 80}, {name: https, port: 443}]\nitems:\n${Array.from({ length: 20 }, (_, i) => `- {kind: Service, metadata: {name: s${i}, namespace: a}, spec: {clusterIP: 10.0.0.${i + 1}, ports: *ports}}`).join('\n')}\n`,
  );
  const r = readManifests(file);
  assert.equal(r.Service.length, 20);
  assert.deepEqual(
    r.Service[19]?.ports.map((p) => p.port),
    [80, 443],
  );
});

test('files over --manifests-max-size are refused before they are read', (t) => {
  const dir = scratch(t);
  writeFileSync(join(dir, 'a.yaml'), `kind: Namespace\nmetadata: {name: a}\n# ${'x'.repeat(600)}\n`);
  writeFileSync(join(dir, 'b.json'), `not even JSON ${'y'.repeat(600)}`);
  assert.throws(
    () => readManifests(dir, { maxBytes: 1000 }),
    (err: Error) => err instanceof ManifestError && /: \d+ bytes in 2 files, over --manifests-max-size 1000$/.test(err.message),
  );
  assert.throws(() => readManifests(dir, { maxBytes: 100_000 }), /b\.json: .*JSON/, 'under the cap the files are read');
});

test('reloads read off the event loop: a bomb, an oversized file and a worker out of memory each keep the last good index and log why', async (t) => {
  const dir = scratch(t);
  const file = join(dir, 'c.yaml');
  writeFileSync(file, 'kind: Service\nmetadata: {name: one, namespace: a}\nspec: {clusterIP: 10.0.0.1}\n');
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(chunk.toString()), cb()) });
  const index = new ClusterIndex();
  // The folder is the source; the worker may use 16 MiB of heap.
  const source = await startManifestSource({
    path: dir,
    index,
    logger: createLogger('info', { destination: sink }),
    pollIntervalMs: 3_600_000,
    maxBytes: 4 * 1024 * 1024,
    heapMiB: 16,
  });
  t.after(() => source.stop());
  const failures = () =>
    lines
      .filter((l) => l.includes('"msg":"manifests reload failed; keeping the last good index"'))
      .map((l) => (JSON.parse(l) as { err: string }).err);
  const kept = () => assert.ok(index.service('a', 'one'), 'the last good index keeps serving');

  writeFileSync(file, aliasBomb());
  assert.equal(await source.reload(), false);
  assert.match(failures().at(-1)!, /c\.yaml: YAML aliases expand it to more than \d+ nodes/);
  kept();

  writeFileSync(file, `kind: Namespace\nmetadata: {name: a}\n# ${'x'.repeat(5 * 1024 * 1024)}\n`);
  assert.equal(await source.reload(), false);
  assert.match(failures().at(-1)!, /: \d+ bytes, over --manifests-max-size 4194304$/);
  kept();

  // 2.7 MB of JSON, 30,000 pods: more than 16 MiB of heap once parsed.
  writeFileSync(file, '');
  const items = Array.from({ length: 30_000 }, (_, i) => ({
    kind: 'Pod',
    metadata: { name: `p${i}`, namespace: 'a' },
    status: { podIP: `10.1.${(i >> 8) & 255}.${i & 255}` },
  }));
  writeFileSync(join(dir, 'big.json'), JSON.stringify({ kind: 'List', items }));
  assert.equal(await source.reload(), false);
  assert.match(failures().at(-1)!, /: reading it took more than the 16 MiB its worker may use: refused$/);
  kept();

  rmSync(join(dir, 'big.json'));
  writeFileSync(file, 'kind: Service\nmetadata: {name: two, namespace: a}\nspec: {clusterIP: 10.0.0.2}\n');
  assert.equal(await source.reload(), true);
  assert.ok(index.service('a', 'two'));
  assert.equal(index.service('a', 'one'), undefined);
});

test('a reload hands the records to the index a batch per turn of the event loop', async (t) => {
  const dir = scratch(t);
  const file = join(dir, 'pods.json');
  const pods = (n: number, ns: string) =>
    JSON.stringify({
      kind: 'List',
      items: Array.from({ length: n }, (_, i) => ({
        kind: 'Pod',
        metadata: { name: `p${i}`, namespace: ns },
        status: { podIP: `10.2.${(i >> 8) & 255}.${i & 255}` },
      })),
    });
  writeFileSync(file, pods(10, 'a'));
  const index = new ClusterIndex();
  const source = await startManifestSource({ path: file, index, logger: silentLogger(), pollIntervalMs: 3_600_000 });
  t.after(() => source.stop());
  writeFileSync(file, pods(20_000, 'b'));
  let turns = 0;
  let done = false;
  const reloaded = source.reload().finally(() => (done = true));
  const seen = new Set<number>();
  while (!done && turns < 1_000_000) {
    await new Promise((r) => setImmediate(r));
    turns++;
    seen.add(index.counts().Pod);
  }
  assert.equal(await reloaded, true);
  assert.equal(index.counts().Pod, 20_000);
  assert.equal(index.hasNamespace('a'), false);
  // 20,000 pods in batches of 500: the loop ran between them, and saw the index part-way.
  assert.ok(seen.size >= 10, `the loop saw ${seen.size} different pod counts during the reload`);
});

test('a load and a reload are each followed by the memory release, as an API sync is', async (t) => {
  const dir = scratch(t);
  const file = join(dir, 'c.yaml');
  writeFileSync(file, 'kind: Service\nmetadata: {name: one, namespace: a}\nspec: {clusterIP: 10.0.0.1}\n');
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(chunk.toString()), cb()) });
  const source = await startManifestSource({
    path: file,
    index: new ClusterIndex(),
    logger: createLogger('info', { destination: sink }),
    pollIntervalMs: 3_600_000,
  });
  t.after(() => source.stop());
  assert.equal(source.synced(), true);
  const released = async (count: number) => {
    // The release waits a second after the last request; bounded at 20 s for a loaded machine.
    for (let i = 0; i < 200 && lines.filter((l) => l.includes('"msg":"memory released"')).length < count; i++)
      await new Promise((r) => setTimeout(r, 100));
    return lines.filter((l) => l.includes('"msg":"memory released"')).map((l) => (JSON.parse(l) as { reasons: string[] }).reasons);
  };
  assert.deepEqual((await released(1))[0], ['Namespace synced', 'Service synced', 'EndpointSlice synced', 'Pod synced']);
  const relisted: string[] = [];
  source.onListed((kind, first) => relisted.push(`${kind} ${first}`));
  assert.equal(await source.reload(), true);
  assert.deepEqual((await released(2))[1], ['Namespace reloaded', 'Service reloaded', 'EndpointSlice reloaded', 'Pod reloaded']);
  assert.deepEqual(relisted, ['Namespace false', 'Service false', 'EndpointSlice false', 'Pod false']);
});
