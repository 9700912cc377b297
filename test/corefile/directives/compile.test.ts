// compile(): plugins in CoreDNS's order, listeners, CoreDNS's duplicate-key check, forward zones
// across blocks, reload; and every distribution fixture compiled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile, type Plan } from '../../../src/corefile/directives/index.ts';
import { CorefileError, parseCorefile, parseCorefileText } from '../../../src/corefile/index.ts';
import { COREFILE_FIXTURES as FIXTURES, memoryFs, mounted } from '../../support/corefile.ts';
import { BASE_FILES, FILE, planOf } from './support.ts';

const names = (plan: Plan, i = 0) => plan.servers[i]?.plugins.map((p) => p.name);

test('plugins run in plugin.cfg order, whatever order they are written in', async () => {
  const plan = await planOf(
    '.:53 {\n forward . 10.0.0.1\n kubernetes cluster.local\n cache 30\n errors\n log\n rewrite name a.example b.example\n hosts\n template IN AAAA\n rewrite name c.example d.example\n loadbalance\n reload\n}\n',
  );
  assert.deepEqual(names(plan), [
    'reload',
    'errors',
    'log',
    'loadbalance',
    'cache',
    'rewrite',
    'rewrite',
    'template',
    'hosts',
    'kubernetes',
    'forward',
  ]);
  const rewrites = plan.servers[0]?.plugins.filter((p) => p.name === 'rewrite').map((p) => p.at.line);
  assert.deepEqual(rewrites, [7, 10], 'lines of one directive keep their written order');
});

const duplicates: { why: string; input: string; error: string | null }[] = [
  {
    why: 'the same zone and port twice',
    input: '.:53 {\n whoami\n}\n.:53 {\n whoami\n}\n',
    error: `${FILE}:4: cannot serve dns://.:53 - it is already defined`,
  },
  {
    why: 'a key repeated in one block',
    input: 'example.org example.org:53 {\n whoami\n}\n',
    error: `${FILE}:1: cannot serve dns://example.org.:53 - it is already defined`,
  },
  { why: 'the same zone on another port', input: '.:53 {\n whoami\n}\n.:5353 {\n whoami\n}\n', error: null },
  {
    why: 'the same zone and port told apart by bind (AKS LocalDNS)',
    input: '.:53 {\n bind 169.254.10.10\n whoami\n}\n.:53 {\n bind 169.254.10.11\n whoami\n}\n',
    error: null,
  },
  {
    why: 'one address and every address overlap',
    input: '.:53 {\n bind 127.0.0.1\n whoami\n}\n.:53 {\n whoami\n}\n',
    error: `${FILE}:5: cannot serve dns://.:53 - zone overlap listener capacity with dns://.:53 on 127.0.0.1`,
  },
  {
    why: 'the same bound address twice',
    input: '.:53 {\n bind 127.0.0.1\n whoami\n}\n.:53 {\n bind ::1 127.0.0.1\n whoami\n}\n',
    error: `${FILE}:5: cannot serve dns://.:53 on 127.0.0.1 - it is already defined`,
  },
];

test('duplicate keys are refused as CoreDNS refuses them', async () => {
  for (const row of duplicates) {
    const got = await planOf(row.input).then(
      () => null,
      (err: unknown) => (err instanceof CorefileError ? err.message : String(err)),
    );
    assert.equal(got, row.error, row.why);
  }
});

test('listeners: each zone of each key, with its port; bind lines together', async () => {
  const plan = await planOf('a.example:1053 b.example 10.0.0.0/15 {\n bind 127.0.0.1\n bind ::1 lo\n whoami\n}\n');
  const server = plan.servers[0];
  assert.deepEqual(
    server?.listeners.map((l) => `${l.zone}:${l.port}`),
    ['a.example:1053', 'b.example:53', '0.10.in-addr.arpa:53', '1.10.in-addr.arpa:53'],
  );
  assert.deepEqual(server?.bind, [
    { kind: 'address', address: '127.0.0.1' },
    { kind: 'address', address: '::1' },
    { kind: 'interface', name: 'lo' },
  ]);
});

test('forward zones: the default, stub blocks, and a forward FROM inside the root block', async () => {
  const plan = await planOf(
    '.:53 {\n forward . /etc/resolv.conf\n forward lab.example 10.0.0.9\n}\ncorp.example:53 {\n forward . 10.2.0.53\n}\nother.example:53 {\n forward unrelated.example 10.0.0.1\n}\n',
  );
  assert.deepEqual(
    plan.forwardZones.map((f) => ({ zone: f.zone, server: f.server, line: f.at.line, to: f.forward.to })),
    [
      { zone: '.', server: 0, line: 2, to: [{ kind: 'resolv-conf', path: '/etc/resolv.conf' }] },
      { zone: 'lab.example', server: 0, line: 3, to: [{ kind: 'address', transport: 'dns', host: '10.0.0.9', port: 53 }] },
      { zone: 'corp.example', server: 1, line: 6, to: [{ kind: 'address', transport: 'dns', host: '10.2.0.53', port: 53 }] },
    ],
    'a forward whose FROM is outside its block serves nothing',
  );
  assert.deepEqual(
    plan.stubDomains.map((f) => f.zone),
    ['lab.example', 'corp.example'],
  );
});

test('reload: null without the directive; CoreDNS has one for the whole Corefile, the last one read', async () => {
  assert.equal((await planOf('.:53 {\n whoami\n}\n')).reload, null);
  const plan = await planOf('.:53 {\n reload 10s\n whoami\n}\n.:5353 {\n reload 20s 2s\n whoami\n}\n');
  assert.deepEqual(plan.reload, { intervalMs: 20_000, jitterMs: 2000 });
});

test("warnings: the reader's and the directives'", async () => {
  const plan = await planOf(
    '.:53 {\n import none/*.override\n kubernetes cluster.local {\n  endpoint https://a:6443 https://b:6443\n }\n}\n',
  );
  assert.deepEqual(
    plan.warnings.map((w) => `${w.line}: ${w.message}`),
    [
      '2: no files match import none/*.override',
      '4: kubernetes: several endpoints are deprecated; only the first (https://a:6443) is used',
    ],
  );
});

// The distribution fixtures (the project's own), read as the server would read them.
async function fixturePlan(path: string, files: Record<string, string>): Promise<Plan> {
  const fs = memoryFs({ ...BASE_FILES, ...files });
  return compile(await parseCorefile(path, fs, { env: {} }), { fs, cwd: '/' });
}

const KUBEADM_ORDER = ['reload', 'ready', 'health', 'prometheus', 'errors', 'loadbalance', 'cache', 'kubernetes', 'loop', 'forward'];

test('every distribution fixture compiles', async () => {
  for (const name of ['kubeadm', 'rke2', 'eks', 'helm-default']) {
    const path = `/etc/coredns/${name}.Corefile`;
    const plan = await fixturePlan(path, { [path]: readFileSync(join(FIXTURES, `${name}.Corefile`), 'utf8') });
    assert.deepEqual(names(plan), KUBEADM_ORDER, name);
    const k = plan.servers[0]?.plugins.find((p) => p.name === 'kubernetes');
    assert.ok(k?.name === 'kubernetes');
    assert.deepEqual([k.settings.primaryZone, k.settings.pods], ['cluster.local', 'insecure'], name);
    assert.deepEqual(plan.reload, { intervalMs: 30_000, jitterMs: 15_000 }, name);
  }

  const k3s = await fixturePlan('/etc/coredns/Corefile', mounted('k3s', '/etc/coredns'));
  assert.deepEqual(
    names(k3s),
    ['reload', 'ready', 'health', 'prometheus', 'errors', 'log', 'loadbalance', 'cache', 'hosts', 'kubernetes', 'loop', 'forward'],
    'k3s: the custom log override is spliced in',
  );
  assert.deepEqual(
    k3s.stubDomains.map((f) => f.zone),
    ['lab.internal'],
    'k3s: the custom .server block is a stub domain',
  );

  const aks = await fixturePlan('/etc/coredns/Corefile', mounted('aks', '/etc/coredns'));
  assert.deepEqual(names(aks), [
    'reload',
    'ready',
    'health',
    'prometheus',
    'errors',
    'loadbalance',
    'cache',
    'rewrite',
    'template',
    'template',
    'hosts',
    'kubernetes',
    'loop',
    'forward',
  ]);
  assert.deepEqual(
    aks.stubDomains.map((f) => f.zone),
    ['corp.example'],
  );

  // node-cache fills its placeholders before CoreDNS reads the file; unfilled, the TO is named.
  const text = readFileSync(join(FIXTURES, 'nodelocaldns.Corefile'), 'utf8');
  await assert.rejects(planOf(text), { message: `${FILE}:10: forward: not an IP address or file: "__PILLAR__CLUSTER__DNS__"` });
  const filled = text.replaceAll('__PILLAR__CLUSTER__DNS__', '10.96.0.10').replaceAll('__PILLAR__UPSTREAM__SERVERS__', '/etc/resolv.conf');
  const node = await compile(await parseCorefileText(filled, FILE, memoryFs(BASE_FILES), { env: {} }), {
    fs: memoryFs(BASE_FILES),
    cwd: '/',
  });
  assert.deepEqual(
    node.servers.map((s) => s.listeners.map((l) => l.zone)),
    [['cluster.local'], ['in-addr.arpa'], ['ip6.arpa'], ['.']],
  );
  assert.deepEqual(
    node.forwardZones.map((f) => [f.zone, f.forward.forceTcp]),
    [
      ['cluster.local', true],
      ['in-addr.arpa', true],
      ['ip6.arpa', true],
      ['.', false],
    ],
  );
  assert.deepEqual(
    node.servers[0]?.bind.map((b) => (b.kind === 'address' ? b.address : b.name)),
    ['169.254.20.10', '10.96.0.10'],
  );
});
