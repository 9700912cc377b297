// Memory under load without the image's flags (issue 23, item 7): the production build started as
// a newcomer starts it, `node dist/main.js` with no Node flags and no malloc variables, against
// the kube-apiserver double with the synthetic cluster (150,000 pods), under dnsperf at a fixed
// rate with a Service and a Pod changed every second. RSS is read from /proc every second and
// printed every 10 s, with the peak. Loopback only; bounded by --duration (at most 10 minutes).
//   node bench/soak.ts [--duration 120] [--qps 5000] [--pods 150000] [--untuned] [--memory-limit 384Mi] [--dist DIR] [--no-build]
// --untuned sets CLUSTER_DNS_TUNED=1: the server runs exactly as started, as every build before
// main.ts re-executed itself did. --memory-limit passes the flag (as a 384Mi container would).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FakeApiServer, pod, service, type ApiObject } from '../test/support/apiserver.ts';
import { rssMiB } from '../test/support/load.ts';
import { log, pinSelf, sleep, startServer, until } from './stall.ts';
import { clusterObjects, queryLines } from './synthetic.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '120' },
    qps: { type: 'string', default: '5000' },
    pods: { type: 'string', default: '150000' },
    untuned: { type: 'boolean', default: false },
    'memory-limit': { type: 'string' },
    dist: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
  },
});
const root = new URL('..', import.meta.url).pathname;
const seconds = Math.max(10, Math.min(600, Number(values.duration)));
const pods = Number(values.pods);
if (spawnSync('sh', ['-c', 'command -v dnsperf']).status !== 0) {
  log('no dnsperf: install it (Debian: apt-get install dnsperf) and run again');
  process.exit(2);
}
if (!values['no-build'] && !values.dist) execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
pinSelf();

const work = mkdtempSync(join(tmpdir(), 'cdns-soak-'));
const queries = join(work, 'queries.txt');
writeFileSync(queries, `${queryLines(100_000, 0).join('\n')}\n`);
const api = await FakeApiServer.start({ bookmarkIntervalMs: 30_000 });
for (const obj of clusterObjects(pods)) api.apply(obj as unknown as ApiObject);
const server = await startServer({
  dist: values.dist ?? join(root, 'dist'),
  // No Node flags, no malloc variables: what `node dist/main.js` gets from a shell.
  env: { PATH: process.env.PATH, ...(values.untuned ? { CLUSTER_DNS_TUNED: '1' } : {}) },
  // debug: the config line says what memory settings the server runs with.
  args: [
    '--kubeconfig',
    api.writeKubeconfig(work),
    '--health',
    'off',
    '--ready',
    'off',
    '--metrics',
    'off',
    '--log-level',
    'debug',
    ...(values['memory-limit'] ? ['--memory-limit', values['memory-limit']] : []),
  ],
});
const pid = server.child.pid!;
try {
  await until('the sync', () => (server.stdout().match(/"msg":"synced"/g) ?? []).length >= 4, 90_000);
  await sleep(4_000);
  const starting = server.lines<{ memory?: { heapLimitMiB: number; nodeFlags: string[] } }>('config')[0]?.memory ?? null;
  const afterSync = +rssMiB(pid).toFixed(1);
  log(`synced; RSS ${afterSync} MiB; ${seconds} s of ${values.qps} QPS with a change a second`);
  const [cmd, args] = spawnSync('sh', ['-c', 'command -v taskset']).status === 0 ? ['taskset', ['-c', '1', 'dnsperf']] : ['dnsperf', []];
  const load = spawn(
    cmd,
    [...args, '-s', server.dns.host, '-p', String(server.dns.port), '-d', queries, '-l', String(seconds), '-c', '8', '-Q', values.qps],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  let loadOut = '';
  load.stdout!.on('data', (d: Buffer) => (loadOut += d.toString()));
  const loadDone = new Promise((r) => load.once('exit', r));
  const series: { t: number; rss: number }[] = [];
  const started = Date.now();
  for (let s = 1; s <= seconds; s++) {
    // A Service moves and a Pod is replaced: the prepared answers and the pod tables churn.
    api.apply(service(`ns-${s % 100}`, `svc-${s % 90}`, { clusterIP: `10.100.${200 + (s % 50)}.${s % 250}` }));
    api.apply(pod(`ns-${s % 100}`, `soak-${s % 1000}`, `10.250.${(s >> 8) & 255}.${s & 255}`));
    await sleep(Math.max(0, started + s * 1000 - Date.now()));
    series.push({ t: s, rss: +rssMiB(pid).toFixed(1) });
    if (s % 10 === 0) log(`t=${s}s RSS ${series.at(-1)!.rss} MiB`);
  }
  await Promise.race([loadDone, sleep(30_000)]);
  load.kill('SIGKILL');
  const rss = series.map((p) => p.rss);
  const secondHalf = rss.slice(rss.length >> 1);
  const result = {
    pods,
    qps: Number(values.qps),
    seconds,
    mode: values.untuned ? 'untuned (CLUSTER_DNS_TUNED=1, no flags)' : 'node dist/main.js, no flags (re-executes itself)',
    memoryLimit: values['memory-limit'] ?? null,
    build: values.dist ?? 'this branch',
    serverMemory: starting,
    rssAfterSyncMiB: afterSync,
    rssMaxMiB: Math.max(...rss),
    rssMinSecondHalfMiB: Math.min(...secondHalf),
    rssMaxSecondHalfMiB: Math.max(...secondHalf),
    rssEndMiB: rss.at(-1),
    dnsperf: {
      qps: Number(/Queries per second:\s+([\d.]+)/.exec(loadOut)?.[1] ?? Number.NaN),
      lost: Number(/Queries lost:\s+(\d+)/.exec(loadOut)?.[1] ?? Number.NaN),
    },
    every10s: series.filter((p) => p.t % 10 === 0).map((p) => p.rss),
  };
  process.stdout.write(
    `RSS after sync ${afterSync} MiB; under load: max ${result.rssMaxMiB}, second half ${result.rssMinSecondHalfMiB}-${result.rssMaxSecondHalfMiB}, end ${result.rssEndMiB} MiB\n`,
  );
  process.stdout.write(`every 10 s: ${result.every10s.join(' ')}\n`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await server.stop();
  await api.close();
}
