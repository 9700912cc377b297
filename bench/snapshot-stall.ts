// How long a --snapshot write holds the event loop (issue 23, item 5; goal: no stall over 5 ms at
// 150k pods). The production build is started against the kube-apiserver double with the
// synthetic cluster (10,000 Services, 150,000 Pods by default), with --snapshot-interval 1s; a
// Service is changed a few times, so each interval writes once, while a probe asks a cluster name
// every 5 ms. Printed: each write (bytes, time from start to end), and the probe's longest wait,
// p99 wait and longest gap between answers, inside the write windows and outside them.
// Loopback only; bounded (60 s to sync, 30 s a write).
//   node bench/snapshot-stall.ts [--pods 150000] [--writes 5] [--dist DIR] [--no-build]
// (--dist runs another build, e.g. main's, for the figure before.)
//
// On a shared machine the probe measures the neighbours as much as the server: a process that
// waits for a core shows the same gaps. So --in-process measures the loop itself as well: the
// same cluster in an index in this process, a write, and the longest turn of the event loop
// meanwhile (a setImmediate ticker), with the CPU time this process used in that turn.
//   node bench/snapshot-stall.ts --in-process [--pods 150000] [--writes 5] [--old-src DIR]
// (--old-src DIR: also time the writer of another checkout's src/cluster/snapshot.ts, e.g. main's.)
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ClusterIndex } from '../src/index/index.ts';
import { toRecord } from '../src/objects/kinds.ts';
import { writeSnapshot } from '../src/index/snapshot.ts';
import { FakeApiServer, service, type ApiObject } from '../test/support/apiserver.ts';
import { percentile } from '../test/support/load.ts';
import { imageRuntime } from './image.ts';
import { log, now, pinSelf, sleep, stallFigures, startProbe, startServer, until } from './stall.ts';
import { clusterObjects } from './synthetic.ts';

const { values } = parseArgs({
  options: {
    pods: { type: 'string', default: '150000' },
    writes: { type: 'string', default: '5' },
    dist: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    'in-process': { type: 'boolean', default: false },
    'old-src': { type: 'string' },
  },
});
const root = new URL('..', import.meta.url).pathname;
const pods = Number(values.pods);
const writes = Math.max(1, Math.min(20, Number(values.writes)));
/**
 * The longest turns of the event loop until stop(), by a setImmediate ticker: by wall time (which
 * includes waiting for a core on a busy machine) and by the CPU time this process used in a turn
 * (all its threads: an upper bound of the loop's own work).
 */
function loopTurns(): { stop(): { turns: number; maxMs: number; p99Ms: number; cpuMsOfMax: number; maxCpuMs: number } } {
  const gaps: number[] = [];
  let last = now();
  let lastCpu = process.cpuUsage();
  let max = 0;
  let cpuOfMax = 0;
  let maxCpu = 0;
  let running = true;
  const tick = () => {
    const t = now();
    const cpu = process.cpuUsage();
    const gap = t - last;
    const used = (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000;
    gaps.push(gap);
    maxCpu = Math.max(maxCpu, used);
    if (gap > max) {
      max = gap;
      cpuOfMax = used;
    }
    last = t;
    lastCpu = cpu;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  return {
    stop: () => {
      running = false;
      return { turns: gaps.length, maxMs: +max.toFixed(2), p99Ms: +percentile(gaps, 99).toFixed(2), cpuMsOfMax: +cpuOfMax.toFixed(2), maxCpuMs: +maxCpu.toFixed(2) };
    },
  };
}

if (values['in-process']) {
  const index = new ClusterIndex();
  for (const obj of clusterObjects(pods)) {
    const converted = toRecord(obj as Parameters<typeof toRecord>[0]);
    if (converted) index.upsert(converted.kind, converted.record);
  }
  const work = mkdtempSync(join(tmpdir(), 'cdns-snapshot-stall-'));
  type OldWrite = (path: string, index: ClusterIndex, zone: string) => number;
  const old = values['old-src'] ? ((await import(join(values['old-src'], 'src/cluster/snapshot.ts'))) as { writeSnapshot: OldWrite }).writeSnapshot : null;
  const runs: Record<string, unknown>[] = [];
  for (let w = 0; w < writes; w++) {
    for (const which of old ? ['this branch', 'old'] : ['this branch']) {
      await sleep(200);
      const turns = loopTurns();
      const started = now();
      let viewMs = 0;
      const bytes =
        which === 'old'
          ? await new Promise<number>((r) => setImmediate(() => r(old!(join(work, 'old.json'), index, 'cluster.local'))))
          : await new Promise<number>((r) =>
              setImmediate(() => {
                const viewed = now();
                const view = index.view();
                viewMs = +(now() - viewed).toFixed(2);
                r(writeSnapshot(join(work, 'new.json'), view, 'cluster.local'));
              }),
            );
      const ms = +(now() - started).toFixed(1);
      await new Promise((r) => setImmediate(r)); // the ticker's turn after the write's last one
      runs.push({ writer: which, bytes, ms, viewMs, loop: turns.stop() });
      process.stdout.write(`${which.padEnd(12)} ${(bytes / 1048576).toFixed(1)} MiB in ${String(ms).padStart(7)} ms (view ${viewMs} ms); loop turns ${JSON.stringify(runs.at(-1)!.loop)}\n`);
    }
  }
  process.stdout.write(`${JSON.stringify({ pods, mode: 'in-process', runs })}\n`);
  process.exit(0);
}

if (!values['no-build'] && !values.dist) execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
pinSelf();

const api = await FakeApiServer.start({ bookmarkIntervalMs: 30_000 });
for (const obj of clusterObjects(pods)) api.apply(obj as unknown as ApiObject);
const work = mkdtempSync(join(tmpdir(), 'cdns-snapshot-stall-'));
const image = imageRuntime(root);
const server = await startServer({
  dist: values.dist ?? join(root, 'dist'),
  nodeFlags: image.nodeFlags,
  env: { PATH: process.env.PATH, ...image.env },
  args: ['--kubeconfig', api.writeKubeconfig(work), '--health', 'off', '--ready', 'off', '--metrics', 'off', '--log-level', 'debug',
    '--snapshot', join(work, 'index.json'), '--snapshot-interval', '1s'],
});
try {
  await until('the sync', () => (server.stdout().match(/"msg":"synced"/g) ?? []).length >= 4, 60_000);
  await sleep(4_000); // past the memory release after the sync
  const written = () => server.lines<{ time: number | string; ms: number; bytes: number }>('snapshot written');
  // The first write (the sync) happens on its own; let it pass before the probe starts.
  await until('the first write', () => written().length >= 1, 30_000);
  await sleep(1_500);
  const probe = startProbe(server.dns, 'svc-1.ns-1.svc.cluster.local', { intervalMs: 5, maxMs: 60_000 + writes * 30_000 });
  await sleep(2_000);
  const before = written().length;
  for (let w = 1; w <= writes; w++) {
    api.apply(service('ns-0', `stall-${w}`, { clusterIP: `10.101.0.${w}` }));
    await until(`write ${w}`, () => written().length >= before + w, 30_000);
    await sleep(700);
  }
  const samples = await probe.stop();
  const measured = written().slice(before);
  // A write's window: from its start (its log time less its duration) to its end, a probe interval either side.
  // Log times are epoch ms, or ISO strings in builds whose logger writes those.
  const ended = (w: { time: number | string }) => (typeof w.time === 'number' ? w.time : Date.parse(w.time));
  const windows = measured.map((w) => [ended(w) - w.ms - 5, ended(w) + 5] as const);
  const result = {
    pods,
    build: values.dist ?? 'this branch',
    writes: measured.map((w) => ({ bytes: w.bytes, ms: w.ms })),
    duringWrites: stallFigures(samples, windows),
    otherwise: stallFigures(samples, windows, true),
  };
  const row = (label: string, f: typeof result.duringWrites) =>
    `${label.padEnd(16)}${String(f.probes).padStart(8)}${String(f.unanswered).padStart(11)}${String(f.p50WaitMs).padStart(10)}${String(f.p99WaitMs).padStart(10)}${String(f.maxWaitMs).padStart(10)}${String(f.maxGapMs).padStart(10)}\n`;
  process.stdout.write(`writes: ${result.writes.map((w) => `${(w.bytes / 1048576).toFixed(1)} MiB in ${w.ms} ms`).join(', ')}\n`);
  process.stdout.write(`${'probe every 5ms'.padEnd(16)}${'probes'.padStart(8)}${'unanswered'.padStart(11)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}${'max ms'.padStart(10)}${'max gap'.padStart(10)}\n`);
  process.stdout.write(row('during writes', result.duringWrites));
  process.stdout.write(row('otherwise', result.otherwise));
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await server.stop();
  await api.close();
  log('done');
}
