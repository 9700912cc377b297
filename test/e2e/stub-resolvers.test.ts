// Real stub resolvers through a pod's resolv.conf: getaddrinfo() built against musl (which up to
// 1.2.3 never retries over TCP and uses what a truncated reply carries) and against glibc (which
// asks again over TCP) resolves a headless Service of 200 endpoints by its short name. The server
// and the clients share a private network namespace (its own loopback, where port 53 is free: a
// resolv.conf cannot name a port) and a private mount namespace (/etc/resolv.conf bind-mounted),
// so nothing of the machine's own resolver setup is touched.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, type ServerProcess } from '../support/process.ts';

const SOURCE = fileURLToPath(new URL('../fixtures/clients/resolve.c', import.meta.url));
const ENDPOINTS = 200;
const ADDRESSES = Array.from({ length: ENDPOINTS }, (_, i) => `10.244.${7 + (i >> 7)}.${(i & 127) + 1}`);
// What the kubelet writes for a pod of namespace `shop` (ClusterFirst).
const POD_RESOLV_CONF = 'search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 127.0.0.1\noptions ndots:5\n';

/** An executable on PATH (or in the sbin folders, where `ip` lives), or null. */
function which(name: string): string | null {
  const folders = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  for (const folder of folders) {
    const path = join(folder, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return null;
}

/** Why these tests cannot run here, or null. */
function missing(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (unshare, nsenter and mount in private namespaces)';
  for (const tool of ['unshare', 'nsenter', 'ip', 'mount']) {
    if (!which(tool)) return `${tool} is not installed (util-linux, iproute2)`;
  }
  const probe = spawnSync(which('unshare')!, ['--net', '--mount', '--', 'true'], { timeout: 10_000 });
  if (probe.status !== 0) return `unshare --net --mount fails here: ${probe.stderr?.toString().trim() || `exit ${probe.status}`}`;
  return null;
}

function manifests(dir: string): string {
  const endpoints = ADDRESSES.map((ip) => `  - addresses: [${ip}]\n    conditions: {ready: true}`).join('\n');
  const path = join(dir, 'shop.yaml');
  writeFileSync(
    path,
    'kind: Namespace\nmetadata: {name: shop}\n---\n' +
      'kind: Service\nmetadata: {name: web, namespace: shop}\nspec: {clusterIP: None, ports: [{name: http, port: 80}]}\n---\n' +
      'kind: EndpointSlice\napiVersion: discovery.k8s.io/v1\n' +
      'metadata: {name: web-1, namespace: shop, labels: {kubernetes.io/service-name: web}}\n' +
      `addressType: IPv4\nports: [{name: http, port: 8080, protocol: TCP}]\nendpoints:\n${endpoints}\n`,
  );
  return path;
}

/**
 * The server in a new network and mount namespace: loopback up, our resolv.conf (and a plain
 * `hosts: files dns` nsswitch.conf) bound over the machine's, listening on 127.0.0.1:53.
 */
async function serverInNamespaces(t: TestContext, dir: string): Promise<ServerProcess> {
  const resolvConf = join(dir, 'resolv.conf');
  writeFileSync(resolvConf, POD_RESOLV_CONF);
  const nsswitch = join(dir, 'nsswitch.conf');
  writeFileSync(nsswitch, 'hosts: files dns\n');
  const script = [
    `${which('ip')} link set lo up`,
    'mount --bind "$0" /etc/resolv.conf',
    `{ [ ! -e /etc/nsswitch.conf ] || mount --bind "$1" /etc/nsswitch.conf; }`,
    'shift',
    'exec "$@"',
  ].join(' && ');
  const wrapper = [which('unshare')!, '--net', '--mount', '--propagation', 'private', '--', 'sh', '-c', script, resolvConf, nsswitch];
  const server = await startServer(['--manifests', manifests(dir), '--listen', '127.0.0.1:53'], {}, 20_000, { wrapper });
  t.after(() => server.stop());
  return server;
}

/** Runs `binary NAME` inside the server's namespaces; its exit code and output. */
function resolveInside(
  server: ServerProcess,
  binary: string,
  name: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const args = ['--target', String(server.child.pid), '--net', '--mount', '--', binary, name];
  return new Promise((resolve) => {
    // Bounded: resolv.conf's default timeout and attempts (5 s × 2) fit well within it.
    execFile(which('nsenter')!, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function compile(compiler: string, dir: string, out: string, extra: string[]): string {
  const path = join(dir, out);
  const run = spawnSync(compiler, ['-O2', '-Wall', ...extra, '-o', path, SOURCE], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.status, 0, `${compiler} ${SOURCE}: ${run.stderr}`);
  return path;
}

const why = missing();

test('stub resolvers through a pod resolv.conf: musl gets the records a truncated reply carries, glibc all 200 over TCP', {
  skip: why ?? false,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cdns-clients-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const server = await serverInNamespaces(t, dir);
  const all = new Set(ADDRESSES);

  await t.test('musl', { skip: which('musl-gcc') ? false : 'musl-gcc is not installed (apt-get install musl-tools)' }, async () => {
    const binary = compile(which('musl-gcc')!, dir, 'resolve-musl', ['-static']);
    const got = await resolveInside(server, binary, 'web');
    assert.equal(got.code, 0, `musl: ${got.stderr.trim()}`);
    const addresses = got.stdout
      .trim()
      .split('\n')
      .filter((l) => l !== '');
    assert.ok(addresses.length > 0, 'musl gets addresses');
    for (const a of addresses) assert.ok(all.has(a), `${a} is an endpoint of web`);
    assert.equal(new Set(addresses).size, addresses.length, 'each once');
    t.diagnostic(`musl: ${addresses.length} of ${ENDPOINTS} addresses`);
  });

  await t.test('glibc', { skip: which('gcc') ? false : 'gcc is not installed' }, async () => {
    const binary = compile(which('gcc')!, dir, 'resolve-glibc', []);
    const got = await resolveInside(server, binary, 'web');
    assert.equal(got.code, 0, `glibc: ${got.stderr.trim()}`);
    const addresses = got.stdout
      .trim()
      .split('\n')
      .filter((l) => l !== '');
    assert.deepEqual([...new Set(addresses)].sort(), [...all].sort(), 'glibc retries over TCP and gets every endpoint');
  });

  // The machine's own resolv.conf was never touched.
  assert.ok(existsSync('/etc/resolv.conf'));
});
