// Bad configuration against the real binary (`src/main.ts`): objects of the wrong shape in a
// manifests file and a kubeconfig that cannot be read stop it at start with exit 2 and one line
// naming the problem; a manifests file broken while it runs keeps the last good index serving and
// says why in the log. (Bad flag values are covered flag by flag in test/config.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TYPE } from '../../src/dns/constants.ts';
import { queryUdp } from '../support/client.ts';
import { buildQuery, decode } from '../support/dns.ts';
import { runMain, startServer } from '../support/process.ts';

// No upstreams from the machine's resolv.conf: a start that got as far as the loop probe must
// still contact nothing but loopback.
const QUIET = ['--listen', '127.0.0.1:0', '--health', 'off', '--ready', 'off', '--metrics', 'off', '--resolv-conf', '/dev/null'];

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'cdns-badcfg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('manifests with objects of the wrong shape, and unreadable kubeconfigs: exit 2, one line naming the problem', async (t) => {
  const dir = scratch(t);
  const cases: Array<[string, string[], RegExp]> = [];
  const manifest = (name: string, yaml: string, message: RegExp) => {
    writeFileSync(join(dir, name), yaml);
    cases.push([name, ['--manifests', join(dir, name)], message]);
  };
  // Each of these used to start (a TypeError exit 1 with a stack, or SERVFAIL for every query of the name).
  manifest(
    'endpoints.yaml',
    'kind: EndpointSlice\nmetadata: {name: e, namespace: a}\nendpoints: 5\n',
    /^cluster-dns: --manifests: .*endpoints\.yaml: object 1: EndpointSlice a\/e: endpoints must be a list\n$/,
  );
  manifest(
    'ip.yaml',
    'kind: Namespace\nmetadata: {name: a}\n---\nkind: Service\nmetadata: {name: s, namespace: a}\nspec: {clusterIP: banana}\n',
    /^cluster-dns: --manifests: .*ip\.yaml: object 2: Service a\/s: spec\.clusterIP\(s\) "banana" is not an IP address\n$/,
  );
  manifest(
    'ns.json',
    JSON.stringify({ kind: 'Pod', metadata: { name: 'p', namespace: 7 } }),
    /^cluster-dns: --manifests: .*ns\.json: object 1: Pod p: metadata\.namespace must be a string\n$/,
  );
  manifest('json.json', '{"kind": "Service", ', /^cluster-dns: --manifests: .*json\.json: .*JSON/);
  // A kubeconfig that is a folder, one that is not YAML, one that names no server.
  mkdirSync(join(dir, 'kubeconfig.d'));
  cases.push(['kubeconfig folder', ['--kubeconfig', join(dir, 'kubeconfig.d')], /^cluster-dns: kubeconfig .*kubeconfig\.d: EISDIR/]);
  writeFileSync(join(dir, 'binary.kubeconfig'), Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x7b, 0x7b]));
  cases.push(['binary kubeconfig', ['--kubeconfig', join(dir, 'binary.kubeconfig')], /^cluster-dns: kubeconfig .*binary\.kubeconfig: /]);
  writeFileSync(
    join(dir, 'noserver.kubeconfig'),
    'apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts: [{name: c, context: {cluster: x, user: u}}]\nclusters: []\nusers: []\n',
  );
  cases.push([
    'kubeconfig without a server',
    ['--kubeconfig', join(dir, 'noserver.kubeconfig')],
    /^cluster-dns: kubeconfig .*noserver\.kubeconfig: /,
  ]);
  // A token for a remote API server over plain http would travel in clear text; loopback (kubectl proxy) is fine.
  const kubeconfig = (server: string) =>
    `apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts: [{name: c, context: {cluster: x, user: u}}]\nclusters: [{name: x, cluster: {server: "${server}"}}]\nusers: [{name: u, user: {token: secret}}]\n`;
  writeFileSync(join(dir, 'cleartext.kubeconfig'), kubeconfig('http://10.96.0.1:6443'));
  cases.push([
    'token over plain http',
    ['--kubeconfig', join(dir, 'cleartext.kubeconfig')],
    /^cluster-dns: kubeconfig .*cleartext\.kubeconfig: refusing to send the user's credentials to http:\/\/10\.96\.0\.1:6443/,
  ]);

  // Three at a time, each given 30 s: a start-up on a busy 2-core machine can take seconds.
  const results: Awaited<ReturnType<typeof runMain>>[] = [];
  for (let i = 0; i < cases.length; i += 3) {
    results.push(...(await Promise.all(cases.slice(i, i + 3).map(([, argv]) => runMain([...argv, ...QUIET], 30_000)))));
  }
  results.forEach((result, i) => {
    const [what, , message] = cases[i]!;
    assert.equal(result.code, 2, `${what}: exit 2 (stderr: ${result.stderr})`);
    assert.match(result.stderr, message, what);
    assert.equal(result.stderr.trim().split('\n').length, 1, `${what}: one line`);
  });
});

test('a manifests file broken while serving: the last good index keeps answering, the log says why, a fix is picked up', async (t) => {
  const dir = scratch(t);
  const file = join(dir, 'cluster.yaml');
  const good = (ip: string) =>
    `kind: Namespace\nmetadata: {name: a}\n---\nkind: Service\nmetadata: {name: s, namespace: a}\nspec: {clusterIP: ${ip}}\n`;
  writeFileSync(file, good('10.0.0.1'));
  const server = await startServer(['--manifests', file]);
  t.after(() => server.stop());
  const answer = async () => {
    const reply = await queryUdp(server.dns, buildQuery('s.a.svc.cluster.local', TYPE.A), 1_000);
    assert.ok(reply);
    return decode(reply).answer;
  };
  const logged = async (pattern: RegExp, after: number) => {
    // The file is polled once a second: wait up to 5 s for its log line.
    for (let i = 0; i < 100; i++) {
      const line = server
        .stdout()
        .slice(after)
        .split('\n')
        .find((l) => pattern.test(l));
      if (line) return JSON.parse(line) as { msg: string; err?: string; path: string };
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`no log line matching ${pattern}: ${server.stdout().slice(after)}`);
  };
  assert.deepEqual(await answer(), ['s.a.svc.cluster.local. 5 IN A 10.0.0.1']);

  for (const [broken, why] of [
    ['kind: Service\nmetadata: {name: [broken\n', /cluster\.yaml: /],
    [good('banana'), /cluster\.yaml: object 2: Service a\/s: spec\.clusterIP\(s\) "banana" is not an IP address/],
  ] as const) {
    const mark = server.stdout().length;
    writeFileSync(file, broken);
    const line = await logged(/"msg":"manifests reload failed; keeping the last good index"/, mark);
    assert.match(line.err ?? '', why);
    assert.deepEqual(await answer(), ['s.a.svc.cluster.local. 5 IN A 10.0.0.1'], 'the last good index still answers');
  }

  const mark = server.stdout().length;
  writeFileSync(file, good('10.0.0.2'));
  await logged(/"msg":"manifests reloaded"/, mark);
  assert.deepEqual(await answer(), ['s.a.svc.cluster.local. 5 IN A 10.0.0.2']);
});

test('upstreams no resolver can be at, and stub domains inside the cluster zone: exit 2 at start, one line naming the flag', async () => {
  const cases: Array<[string[], RegExp]> = [
    // Port 0 used to crash at start with ERR_SOCKET_BAD_PORT and a stack trace.
    [['--upstream', '127.0.0.1:0'], /^cluster-dns: --upstream: "127\.0\.0\.1:0": the port must be an integer from 1 to 65535/],
    [['--upstream', '0.0.0.0'], /^cluster-dns: --upstream: "0\.0\.0\.0": 0\.0\.0\.0 is the unspecified address/],
    [['--upstream', '[::]:53'], /^cluster-dns: --upstream: "\[::\]:53": :: is the unspecified address/],
    [['--upstream', '255.255.255.255'], /^cluster-dns: --upstream: .* is the broadcast address/],
    [['--upstream', '224.0.0.251:5353'], /^cluster-dns: --upstream: .* is a multicast address/],
    [['--stub-domain', 'corp.example=127.0.0.1:0'], /^cluster-dns: --stub-domain: "127\.0\.0\.1:0": the port must be/],
    [['--stub-domain', 'corp.example=ff02::1'], /^cluster-dns: --stub-domain: .* is a multicast address/],
    [['--stub-domain', 'cluster.local=127.0.0.1'], /^cluster-dns: --stub-domain: cluster\.local is inside the cluster zone cluster\.local/],
    [['--stub-domain', 'x.svc.cluster.local=127.0.0.1'], /^cluster-dns: --stub-domain: x\.svc\.cluster\.local is inside the cluster zone/],
  ];
  // Three at a time, each given 30 s: a start-up on a busy 2-core machine can take seconds.
  const results: Awaited<ReturnType<typeof runMain>>[] = [];
  for (let i = 0; i < cases.length; i += 3) {
    results.push(...(await Promise.all(cases.slice(i, i + 3).map(([argv]) => runMain([...argv, ...QUIET], 30_000)))));
  }
  results.forEach((result, i) => {
    const [argv, message] = cases[i]!;
    const what = argv.join(' ');
    assert.equal(result.code, 2, `${what}: exit 2 (stderr: ${result.stderr})`);
    assert.match(result.stderr, message, what);
    assert.equal(result.stderr.trim().split('\n').length, 1, `${what}: one line`);
  });
});
