// `cluster-dns --check --conf FILE`, as an operator runs it: every fixture Corefile loads and
// prints its options with their lines; every kind of bad input exits 2 with one line naming the
// file and line. --check binds nothing and contacts nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runMain } from '../support/process.ts';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/corefiles');
// No cluster source needed for --check; no upstream is ever asked.
const QUIET = ['--check'];

test('every fixture Corefile of a distribution loads with --check; the options name their lines', async () => {
  const rows: { file: string; want: RegExp[]; why: string }[] = [
    {
      file: 'kubeadm.Corefile',
      want: [
        /^--ttl 30 +# .*kubeadm\.Corefile:10: kubernetes$/m,
        /^--max-concurrent 1000 /m,
        /plugins, in the order a query meets them: .*loadbalance/,
      ],
      why: 'kubeadm',
    },
    { file: 'k3s/Corefile', want: [/^--pods insecure /m, /hosts/], why: 'k3s with NodeHosts and the custom imports' },
    { file: 'rke2.Corefile', want: [/^--lameduck 10000ms /m], why: 'RKE2' },
    { file: 'eks.Corefile', want: [/^--ttl 5 +# .*CoreDNS's default/m], why: 'EKS: no ttl line' },
    { file: 'aks/Corefile', want: [/template/], why: 'AKS with coredns-custom' },
    { file: 'helm-default.Corefile', want: [/^--metrics 0\.0\.0\.0:9153 /m], why: "the CoreDNS chart's default" },
  ];
  for (let i = 0; i < rows.length; i += 3) {
    const results = await Promise.all(rows.slice(i, i + 3).map((row) => runMain(['--conf', join(FIXTURES, row.file), ...QUIET])));
    results.forEach((result, j) => {
      const row = rows[i + j]!;
      assert.equal(result.code, 0, `${row.why}: exit 0 (stderr: ${result.stderr})`);
      for (const want of row.want) assert.match(result.stdout, want, row.why);
    });
  }
});

test('--check with flags only prints them; a flag and a directive for one option exit 2 naming both', async () => {
  const flags = await runMain(['--ttl', '7', '--manifests', 'examples/cluster.yaml', ...QUIET]);
  assert.equal(flags.code, 0, flags.stderr);
  assert.match(flags.stdout, /^--ttl 7 +# flag$/m);
  const both = await runMain(['--conf', join(FIXTURES, 'kubeadm.Corefile'), '--ttl', '7', ...QUIET]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /^cluster-dns: --ttl: also set at .*kubeadm\.Corefile:10: kubernetes: set it in one place\n$/);
});

test('bad Corefiles: exit 2, one line naming the file and line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cdns-check-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  mkdirSync(join(dir, 'folder'));
  const rows: { why: string; path: string; error: RegExp }[] = [
    {
      why: 'unbalanced braces',
      path: write('open.Corefile', '.:53 {\n kubernetes cluster.local\n'),
      error: /open\.Corefile:\d+: .*(brace|})/,
    },
    {
      why: 'an unknown directive',
      path: write('unknown.Corefile', '.:53 {\n kubernetes cluster.local\n frobnicate\n}\n'),
      error: /unknown\.Corefile:3: unsupported directive "frobnicate"/,
    },
    {
      why: 'a bad argument',
      path: write('arg.Corefile', '.:53 {\n kubernetes cluster.local {\n  ttl forever\n }\n}\n'),
      error: /arg\.Corefile:3: kubernetes: /,
    },
    { why: 'an import loop', path: write('a.Corefile', 'import b.Corefile\n'), error: /Corefile:1: .*import/ },
    {
      why: 'a 10 MB Corefile',
      path: write('big.Corefile', `.:53 {\n${'# padding padding padding padding padding padding\n'.repeat(210_000)}}\n`),
      error: /big\.Corefile.*(MB|MiB|bytes|large|limit)/,
    },
    { why: 'a Corefile that is a directory', path: join(dir, 'folder'), error: /folder.*(directory|EISDIR|folder)/i },
    { why: 'no such file', path: join(dir, 'absent.Corefile'), error: /absent\.Corefile.*(ENOENT|no such file)/i },
    {
      why: 'a directive cluster-dns cannot do as written',
      path: write('prefetch.Corefile', '.:53 {\n kubernetes cluster.local\n cache {\n  prefetch 10 10m\n }\n}\n'),
      error: /prefetch\.Corefile:3: cache: prefetch DURATION is not supported/,
    },
  ];
  writeFileSync(join(dir, 'b.Corefile'), 'import a.Corefile\n');
  for (let i = 0; i < rows.length; i += 3) {
    const results = await Promise.all(rows.slice(i, i + 3).map((row) => runMain(['--conf', row.path, ...QUIET])));
    results.forEach((result, j) => {
      const row = rows[i + j]!;
      assert.equal(result.code, 2, `${row.why}: exit 2 (stdout: ${result.stdout.slice(0, 200)})`);
      assert.match(result.stderr, row.error, row.why);
      assert.equal(result.stderr.trim().split('\n').length, 1, `${row.why}: one line (${result.stderr})`);
    });
  }
});
