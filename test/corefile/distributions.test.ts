// The Corefiles distributions ship (test/fixtures/corefiles, the project's own renderings).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { filesRead, parseCorefile, parseCorefileText, printCorefile, type Corefile, type Directive } from '../../src/corefile/index.ts';
import { COREFILE_FIXTURES as FIXTURES, lines, located, memoryFs, mounted, shape } from '../support/corefile.ts';

const names = (ds: readonly Directive[]) => ds.map((d) => d.name);
const find = (ds: readonly Directive[], name: string) => ds.find((d) => d.name === name) as Directive;

async function roundTrips(cf: Corefile): Promise<void> {
  const again = await parseCorefileText(printCorefile(cf), '/printed/Corefile', memoryFs({}), { env: {} });
  assert.deepEqual(shape(again), shape(cf), `${cf.path} prints back to the same blocks`);
}

const KUBEADM_LINES = ['errors', 'health', 'ready', 'kubernetes', 'prometheus', 'forward', 'cache', 'loop', 'reload', 'loadbalance'];

test('kubeadm', async () => {
  const cf = await parseCorefile(join(FIXTURES, 'kubeadm.Corefile'));
  assert.deepEqual(shape(cf), [
    {
      keys: ['.:53'],
      lines: [
        'errors',
        ['health', ['lameduck 5s']],
        'ready',
        ['kubernetes cluster.local in-addr.arpa ip6.arpa', ['pods insecure', 'fallthrough in-addr.arpa ip6.arpa', 'ttl 30']],
        'prometheus :9153',
        ['forward . /etc/resolv.conf', ['max_concurrent 1000']],
        ['cache 30', ['disable success cluster.local', 'disable denial cluster.local']],
        'loop',
        'reload',
        'loadbalance',
      ],
    },
  ]);
  assert.deepEqual(cf.warnings, []);
  await roundTrips(cf);
});

test('k3s: NodeHosts, and coredns-custom imported inside the block and at the top', async () => {
  const files = mounted('k3s', '/etc/coredns');
  const cf = await parseCorefile('/etc/coredns/Corefile', memoryFs(files), { env: {} });
  assert.deepEqual(
    shape(cf).map((b) => b.keys),
    [['.:53'], ['lab.internal:53']],
  );
  const main = cf.blocks[0]!.directives;
  assert.deepEqual(names(main), [
    'errors',
    'health',
    'ready',
    'kubernetes',
    'hosts',
    'prometheus',
    'forward',
    'cache',
    'loop',
    'reload',
    'loadbalance',
    'log',
  ]);
  assert.deepEqual(lines([find(main, 'hosts')]), [['hosts /etc/coredns/NodeHosts', ['ttl 60', 'reload 15s', 'fallthrough']]]);
  assert.deepEqual(
    located(cf).find((d) => d.name === 'log'),
    { name: 'log', at: '/etc/coredns/custom/querylog.override:1', via: ['/etc/coredns/Corefile:20'] },
  );
  assert.deepEqual(lines(cf.blocks[1]!.directives), ['errors', 'cache 30', 'forward . 10.1.0.53']);
  assert.deepEqual(
    [cf.blocks[1]!.file, cf.blocks[1]!.via],
    ['/etc/coredns/custom/lab.server', [{ file: '/etc/coredns/Corefile', line: 22 }]],
  );
  assert.deepEqual(
    filesRead(cf),
    ['/etc/coredns/Corefile', '/etc/coredns/custom/querylog.override', '/etc/coredns/custom/lab.server'],
    "NodeHosts is the hosts directive's file, not read here",
  );
  assert.deepEqual(
    cf.globs.map((g) => g.pattern),
    ['/etc/coredns/custom/*.override', '/etc/coredns/custom/*.server'],
  );
  await roundTrips(cf);

  // A fresh k3s has no coredns-custom ConfigMap: both globs match nothing.
  const bare = await parseCorefile('/etc/coredns/Corefile', memoryFs({ '/etc/coredns/Corefile': files['/etc/coredns/Corefile']! }), {
    env: {},
  });
  assert.deepEqual(
    shape(bare).map((b) => b.keys),
    [['.:53']],
  );
  assert.deepEqual(
    bare.warnings.map((w) => w.line),
    [20, 22],
  );
});

test('RKE2: double spaces and the cluster zone listed twice are read as written', async () => {
  const cf = await parseCorefile(join(FIXTURES, 'rke2.Corefile'));
  const main = cf.blocks[0]!.directives;
  assert.deepEqual(names(main), KUBEADM_LINES);
  assert.deepEqual(
    find(main, 'kubernetes').args,
    ['cluster.local', 'cluster.local', 'in-addr.arpa', 'ip6.arpa'],
    'the repeat is for the mapper to judge',
  );
  assert.deepEqual(find(main, 'prometheus').args, ['0.0.0.0:9153']);
  assert.deepEqual(lines([find(main, 'health')]), [['health', ['lameduck 10s']]]);
  await roundTrips(cf);
});

test('EKS: an oddly indented closing brace', async () => {
  const cf = await parseCorefile(join(FIXTURES, 'eks.Corefile'));
  const main = cf.blocks[0]!.directives;
  assert.deepEqual(names(main), KUBEADM_LINES);
  assert.deepEqual(lines([find(main, 'health'), find(main, 'kubernetes')]), [
    ['health', ['lameduck 5s']],
    ['kubernetes cluster.local in-addr.arpa ip6.arpa', ['pods insecure', 'fallthrough in-addr.arpa ip6.arpa']],
  ]);
  await roundTrips(cf);
});

test('AKS: relative coredns-custom imports, overrides spliced where the import stands', async () => {
  const cf = await parseCorefile(join(FIXTURES, 'aks', 'Corefile'));
  assert.deepEqual(
    shape(cf).map((b) => b.keys),
    [['.:53'], ['corp.example:53']],
  );
  const main = cf.blocks[0]!.directives;
  assert.deepEqual(names(main), [
    'errors',
    'ready',
    'health',
    'kubernetes',
    'prometheus',
    'forward',
    'cache',
    'loop',
    'reload',
    'loadbalance',
    'hosts',
    'rewrite',
    'template',
    'template',
  ]);
  assert.deepEqual(lines(main.slice(10, 12)), [
    ['hosts', ['10.2.0.10 build.corp.example', '10.2.0.11 cache.corp.example', 'fallthrough']],
    [
      'rewrite stop',
      [
        'name regex (.*)\\.corp\\.example {1}.default.svc.cluster.local',
        'answer name (.*)\\.default\\.svc\\.cluster\\.local {1}.corp.example',
      ],
    ],
  ]);
  assert.deepEqual(lines(main.slice(12)), [
    ['template ANY ANY internal.cloudapp.net', ['match ^(?:[^.]+\\.){4,}internal\\.cloudapp\\.net\\.$', 'rcode NXDOMAIN', 'fallthrough']],
    ['template ANY ANY reddog.microsoft.com', ['rcode NXDOMAIN']],
  ]);
  assert.deepEqual(lines(cf.blocks[1]!.directives), ['errors', 'cache 30', 'forward . 10.2.0.53']);
  assert.deepEqual(
    filesRead(cf).map((f) => f.slice(FIXTURES.length)),
    ['aks/Corefile', 'aks/custom/hosts.override', 'aks/custom/rewrite.override', 'aks/custom/stub.server'],
  );
  await roundTrips(cf);
});

test('NodeLocal DNSCache: four blocks bound to the node-local addresses', async () => {
  const cf = await parseCorefile(join(FIXTURES, 'nodelocaldns.Corefile'));
  assert.deepEqual(
    shape(cf).map((b) => b.keys),
    [['cluster.local:53'], ['in-addr.arpa:53'], ['ip6.arpa:53'], ['.:53']],
  );
  for (const block of cf.blocks) assert.deepEqual(find(block.directives, 'bind').args, ['169.254.20.10', '10.96.0.10']);
  assert.deepEqual(lines([find(cf.blocks[0]!.directives, 'cache'), find(cf.blocks[0]!.directives, 'forward')]), [
    ['cache', ['success 9984 30', 'denial 9984 5']],
    ['forward . __PILLAR__CLUSTER__DNS__', ['force_tcp']],
  ]);
  assert.deepEqual(find(cf.blocks[3]!.directives, 'forward').args, ['.', '__PILLAR__UPSTREAM__SERVERS__']);
  await roundTrips(cf);
});

test("the CoreDNS Helm chart's default, which ends without a newline", async () => {
  const text = readFileSync(join(FIXTURES, 'helm-default.Corefile'), 'utf8');
  assert.ok(text.endsWith('}'));
  const cf = await parseCorefile(join(FIXTURES, 'helm-default.Corefile'));
  assert.deepEqual(names(cf.blocks[0]!.directives), KUBEADM_LINES);
  assert.deepEqual(find(cf.blocks[0]!.directives, 'forward').block, null);
  await roundTrips(cf);
});
