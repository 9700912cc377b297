// Starting the real binary the way a newcomer does: no cluster source, an old Node, ports that
// are taken or privileged, the start-up lines and both log formats, and `npm start`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLED_EXAMPLE, IN_CLUSTER_TOKEN, type HostPort } from '../../src/config.ts';
import { TYPE } from '../../src/dns/constants.ts';
import { unsupportedNode } from '../../src/node-version.ts';
import { queryUdp } from '../support/client.ts';
import { buildQuery, decode } from '../support/dns.ts';
import { MAIN, runMain, startServer } from '../support/process.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OFF = ['--health', 'off', '--ready', 'off', '--metrics', 'off', '--resolv-conf', '/dev/null'];
const ENV = { PATH: process.env.PATH };

test('no cluster source: exit 2 with one line naming every source it looked for, nothing served', {
  skip: existsSync(IN_CLUSTER_TOKEN) && 'this machine has a service account token',
}, async () => {
  const result = await runMain(['--listen', '127.0.0.1:0', ...OFF], 30_000, ENV);
  assert.equal(result.code, 2, result.stderr);
  assert.equal(
    result.stderr,
    `cluster-dns: cluster source: none found (looked for --manifests, --kubeconfig, $KUBECONFIG and the service account token ${IN_CLUSTER_TOKEN}); for the example cluster give --manifests examples/cluster.yaml\n`,
  );
  assert.doesNotMatch(result.stdout, /"msg":"serving"/);
});

/** A node on this machine older than the floor (a fresh machine's Node 20), or null. */
function oldNode(): string | null {
  const found = spawnSync('sh', ['-c', 'which -a node'], { encoding: 'utf8' }).stdout.split('\n');
  for (const path of [...found, '/usr/bin/node', '/usr/local/bin/node']) {
    if (path === '' || !existsSync(path)) continue;
    const version = spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout.trim();
    if (version !== '' && unsupportedNode(version) !== null) return path;
  }
  return null;
}

test('an old Node: `node dist/main.js` says which Node it needs in one line and exits 2, before loading anything that would crash', async (t) => {
  const old = oldNode();
  if (old === null) {
    t.skip('no Node older than the floor on this machine');
    return;
  }
  // The real build (tsc -p tsconfig.build.json) beside the project's package.json and modules.
  const dir = mkdtempSync(join(tmpdir(), 'cdns-dist-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync(join(ROOT, 'node_modules/.bin/tsc'), [
    '-p',
    join(ROOT, 'tsconfig.build.json'),
    '--outDir',
    join(dir, 'dist'),
    '--sourceMap',
    'false',
  ]);
  copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const main = join(dir, 'dist/main.js');

  const version = execFileSync(old, ['--version'], { encoding: 'utf8' }).trim();
  for (const args of [
    ['--kubeconfig', '/nonexistent'],
    ['--version'],
    ['--manifests', BUNDLED_EXAMPLE, '--listen', '127.0.0.1:0', ...OFF],
  ]) {
    const exit: SpawnSyncReturns<string> = spawnSync(old, [main, ...args], { encoding: 'utf8', timeout: 30_000, env: ENV });
    assert.equal(exit.status, 2, `${old} ${args.join(' ')}: ${exit.stderr}`);
    assert.equal(
      exit.stderr,
      `cluster-dns needs Node.js >= 22.18 (this is ${version}): run it through npm scripts or node_modules/.bin/node\n`,
    );
    assert.equal(exit.stdout, '');
  }
  // The same build on this Node goes on past the check.
  const current = spawnSync(process.execPath, [main, '--version'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(current.status, 0, current.stderr);
  assert.equal(
    current.stdout,
    `cluster-dns ${(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version}\n`,
  );
});

async function occupied(t: { after: (fn: () => void) => void }): Promise<number> {
  const server: Server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  return (server.address() as { port: number }).port;
}

test('a port already taken: exit 2 with one line naming the flag and the address', async (t) => {
  const port = await occupied(t);
  const at = `127.0.0.1:${port}`;
  const base = ['--manifests', BUNDLED_EXAMPLE, '--resolv-conf', '/dev/null'];
  const cases: [string, string[]][] = [
    ['--listen', ['--listen', at, '--health', 'off', '--ready', 'off', '--metrics', 'off']],
    ['--health', ['--listen', '127.0.0.1:0', '--health', at, '--ready', 'off', '--metrics', 'off']],
    ['--ready', ['--listen', '127.0.0.1:0', '--health', 'off', '--ready', at, '--metrics', 'off']],
    ['--metrics', ['--listen', '127.0.0.1:0', '--health', 'off', '--ready', 'off', '--metrics', at]],
  ];
  const results = await Promise.all(cases.map(([, args]) => runMain([...base, ...args], 30_000)));
  results.forEach((result, i) => {
    const flag = cases[i]![0];
    assert.equal(result.code, 2, `${flag}: ${result.stderr}`);
    assert.equal(result.stderr, `cluster-dns: ${flag} ${at}: address already in use\n`);
  });
});

test('a privileged port without the right: the hint says root or CAP_NET_BIND_SERVICE', async (t) => {
  const unprivilegedFrom = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
  const setpriv = spawnSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8' }).stdout.trim();
  const root = process.getuid?.() === 0;
  if (unprivilegedFrom < 1024 || (root && setpriv === '')) {
    t.skip(unprivilegedFrom < 1024 ? `this kernel lets anyone bind from port ${unprivilegedFrom}` : 'root without setpriv to drop it');
    return;
  }
  // A port that only root may bind, on loopback; as root, the server runs as nobody.
  const port = 600 + Math.floor(Math.random() * 400);
  const as = (args: string[]) => {
    const command = root ? [setpriv, '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath] : [process.execPath];
    return spawnSync(command[0]!, [...command.slice(1), MAIN, '--manifests', BUNDLED_EXAMPLE, '--resolv-conf', '/dev/null', ...args], {
      encoding: 'utf8',
      timeout: 30_000,
      cwd: tmpdir(),
      env: ENV,
    });
  };
  const hint = 'permission denied: ports below 1024 need root or the CAP_NET_BIND_SERVICE capability';
  const dns = as(['--listen', `127.0.0.1:${port}`, '--health', 'off', '--ready', 'off', '--metrics', 'off']);
  assert.equal(dns.status, 2, dns.stderr);
  assert.equal(dns.stderr, `cluster-dns: --listen 127.0.0.1:${port}: ${hint}\n`);
  const metrics = as(['--listen', '127.0.0.1:0', '--health', 'off', '--ready', 'off', '--metrics', `127.0.0.1:${port}`]);
  assert.equal(metrics.status, 2, metrics.stderr);
  assert.equal(metrics.stderr, `cluster-dns: --metrics 127.0.0.1:${port}: ${hint}\n`);
});

test('start-up: a short starting line (version, node, source, listen, upstreams), bound addresses in serving, the whole config at debug', async (t) => {
  const server = await startServer(['--manifests', BUNDLED_EXAMPLE, '--log-level', 'debug', '--upstream', '127.0.0.1:9']);
  t.after(() => server.stop());
  const lines = server
    .stdout()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const line = (msg: string) => {
    const found = lines.find((l) => l.msg === msg);
    assert.ok(found, `a "${msg}" line in ${server.stdout()}`);
    return found;
  };
  const starting = line('starting');
  assert.deepEqual(Object.keys(starting).sort(), ['level', 'listen', 'msg', 'node', 'service', 'source', 'time', 'upstreams', 'version']);
  assert.deepEqual(
    [starting.node, starting.source, starting.listen, starting.upstreams],
    [process.version, `--manifests ${BUNDLED_EXAMPLE}`, ['127.0.0.1:0'], ['127.0.0.1:9']],
  );
  assert.ok(JSON.stringify(starting).length < 400, `${JSON.stringify(starting).length} characters`);
  const serving = line('serving');
  assert.deepEqual(Object.keys(serving).sort(), ['debug', 'dns', 'health', 'level', 'metrics', 'msg', 'ready', 'service', 'time', 'udpIo']);
  assert.deepEqual(
    (serving.dns as HostPort[]).map((a) => a.host),
    ['127.0.0.1'],
  );
  assert.ok((serving.dns as HostPort[])[0]!.port > 0, 'port 0 resolved');
  const config = line('config');
  assert.equal(config.level, 'debug');
  assert.equal((config.config as { zone: string }).zone, 'cluster.local');
  assert.deepEqual((config.config as { forward: { upstreams: HostPort[] } }).forward.upstreams, [{ host: '127.0.0.1', port: 9 }]);
  // At the default level there is no config line.
  const quiet = await startServer(['--manifests', BUNDLED_EXAMPLE]);
  t.after(() => quiet.stop());
  assert.doesNotMatch(quiet.stdout(), /"msg":"config"/);
});

test('--log-format text: ISO time, level name, message and key=value, one line each', async (t) => {
  const child = spawn(
    process.execPath,
    [MAIN, '--manifests', BUNDLED_EXAMPLE, '--listen', '127.0.0.1:0', ...OFF, '--lameduck', '0', '--log-format', 'text', '--log-queries'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: ENV,
    },
  );
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 30_000;
  while (!/ INFO +serving /.test(out) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
  const serving = / INFO +serving dns=127\.0\.0\.1:(\d+) /.exec(out);
  assert.ok(serving, out);
  const reply = await queryUdp({ host: '127.0.0.1', port: Number(serving[1]) }, buildQuery('web.shop.svc.cluster.local', TYPE.A));
  assert.ok(reply);
  assert.equal(decode(reply).rcode, 'NOERROR');
  while (!/ query /.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const lines = out.split('\n').filter((l) => l !== '');
  for (const l of lines) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO|WARN) +(\[[a-z]+\] )?[a-z]/, l);
  assert.match(out, / INFO +starting version=\S+ node=v\S+ source="--manifests [^"]+" listen=127\.0\.0\.1:0 upstreams=\[\]\n/);
  assert.match(
    out,
    / INFO +\[query\] query remote=127\.0\.0\.1 id=\d+ name=web\.shop\.svc\.cluster\.local\. type=A proto=udp do=false rcode=NOERROR plugin=kubernetes rsize=\d+ ms=[\d.]+\n/,
  );
  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0);
});

const npm = spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim();

/** Every process below `pid` (Linux /proc). */
function descendants(pid: number): number[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return children.flatMap((c) => [c, ...descendants(c)]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('npm start: flags after -- replace its defaults, and SIGTERM to npm stops the server and frees its ports', {
  skip: npm === '' && 'no npm',
}, async (t) => {
  const child = spawn(
    npm,
    [
      'start',
      '--silent',
      '--',
      '--listen',
      '127.0.0.1:0',
      '--health',
      '127.0.0.1:0',
      '--ready',
      '127.0.0.1:0',
      '--metrics',
      '127.0.0.1:0',
      '--resolv-conf',
      '/dev/null',
      '--lameduck',
      '0',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: ENV },
  );
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const deadline = Date.now() + 30_000;
  while (!out.includes('"msg":"serving"') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
  const line = out.split('\n').find((l) => l.includes('"msg":"serving"'));
  assert.ok(line, `no serving line: ${out}${err}`);
  const serving = JSON.parse(line) as { dns: HostPort[]; metrics: HostPort };
  // Whatever npm started is ours to stop, even when the test fails.
  const started = descendants(child.pid!);
  assert.ok(started.length > 0);
  t.after(() => {
    for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });
  assert.equal(serving.dns.length, 1, '--listen replaced the default instead of adding to it');
  assert.equal(serving.dns[0]!.host, '127.0.0.1');
  assert.notEqual(serving.dns[0]!.port, 1053);
  assert.equal(serving.metrics.host, '127.0.0.1');
  const reply = await queryUdp(serving.dns[0]!, buildQuery('web.shop.svc.cluster.local', TYPE.A));
  assert.ok(reply, 'it serves the example cluster');
  assert.deepEqual(decode(reply).answer, ['web.shop.svc.cluster.local. 5 IN A 10.96.10.20']);
  assert.match(
    err,
    new RegExp(`dig @127\\.0\\.0\\.1 -p ${serving.dns[0]!.port} web\\.shop\\.svc\\.cluster\\.local A`),
    'the dig commands name the port',
  );

  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0, err);
  assert.deepEqual(started.filter(alive), [], 'nothing npm started is left running');
  // The server was npm's child: with npm gone, its ports are free (TCP bind succeeds) and nothing answers.
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(serving.dns[0]!.port, '127.0.0.1', () => resolve());
  });
  probe.close();
  assert.equal(
    await queryUdp(serving.dns[0]!, buildQuery('web.shop.svc.cluster.local', TYPE.A), 300),
    null,
    'nothing answers after npm stopped',
  );
});
