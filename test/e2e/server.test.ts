// The real server, started from `src/main.ts`, queried over the wire on loopback: UDP, TCP and
// dig, the way pods and operators reach it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TYPE } from '../../src/dns/constants.ts';
import { BUNDLED_EXAMPLE } from '../../src/config.ts';
import { buildQuery, decode } from '../support/dns.ts';
import { dig, digPath, queryTcp, queryTcpRaw, queryUdp, framed } from '../support/client.ts';
import { runMain, startServer, type ServerProcess } from '../support/process.ts';
import { cpuSeconds } from '../support/load.ts';
import { udpBatchAddon } from '../../src/server/udp-batch.ts';

async function withServer(t: { after: (fn: () => Promise<unknown>) => void }, args: string[]): Promise<ServerProcess> {
  const server = await startServer(args);
  t.after(() => server.stop());
  return server;
}

async function ask(server: ServerProcess, name: string, type: number, udpSize?: number) {
  const reply = await queryUdp(server.dns, buildQuery(name, type, udpSize === undefined ? {} : { udpSize }));
  assert.ok(reply, `a UDP reply for ${name}`);
  return decode(reply);
}

test('the bundled example answers over UDP and TCP, and start-up prints dig commands that work', async (t) => {
  const server = await withServer(t, ['--manifests', BUNDLED_EXAMPLE]);
  const a = await ask(server, 'web.shop.svc.cluster.local', TYPE.A);
  assert.equal(a.rcode, 'NOERROR');
  assert.equal(a.aa, true);
  assert.deepEqual(a.answer, ['web.shop.svc.cluster.local. 5 IN A 10.96.10.20']);

  const tcp = decode(await queryTcp(server.dns, buildQuery('web.shop.svc.cluster.local', TYPE.AAAA, { id: 77 })));
  assert.equal(tcp.id, 77);
  assert.deepEqual(tcp.answer, ['web.shop.svc.cluster.local. 5 IN AAAA fd00:10:96::20']);

  const nx = await ask(server, 'nope.shop.svc.cluster.local', TYPE.A);
  assert.equal(nx.rcode, 'NXDOMAIN');
  assert.equal(nx.authority.length, 1);

  const outside = await ask(server, 'example.com', TYPE.A);
  // startServer passes `--resolv-conf /dev/null`: no upstream at all, so a name outside the zone is
  // not ours to answer (test/e2e/forward.test.ts covers forwarding).
  assert.equal(outside.rcode, 'REFUSED', 'no upstreams: names outside the zone are refused');

  const printed = server
    .stderr()
    .split('\n')
    .filter((l) => l.trim().startsWith('dig '));
  assert.equal(printed.length, 3, server.stderr());
  if (!(await digPath())) {
    t.skip('dig is not installed (apt-get install bind9-dnsutils)');
    return;
  }
  for (const line of printed) {
    // The printed commands name 127.0.0.1:5353 only when that is where it listens; here the port is the kernel's.
    const args = line
      .trim()
      .split(/\s+/)
      .slice(1)
      .filter((a) => !a.startsWith('@'));
    const withoutPort = args.filter((a, i) => a !== '-p' && args[i - 1] !== '-p');
    const out = await dig(server.dns, withoutPort);
    assert.match(out, /status: NOERROR/, line);
    assert.match(out, /ANSWER: [1-9]/, line);
  }
});

test('dig over UDP and TCP: flags, sections and case as an operator sees them', async (t) => {
  if (!(await digPath())) {
    t.skip('dig is not installed (apt-get install bind9-dnsutils)');
    return;
  }
  const server = await withServer(t, ['--manifests', BUNDLED_EXAMPLE]);
  for (const transport of ['+notcp', '+tcp']) {
    const out = await dig(server.dns, [transport, 'Db-0.DB.data.svc.cluster.local', 'A']);
    assert.match(out, /flags: qr aa rd;/);
    assert.match(out, /Db-0\.DB\.data\.svc\.cluster\.local\.\s+5\s+IN\s+A\s+10\.244\.3\.20/);
    const srv = await dig(server.dns, [transport, '_postgres._tcp.db.data.svc.cluster.local', 'SRV']);
    assert.match(srv, /SRV\s+0 50 5432 db-0\.db\.data\.svc\.cluster\.local\./);
    assert.match(srv, /ADDITIONAL SECTION:\ndb-0\.db\.data\.svc\.cluster\.local\.\s+5\s+IN\s+A\s+10\.244\.3\.20/);
    const ptr = await dig(server.dns, [transport, '-x', '10.244.3.21']);
    assert.match(ptr, /PTR\s+db-1\.db\.data\.svc\.cluster\.local\./);
    const txt = await dig(server.dns, [transport, 'dns-version.cluster.local', 'TXT']);
    assert.match(txt, /28800\s+IN\s+TXT\s+"1\.1\.0"/);
  }
});

test('EDNS: OPT echoed, the client size honoured, 512 without EDNS, truncation sends clients to TCP', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cdns-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // A headless service with 60 ready endpoints: ~1 KB of A records.
  const endpoints = Array.from({ length: 60 }, (_, i) => `  - addresses: [10.244.9.${i + 1}]\n    conditions: {ready: true}`).join('\n');
  writeFileSync(
    join(dir, 'big.yaml'),
    `kind: Namespace\nmetadata: {name: big}\n---\nkind: Service\nmetadata: {name: many, namespace: big}\nspec: {clusterIP: None}\n---\n` +
      `kind: EndpointSlice\napiVersion: discovery.k8s.io/v1\nmetadata: {name: many-1, namespace: big, labels: {kubernetes.io/service-name: many}}\naddressType: IPv4\nendpoints:\n${endpoints}\n`,
  );
  const server = await withServer(t, ['--manifests', dir]);
  const name = 'many.big.svc.cluster.local';
  const classic = await ask(server, name, TYPE.A);
  assert.equal(classic.tc, true, 'over 512 bytes without EDNS: truncated');
  // The question takes 44 octets, an A record 16: 29 whole records fit (what musl, which never
  // retries over TCP, then resolves to).
  assert.equal(classic.answer.length, 29);
  assert.ok(classic.raw.length <= 512);
  const small = await ask(server, name, TYPE.A, 512);
  assert.equal(small.tc, true);
  assert.equal(small.optUdpSize, 1232, 'the OPT record stays in a truncated reply');
  const big = await ask(server, name, TYPE.A, 4096);
  assert.equal(big.tc, false);
  assert.equal(big.answer.length, 60);
  assert.equal(big.optUdpSize, 1232);
  const overTcp = decode(await queryTcp(server.dns, buildQuery(name, TYPE.A)));
  assert.equal(overTcp.tc, false);
  assert.equal(overTcp.answer.length, 60);
});

test('TCP: pipelined queries and a query split across writes on one connection', async (t) => {
  const server = await withServer(t, ['--manifests', BUNDLED_EXAMPLE]);
  const q1 = framed(buildQuery('web.shop.svc.cluster.local', TYPE.A, { id: 1 }));
  const q2 = framed(buildQuery('cache.data.svc.cluster.local', TYPE.A, { id: 2 }));
  const q3 = framed(buildQuery('payments.shop.svc.cluster.local', TYPE.A, { id: 3 }));
  const replies = await queryTcpRaw(server.dns, [Buffer.concat([q1, q2]), q3.subarray(0, 1), q3.subarray(1, 9), q3.subarray(9)], 3);
  const byId = new Map(replies.map((r) => [decode(r).id, decode(r)]));
  assert.deepEqual(byId.get(1)?.answer, ['web.shop.svc.cluster.local. 5 IN A 10.96.10.20']);
  assert.deepEqual(byId.get(2)?.answer, ['cache.data.svc.cluster.local. 5 IN A 10.96.20.30']);
  assert.deepEqual(byId.get(3)?.answer, ['payments.shop.svc.cluster.local. 5 IN CNAME payments.example.com.']);
});

test('a changed manifests file changes the answers; health and ready answer', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cdns-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'cluster.yaml');
  copyFileSync(BUNDLED_EXAMPLE, file);
  const server = await withServer(t, ['--manifests', file]);
  assert.equal((await ask(server, 'cache.data.svc.cluster.local', TYPE.A)).answer[0], 'cache.data.svc.cluster.local. 5 IN A 10.96.20.30');
  writeFileSync(
    file,
    readFileSync(file, 'utf8').replace(
      'clusterIP: 10.96.20.30\n  clusterIPs: [10.96.20.30]',
      'clusterIP: 10.96.20.31\n  clusterIPs: [10.96.20.31]',
    ),
  );
  let answer = '';
  for (let i = 0; i < 100; i++) {
    answer = (await ask(server, 'cache.data.svc.cluster.local', TYPE.A)).answer[0] ?? '';
    if (answer.endsWith('10.96.20.31')) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(answer, 'cache.data.svc.cluster.local. 5 IN A 10.96.20.31');

  const health = await fetch(`http://127.0.0.1:${server.health!.port}/health`);
  assert.equal(health.status, 200);
  assert.equal(await health.text(), 'OK');
  const ready = await fetch(`http://127.0.0.1:${server.ready!.port}/ready`);
  assert.equal(ready.status, 200);
  assert.equal(await server.stop(), 0, 'SIGTERM: a clean exit');
});

test('bad flags and bad manifests exit 2 with one line naming the problem', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cdns-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // Nothing bound but loopback DNS and nothing asked upstream: these runs must fail on their input alone.
  const OFFLINE = ['--listen', '127.0.0.1:0', '--resolv-conf', '/dev/null', '--health', 'off', '--ready', 'off', '--metrics', 'off'];
  const ttl = await runMain(['--ttl', 'soon']);
  assert.equal(ttl.code, 2);
  assert.equal(ttl.stderr, 'cluster-dns: --ttl: must be an integer from 0 to 3600 (got "soon")\n');
  const unknown = await runMain(['--colour']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^cluster-dns: --colour: unknown flag\n$/);
  writeFileSync(join(dir, 'bad.yaml'), 'kind: Service\nmetadata: {name: [oops\n');
  const bad = await runMain([
    '--manifests',
    join(dir, 'bad.yaml'),
    '--listen',
    '127.0.0.1:0',
    '--resolv-conf',
    '/dev/null',
    '--health',
    'off',
    '--ready',
    'off',
  ]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^cluster-dns: --manifests: .*bad\.yaml: /);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  // A manifests file whose YAML parses but whose objects are not Kubernetes objects.
  writeFileSync(join(dir, 'nameless.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {}\n');
  const nameless = await runMain(['--manifests', join(dir, 'nameless.yaml'), ...OFFLINE]);
  assert.equal(nameless.code, 2);
  assert.match(nameless.stderr, /^cluster-dns: --manifests: .*nameless\.yaml: object 1: Service without metadata\.name\n$/);
  // A kubeconfig that is not one, and one that names no cluster.
  writeFileSync(join(dir, 'garbage.kubeconfig'), '{{{ not yaml');
  const garbage = await runMain(['--kubeconfig', join(dir, 'garbage.kubeconfig'), ...OFFLINE]);
  assert.equal(garbage.code, 2);
  assert.match(garbage.stderr, /^cluster-dns: kubeconfig .*garbage\.kubeconfig: /);
  assert.equal(garbage.stderr.trim().split('\n').length, 1);
  writeFileSync(join(dir, 'empty.kubeconfig'), 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n');
  const empty = await runMain(['--kubeconfig', join(dir, 'empty.kubeconfig'), ...OFFLINE]);
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /no current context with a cluster server/);
  const missing = await runMain(['--kubeconfig', join(dir, 'absent.kubeconfig')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^cluster-dns: --kubeconfig: no such file: /);
  const help = await runMain(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--kubeconfig PATH/);
  const version = await runMain(['--version']);
  assert.match(version.stdout, /^cluster-dns \d+\.\d+\.\d+\n$/);
});

test('--udp-io batch and node: the same answers over the wire; the serving line says which path', async (t) => {
  const modes = udpBatchAddon() === null ? (['node'] as const) : (['batch', 'node'] as const);
  if (modes.length === 1) t.diagnostic('native/udp-batch.node is not built: only node:dgram checked');
  const answers: string[][] = [];
  for (const mode of modes) {
    const server = await withServer(t, ['--manifests', BUNDLED_EXAMPLE, '--udp-io', mode]);
    assert.match(server.stdout(), new RegExp(`"udpIo":"${mode}"`));
    const seen: string[] = [];
    for (const [name, type] of [
      ['web.shop.svc.cluster.local', TYPE.A],
      ['_postgres._tcp.db.data.svc.cluster.local', TYPE.SRV],
      ['nope.shop.svc.cluster.local', TYPE.A],
      ['web.shop.svc.cluster.local', TYPE.AAAA],
    ] as const) {
      const reply = await ask(server, name, type);
      seen.push(`${reply.rcode} ${reply.answer.join(' | ')}`);
    }
    assert.equal(seen[0], 'NOERROR web.shop.svc.cluster.local. 5 IN A 10.96.10.20');
    assert.match(seen[2] ?? '', /^NXDOMAIN/);
    answers.push(seen);
  }
  if (answers.length === 2) assert.deepEqual(answers[0], answers[1]);
  // With the default (auto) the addon is used whenever it was built.
  const auto = await withServer(t, ['--manifests', BUNDLED_EXAMPLE]);
  assert.match(auto.stdout(), new RegExp(`"udpIo":"${modes[0]}"`));
});

test('--busy-poll: answers as usual, and keeps the server on the CPU while queries keep coming', async (t) => {
  if (!existsSync('/proc/self/stat')) {
    t.skip("no /proc: cannot read the server's CPU time");
    return;
  }
  const cpuMs = (pid: number): number => cpuSeconds(pid) * 1000;
  // A query every 2 ms for 400 ms: the 5 ms window never closes, so a polling server stays on the CPU.
  const cpuUnderTrickle = async (server: ServerProcess): Promise<number> => {
    const a = await ask(server, 'web.shop.svc.cluster.local', TYPE.A);
    assert.deepEqual(a.answer, ['web.shop.svc.cluster.local. 5 IN A 10.96.10.20']);
    const before = cpuMs(server.child.pid!);
    const until = performance.now() + 400;
    while (performance.now() < until) {
      assert.equal((await ask(server, 'web.shop.svc.cluster.local', TYPE.A)).rcode, 'NOERROR');
      await sleep(2);
    }
    return cpuMs(server.child.pid!) - before;
  };
  const plain = await withServer(t, ['--manifests', BUNDLED_EXAMPLE]);
  const polling = await withServer(t, ['--manifests', BUNDLED_EXAMPLE, '--busy-poll', '5ms']);
  const plainMs = await cpuUnderTrickle(plain);
  const pollingMs = await cpuUnderTrickle(polling);
  // Alone on a core it takes ~400 ms; a quarter of that still tells polling from sleeping when
  // other tests share the machine (answering alone takes ~30-40 ms here).
  assert.ok(pollingMs >= 100, `polling: ${pollingMs} ms of CPU in 400 ms (plain: ${plainMs} ms)`);
  assert.ok(pollingMs > 2 * plainMs, `polling: ${pollingMs} ms of CPU, plain: ${plainMs} ms`);
});
