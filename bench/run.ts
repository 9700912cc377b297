// The benchmark (`npm run bench`): the synthetic cluster (100 namespaces, 10,000 Services with
// named ports, every tenth headless with endpoints, their EndpointSlices, 150,000 Pods) loaded
// through the kube-apiserver double; the production build pinned to CPU 0; dnsperf pinned to
// CPU 1; Knot DNS on the same data and the same CPU when knotd is installed, for a ratio taken in
// the same run. Prints a table and a JSON object. Loopback only; every phase bounded.
//   npm run bench [-- --runs 5 --duration 10 --pods 150000 --quick --no-knot --workers 1]
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TYPE } from '../src/dns/constants.ts';
import { buildQuery, decode } from '../test/support/dns.ts';
import { FakeApiServer, service, type ApiObject } from '../test/support/apiserver.ts';
import { percentile, rssMiB } from '../test/support/load.ts';
import { a as aRecord, FakeUpstream } from '../test/support/upstream.ts';
import { knotZone } from './knot-zone.ts';
import { clusterObjects, EXTERNAL_NAMES, queryLines } from './synthetic.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    duration: { type: 'string', default: '10' },
    pods: { type: 'string', default: '150000' },
    changes: { type: 'string', default: '200' },
    quick: { type: 'boolean', default: false },
    'no-knot': { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    workers: { type: 'string', default: '1' },
  },
});
const quick = values.quick;
const runs = quick ? 2 : Number(values.runs);
const duration = quick ? 3 : Number(values.duration);
const pods = quick ? 15_000 : Number(values.pods);
const changes = quick ? 40 : Number(values.changes);
const workers = Number(values.workers);
const root = new URL('..', import.meta.url).pathname;
const node = process.execPath;
const work = mkdtempSync(join(tmpdir(), 'cdns-bench-'));
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}
if (!have('dnsperf')) {
  log('dnsperf is missing: installing the Debian package (apt-get install -y dnsperf knot)');
  spawnSync('sh', ['-c', 'apt-get update -qq && apt-get install -y -qq dnsperf knot'], { stdio: 'inherit' });
  if (!have('dnsperf')) {
    log('no dnsperf: install it (Debian: apt-get install dnsperf) and run again');
    process.exit(2);
  }
}
const pinnable = have('taskset');
const pin = (cpu: number, cmd: string, args: string[]): [string, string[]] => (pinnable ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, args]);
// This process (the apiserver double, the fake upstream, the probes) stays off the server's core.
if (pinnable) spawnSync('taskset', ['-pc', '1', String(process.pid)], { stdio: 'ignore' });

interface Dnsperf {
  qps: number;
  lost: number;
  latencies: number[];
}
function dnsperf(port: number, file: string, seconds: number, extra: string[] = []): Dnsperf {
  const [cmd, args] = pin(1, 'dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', file, '-l', String(seconds), '-c', '8', '-q', '500', '-T', '1', ...extra]);
  const out = execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, timeout: (seconds + 30) * 1000 });
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
  const lost = Number(/Queries lost:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const latencies = extra.includes('-v') ? [...out.matchAll(/^> \S+ \S+ \S+ ([\d.]+)$/gm)].map((m) => Number(m[1]) * 1e6) : [];
  return { qps, lost, latencies };
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

// ---- data ----
log(`generating the synthetic cluster (${pods} pods) and query files in ${work}`);
const objects = [...clusterObjects(pods)];
const clusterQueries = join(work, 'queries.txt');
const externalQueries = join(work, 'queries-external.txt');
writeFileSync(clusterQueries, `${queryLines(100_000, 0).join('\n')}\n`);
writeFileSync(externalQueries, `${queryLines(100_000, 0.2).join('\n')}\n`);

const api = await FakeApiServer.start({ bookmarkIntervalMs: 30_000 });
const loadStarted = performance.now();
for (const obj of objects) api.apply(obj as unknown as ApiObject);
log(`apiserver double loaded ${objects.length} objects in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s`);
const kubeconfig = api.writeKubeconfig(work);
const upstream = await FakeUpstream.start();
for (const [i, name] of EXTERNAL_NAMES.entries()) {
  upstream.set(name, { kind: 'answer', records: [aRecord(name, `192.0.2.${i + 1}`, 3600)] });
}

if (!values['no-build']) {
  log('building the production bundle (npm run build)');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
}

// ---- the server ----
const [serverCmd, serverArgs] = pin(0, node, [
  join(root, 'dist/main.js'),
  '--kubeconfig', kubeconfig,
  '--listen', '127.0.0.1:0',
  '--health', 'off',
  '--ready', '127.0.0.1:0',
  '--metrics', '127.0.0.1:0',
  '--upstream', `127.0.0.1:${upstream.port}`,
  ...(workers > 1 ? ['--workers', String(workers)] : []),
]);
const started = performance.now();
const server: ChildProcess = spawn(serverCmd, serverArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
let stdout = '';
server.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
server.stderr!.on('data', () => {});
const cleanup = () => {
  server.kill('SIGKILL');
};
process.on('exit', cleanup);
await waitFor('the serving line', () => stdout.includes('"msg":"serving"'), 30_000);
const serving = JSON.parse(stdout.split('\n').find((l) => l.includes('"msg":"serving"'))!) as {
  dns: { port: number }[];
  ready: { host: string; port: number };
  metrics: { host: string; port: number };
};
const port = serving.dns[0]!.port;
const readyUrl = `http://${serving.ready.host}:${serving.ready.port}/ready`;
await waitFor('ready', async () => (await fetch(readyUrl).then((r) => r.status).catch(() => 0)) === 200, 120_000);
const readySeconds = (performance.now() - started) / 1000;
const serverPid = Number(/"pid":(\d+)/.exec(stdout)?.[1] ?? server.pid);
// After the Pod list, the memory release runs once the lists settle.
await waitFor('the post-sync memory release', () => /"reasons":\[[^\]]*Pod synced/.test(stdout), 30_000).catch(() => log('no memory release logged'));
await sleep(2_000);
const rssAfterSync = rssMiB(serverPid);
log(`ready in ${readySeconds.toFixed(2)} s, RSS ${rssAfterSync.toFixed(0)} MiB`);

// ---- Knot on the same data ----
let knot: ChildProcess | null = null;
let knotPort = 0;
if (!values['no-knot'] && have('knotd')) {
  const dir = join(work, 'knot');
  mkdirSync(join(dir, 'run/knot/db'), { recursive: true });
  writeFileSync(join(dir, 'cluster.local.zone'), knotZone(objects));
  knotPort = 20_000 + Math.floor(Math.random() * 20_000);
  const template = existsSync(join(root, '../shared/bench/knot.conf.in'))
    ? readFileSync(join(root, '../shared/bench/knot.conf.in'), 'utf8')
    : 'server:\n    rundir: "@RUN@/knot"\n    listen: 127.0.0.1@5301\n    udp-workers: 1\n    tcp-workers: 1\n    background-workers: 1\ndatabase:\n    storage: "@RUN@/knot/db"\ntemplate:\n  - id: default\n    storage: "@DATA@"\n    semantic-checks: off\n    zonefile-sync: -1\n    zonefile-load: whole\n    journal-content: none\nzone:\n  - domain: cluster.local\n    file: cluster.local.zone\n';
  writeFileSync(join(dir, 'knot.conf'), template.replaceAll('@DATA@', dir).replaceAll('@RUN@', join(dir, 'run')).replace('127.0.0.1@5301', `127.0.0.1@${knotPort}`));
  const [kcmd, kargs] = pin(0, 'knotd', ['-c', join(dir, 'knot.conf')]);
  knot = spawn(kcmd, kargs, { stdio: 'ignore' });
  process.on('exit', () => knot?.kill('SIGKILL'));
  await waitFor('knotd', () => spawnSync('dig', ['+short', '+time=1', '+tries=1', '-p', String(knotPort), '@127.0.0.1', 'svc-1.ns-1.svc.cluster.local', 'A']).stdout.toString().trim() !== '', 60_000);
  log(`knotd serving the same cluster on ${knotPort}`);
} else {
  log('knotd not installed (apt-get install knot): no ratio this time');
}

// ---- throughput: ours and Knot's alternating, median of runs ----
const ours: number[] = [];
const theirs: number[] = [];
for (let r = 0; r < runs; r++) {
  ours.push(dnsperf(port, clusterQueries, duration).qps);
  if (knot) theirs.push(dnsperf(knotPort, clusterQueries, duration).qps);
  log(`run ${r + 1}/${runs}: cluster-dns ${ours.at(-1)!.toFixed(0)} QPS${knot ? `, knot ${theirs.at(-1)!.toFixed(0)} QPS` : ''}`);
}
// Cache hits: 20 % external names, answered from the cache after their first query.
dnsperf(port, externalQueries, 2);
const cached: number[] = [];
for (let r = 0; r < runs; r++) cached.push(dnsperf(port, externalQueries, duration).qps);

// ---- latency at a fixed 10k QPS ----
const fixed = dnsperf(port, clusterQueries, Math.min(duration, 10), ['-Q', '10000', '-v']);

// ---- a Service change to the answer changing, under 10k QPS of load ----
const loadRun = new Promise<void>((resolve) => {
  const [cmd, args] = pin(1, 'dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', clusterQueries, '-l', String(Math.ceil(changes * 0.05) + 15), '-c', '8', '-Q', '10000']);
  const p = spawn(cmd, args, { stdio: 'ignore' });
  p.on('exit', () => resolve());
  process.on('exit', () => p.kill('SIGKILL'));
});
await sleep(500);
const probe = createSocket('udp4');
await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
const changeLatencies: number[] = [];
let probeId = 0;
const askA = (name: string): Promise<string | null> =>
  new Promise((resolve) => {
    const id = (probeId = (probeId + 1) & 0xffff);
    const timer = setTimeout(() => {
      probe.off('message', on);
      resolve(null);
    }, 200);
    const on = (msg: Buffer) => {
      if (msg.readUInt16BE(0) !== id) return;
      clearTimeout(timer);
      probe.off('message', on);
      resolve(decode(msg).answer[0]?.split(' ').pop() ?? null);
    };
    probe.on('message', on);
    probe.send(buildQuery(name, TYPE.A, { id }), port, '127.0.0.1');
  });
for (let c = 0; c < changes; c++) {
  const n = c % 90; // a ClusterIP service (every tenth is headless)
  const svc = n % 10 === 9 ? n - 1 : n;
  const ip = `10.101.${c >> 8}.${c & 255}`;
  const name = `svc-${svc}.ns-${c % 100}.svc.cluster.local`;
  const t0 = performance.now();
  api.apply(service(`ns-${c % 100}`, `svc-${svc}`, { clusterIP: ip, ports: svc < 10 ? [{ name: 'http', port: 80, protocol: 'TCP' }] : [{ port: 8080, protocol: 'TCP' }] }));
  for (let tries = 0; tries < 2_000; tries++) {
    if ((await askA(name)) === ip) {
      changeLatencies.push(performance.now() - t0);
      break;
    }
  }
}
probe.close();
await loadRun;

// ---- peak RSS during a forced relist ----
const steady = rssMiB(serverPid);
api.apply(service('ns-0', 'relist-trigger', { clusterIP: '10.102.0.1' }));
api.compact();
api.dropWatches();
let peak = steady;
const relistStart = Date.now();
const relistsBefore = (stdout.match(/"msg":"relisted"/g) ?? []).length;
while (Date.now() - relistStart < 30_000) {
  peak = Math.max(peak, rssMiB(serverPid));
  if ((stdout.match(/"msg":"relisted"/g) ?? []).length >= relistsBefore + 4 && Date.now() - relistStart > 3_000) break;
  await sleep(10);
}
await sleep(2_000);
const afterRelist = rssMiB(serverPid);

// ---- report ----
const result = {
  date: new Date().toISOString().slice(0, 10),
  machine: `${(await import('node:os')).cpus().length} vCPU, ${(await import('node:os')).cpus()[0]?.model ?? '?'}`,
  node: process.version,
  cluster: { services: 10_000, pods, objects: objects.length },
  workers,
  qpsClusterMedian: Math.round(median(ours)),
  qpsClusterRuns: ours.map(Math.round),
  qpsKnotMedian: knot ? Math.round(median(theirs)) : null,
  ratioToKnot: knot ? +(median(ours) / median(theirs)).toFixed(3) : null,
  qpsCacheMixMedian: Math.round(median(cached)),
  cacheMixRatioToKnot: knot ? +(median(cached) / median(theirs)).toFixed(3) : null,
  latencyAt10kQps: { p50us: Math.round(percentile(fixed.latencies, 50)), p99us: Math.round(percentile(fixed.latencies, 99)), samples: fixed.latencies.length, lost: fixed.lost },
  readySeconds: +readySeconds.toFixed(2),
  rssAfterSyncMiB: Math.round(rssAfterSync),
  rssPeakDuringRelistMiB: Math.round(peak),
  relistPeakRatio: +(peak / steady).toFixed(2),
  rssAfterRelistMiB: Math.round(afterRelist),
  changeToAnswerMs: { p50: +percentile(changeLatencies, 50).toFixed(1), p99: +percentile(changeLatencies, 99).toFixed(1), changes: changeLatencies.length },
};
const rows: [string, string, string][] = [
  ['cluster-zone QPS (median)', String(result.qpsClusterMedian), knot ? `${result.ratioToKnot}× Knot (${result.qpsKnotMedian})` : ''],
  ['cache-hit mix QPS (median)', String(result.qpsCacheMixMedian), knot ? `${result.cacheMixRatioToKnot}× Knot` : ''],
  ['latency at 10k QPS', `p50 ${result.latencyAt10kQps.p50us} µs, p99 ${result.latencyAt10kQps.p99us} µs`, ''],
  ['ready after start', `${result.readySeconds} s`, ''],
  ['RSS after sync', `${result.rssAfterSyncMiB} MiB`, ''],
  ['peak RSS during a relist', `${result.rssPeakDuringRelistMiB} MiB`, `${result.relistPeakRatio}× steady`],
  ['Service change → answer', `p50 ${result.changeToAnswerMs.p50} ms, p99 ${result.changeToAnswerMs.p99} ms`, `${result.changeToAnswerMs.changes} changes`],
];
for (const [k, v, note] of rows) console.log(`${k.padEnd(28)} ${v.padEnd(28)} ${note}`);
console.log(JSON.stringify(result));
server.kill('SIGTERM');
knot?.kill('SIGTERM');
await upstream.close();
await api.close();
process.exit(0);
