// How long a --snapshot write holds the event loop (issue 23, item 5; goal: no stall over 5 ms at
// 150k pods). The production build is started against the kube-apiserver double with the
// synthetic cluster (10,000 Services, 150,000 Pods by default), with --snapshot-interval 1s; a
// Service is changed a few times, so each interval writes once, while a probe asks a cluster name
// every 5 ms. Printed: each write (bytes, time from start to end), and the probe's longest wait,
// p99 wait and longest gap between answers, inside the write windows and outside them.
// Loopback only; bounded (60 s to sync, 30 s a write).
//   node bench/snapshot-stall.ts [--pods 150000] [--writes 5] [--dist DIR] [--no-build] [--gc] [--control]
// (--dist runs another build, e.g. main's, for the figure before.)
// --gc: the server logs every garbage collection (bench/gc-log.ts, and --trace-gc), and each
// probe wait over 5 ms is matched with the collections that overlap it.
// --control: the same run without --snapshot: the same Service changes, and windows where the
// writes would have been (--window-ms long, 150 ms after each change), for the machine's floor.
//
// On a shared machine the probe measures the neighbours as much as the server: a process that
// waits for a core shows the same gaps. So --in-process measures the loop itself as well: the
// same cluster in an index in this process, a write, and the longest turn of the event loop
// meanwhile (a setImmediate ticker), with the CPU time this process used in that turn.
//   node bench/snapshot-stall.ts --in-process [--pods 150000] [--writes 5] [--old-src DIR]
// (--old-src DIR: also time the writer of another checkout's src/cluster/snapshot.ts, e.g. main's.)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ClusterIndex } from '../src/index/index.ts';
import { toRecord } from '../src/objects/kinds.ts';
import { writeSnapshot } from '../src/index/snapshot.ts';
import { FakeApiServer, service, type ApiObject } from '../test/support/apiserver.ts';
import { percentile } from '../test/support/load.ts';
import { imageRuntime } from './image.ts';
import { log, now, pinSelf, sleep, stallFigures, startProbe, startServer, until, type Sample } from './stall.ts';
import { clusterObjects } from './synthetic.ts';

const { values } = parseArgs({
  options: {
    pods: { type: 'string', default: '150000' },
    writes: { type: 'string', default: '5' },
    dist: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    'in-process': { type: 'boolean', default: false },
    'old-src': { type: 'string' },
    gc: { type: 'boolean', default: false },
    control: { type: 'boolean', default: false },
    'window-ms': { type: 'string', default: '450' },
  },
});
const root = new URL('..', import.meta.url).pathname;
const pods = Number(values.pods);
const writes = Math.max(1, Math.min(20, Number(values.writes)));
/**
 * The longest turns of the event loop until stop(), by a setImmediate ticker: by wall time (which
 * includes waiting for a core on a busy machine) and by the CPU time this process used in a turn
 * (all its threads: an upper bound of the loop's own work); and the longest turn in which V8
 * did not collect (PerformanceObserver's gc entries), to tell the collector's share from ours.
 */
function loopTurns() {
  const turns: { from: number; to: number; cpu: number }[] = [];
  const collections: { from: number; to: number; kind: number }[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      collections.push({
        from: performance.timeOrigin + e.startTime,
        to: performance.timeOrigin + e.startTime + e.duration,
        kind: (e as unknown as { detail: { kind: number } }).detail.kind,
      });
  });
  observer.observe({ entryTypes: ['gc'] });
  const started = now();
  let last = started;
  let lastCpu = process.cpuUsage();
  let running = true;
  const tick = () => {
    const t = now();
    const cpu = process.cpuUsage();
    turns.push({ from: last, to: t, cpu: (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000 });
    last = t;
    lastCpu = cpu;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  return {
    stop: async () => {
      running = false;
      await new Promise((r) => setTimeout(r, 20)); // the observer's last entries
      observer.disconnect();
      const ms = (t: { from: number; to: number }) => t.to - t.from;
      const collected = (t: { from: number; to: number }) => collections.filter((c) => c.from < t.to && c.to > t.from);
      const longest = turns.reduce((a, b) => (ms(b) > ms(a) ? b : a), turns[0]!);
      const clean = turns.filter((t) => collected(t).length === 0);
      const longestClean = clean.reduce((a, b) => (ms(b) > ms(a) ? b : a), clean[0] ?? longest);
      const round = (x: number) => +x.toFixed(2);
      return {
        turns: turns.length,
        maxMs: round(ms(longest)),
        p99Ms: round(percentile(turns.map(ms), 99)),
        cpuMsOfMax: round(longest.cpu),
        maxEndedAtMs: round(longest.to - started),
        maxCpuMs: round(Math.max(...turns.map((t) => t.cpu))),
        gcMsInMax: round(collected(longest).reduce((sum, c) => sum + ms(c), 0)),
        maxWithoutGcMs: round(ms(longestClean)),
        scavenges: collections.filter((c) => c.kind === constants.NODE_PERFORMANCE_GC_MINOR).length,
        majors: collections.filter((c) => c.kind === constants.NODE_PERFORMANCE_GC_MAJOR).length,
        maxGcMs: round(Math.max(0, ...collections.map(ms))),
      };
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
  const old = values['old-src']
    ? (
        (await import(
          join(
            values['old-src'],
            existsSync(join(values['old-src'], 'src/index/snapshot.ts')) ? 'src/index/snapshot.ts' : 'src/cluster/snapshot.ts',
          )
        )) as { writeSnapshot: OldWrite }
      ).writeSnapshot
    : null;
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
      runs.push({ writer: which, bytes, ms, viewMs, loop: await turns.stop() });
      process.stdout.write(
        `${which.padEnd(12)} ${(bytes / 1048576).toFixed(1)} MiB in ${String(ms).padStart(7)} ms (view ${viewMs} ms); loop turns ${JSON.stringify(runs.at(-1)!.loop)}\n`,
      );
    }
  }
  process.stdout.write(`${JSON.stringify({ pods, mode: 'in-process', runs })}\n`);
  process.exit(0);
}

if (!values['no-build'] && !values.dist) execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
pinSelf();

const control = values.control;
const api = await FakeApiServer.start({ bookmarkIntervalMs: 30_000 });
for (const obj of clusterObjects(pods)) api.apply(obj as unknown as ApiObject);
const work = mkdtempSync(join(tmpdir(), 'cdns-snapshot-stall-'));
const image = imageRuntime(root);
const gcFlags = values.gc ? ['--import', join(root, 'bench/gc-log.ts'), '--trace-gc'] : [];
const server = await startServer({
  dist: values.dist ?? join(root, 'dist'),
  nodeFlags: [...image.nodeFlags, ...gcFlags],
  env: { PATH: process.env.PATH, ...image.env },
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
    ...(control ? [] : ['--snapshot', join(work, 'index.json'), '--snapshot-interval', '1s']),
  ],
});
try {
  await until('the sync', () => (server.stdout().match(/"msg":"synced"/g) ?? []).length >= 4, 60_000);
  await sleep(4_000); // past the memory release after the sync
  const written = () => server.lines<{ time: number | string; ms: number; bytes: number }>('snapshot written');
  // The first write (the sync) happens on its own; let it pass before the probe starts.
  if (!control) await until('the first write', () => written().length >= 1, 30_000);
  await sleep(1_500);
  const probe = startProbe(server.dns, 'svc-1.ns-1.svc.cluster.local', { intervalMs: 5, maxMs: 60_000 + writes * 30_000 });
  await sleep(2_000);
  const before = written().length;
  const windowMs = Number(values['window-ms']);
  const controlWindows: (readonly [number, number])[] = [];
  const threadCpu: Record<string, number>[] = [];
  for (let w = 1; w <= writes; w++) {
    const cpuBefore = values.gc ? threadTimes(server.child.pid!) : null;
    const changed = now();
    api.apply(service('ns-0', `stall-${w}`, { clusterIP: `10.101.0.${w}` }));
    if (control) {
      controlWindows.push([changed + 150, changed + 150 + windowMs]);
      await sleep(1_000 + 150 + windowMs);
    } else {
      await until(`write ${w}`, () => written().length >= before + w, 30_000);
    }
    if (cpuBefore) threadCpu.push(difference(threadTimes(server.child.pid!), cpuBefore));
    await sleep(700);
  }
  const samples = await probe.stop();
  const measured = written().slice(before);
  // A write's window: from its start (its log time less its duration) to its end, a probe interval either side.
  // Log times are epoch ms, or ISO strings in builds whose logger writes those.
  const ended = (w: { time: number | string }) => (typeof w.time === 'number' ? w.time : Date.parse(w.time));
  const windows = control ? controlWindows : measured.map((w) => [ended(w) - w.ms - 5, ended(w) + 5] as const);
  const result = {
    pods,
    build: values.dist ?? 'this branch',
    control,
    writes: measured.map((w) => ({ bytes: w.bytes, ms: w.ms })),
    duringWrites: stallFigures(samples, windows),
    maxWaitByWindow: windows.map((w) => stallFigures(samples, [w]).maxWaitMs),
    otherwise: stallFigures(samples, windows, true),
    ...(values.gc ? { gc: gcFigures(server.stdout(), samples, windows), threadCpu } : {}),
  };
  const row = (label: string, f: typeof result.duringWrites) =>
    `${label.padEnd(16)}${String(f.probes).padStart(8)}${String(f.unanswered).padStart(11)}${String(f.p50WaitMs).padStart(10)}${String(f.p99WaitMs).padStart(10)}${String(f.maxWaitMs).padStart(10)}${String(f.maxGapMs).padStart(10)}\n`;
  if (control) process.stdout.write(`control: no --snapshot; windows of ${windowMs} ms, 150 ms after each change\n`);
  else process.stdout.write(`writes: ${result.writes.map((w) => `${(w.bytes / 1048576).toFixed(1)} MiB in ${w.ms} ms`).join(', ')}\n`);
  process.stdout.write(
    `${'probe every 5ms'.padEnd(16)}${'probes'.padStart(8)}${'unanswered'.padStart(11)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}${'max ms'.padStart(10)}${'max gap'.padStart(10)}\n`,
  );
  process.stdout.write(row(control ? 'in windows' : 'during writes', result.duringWrites));
  process.stdout.write(row('otherwise', result.otherwise));
  process.stdout.write(`longest wait in each ${control ? 'window' : 'write'}: ${result.maxWaitByWindow.join(', ')} ms\n`);
  if (result.gc) {
    const g = result.gc;
    for (const [label, f] of [
      [control ? 'in windows' : 'during writes', g.inside],
      ['otherwise', g.outside],
    ] as const) {
      process.stdout.write(
        `gc ${label}: ${f.minor} scavenges (longest ${f.maxMinorMs} ms), ${f.markingStarts} major marking starts, ${f.major} major pauses (longest ${f.maxMajorMs} ms); probe waits > 5 ms: ${f.slowWaits}, overlapping a pause ${f.slowWithPause}, inside a marking ${f.slowInMarking}\n`,
      );
    }
    process.stdout.write(`major GCs (--trace-gc): ${g.majors.join('; ') || 'none'}\n`);
    process.stdout.write(
      `CPU ms of the server's threads from each change to its write's end: ${threadCpu.map((t) => JSON.stringify(t)).join(' ')}\n`,
    );
    const logFile = join(work, 'server.log');
    writeFileSync(logFile, server.stdout());
    process.stdout.write(
      `the server's output: ${logFile}; the probe ran from ${samples[0]?.sentAt.toFixed(0)} to ${samples.at(-1)?.sentAt.toFixed(0)}\n`,
    );
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await server.stop();
  await api.close();
  log('done');
}

/** CPU time (ms) of a process's threads so far, summed by thread name (/proc/PID/task/TID/schedstat). */
function threadTimes(pid: number): Record<string, number> {
  const times: Record<string, number> = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      times[name] = (times[name] ?? 0) + Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
    } catch {
      // the thread ended meanwhile
    }
  }
  return times;
}

function difference(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([name, ms]) => [name, +(ms - (before[name] ?? 0)).toFixed(1)])
      .filter(([, ms]) => (ms as number) >= 0.1),
  );
}

interface GcEvent {
  readonly kind: string;
  readonly start: number;
  readonly ms: number;
}

/**
 * The server's collections (bench/gc-log.ts lines) inside and outside the windows, and which
 * probe waits over 5 ms overlap a pause, or fall between a major GC's start of marking and its
 * final pause (when its incremental steps run).
 */
function gcFigures(stdout: string, samples: readonly Sample[], windows: readonly (readonly [number, number])[]) {
  const events = stdout
    .split('\n')
    .filter((l) => l.startsWith('{"msg":"gc"'))
    .map((l) => JSON.parse(l) as GcEvent)
    .filter((e) => e.start >= samples[0]!.sentAt && e.start <= samples.at(-1)!.sentAt);
  const markings: [number, number][] = [];
  let markingFrom: number | null = null;
  for (const e of events) {
    if (e.kind === 'incremental') markingFrom ??= e.start;
    if (e.kind === 'major') {
      markings.push([markingFrom ?? e.start, e.start + e.ms]);
      markingFrom = null;
    }
  }
  const inside = (t: number) => windows.some(([a, b]) => t >= a && t <= b);
  const figures = (wanted: boolean) => {
    const chosen = events.filter((e) => inside(e.start) === wanted);
    const of = (kind: string) => chosen.filter((e) => e.kind === kind);
    const slow = samples.filter((s) => inside(s.sentAt) === wanted && (s.answeredAt ?? Number.POSITIVE_INFINITY) - s.sentAt > 5);
    const end = (s: Sample) => s.answeredAt ?? s.sentAt + 1000;
    const max = (list: GcEvent[]) => +Math.max(0, ...list.map((e) => e.ms)).toFixed(2);
    return {
      minor: of('minor').length,
      maxMinorMs: max(of('minor')),
      markingStarts: of('incremental').length,
      major: of('major').length,
      maxMajorMs: max(of('major')),
      slowWaits: slow.length,
      slowWithPause: slow.filter((s) => events.some((e) => e.kind !== 'incremental' && e.start < end(s) && e.start + e.ms > s.sentAt))
        .length,
      slowInMarking: slow.filter((s) => markings.some(([a, b]) => a < end(s) && b > s.sentAt)).length,
    };
  };
  // --trace-gc's line of each major GC: its incremental steps and final pause.
  const majors = [
    ...stdout.matchAll(
      /Mark-Compact[^\n]*?([\d.]+) \/ [\d.]+ ms \s*\(\+ ([\d.]+) ms in (\d+) steps[^\n]*?biggest step ([\d.]+) ms, walltime since start of marking ([\d.]+) ms\)[^\n]*?(?:;|$)/gm,
    ),
  ].map((m) => `pause ${m[1]} ms, ${m[3]} steps of ${m[2]} ms, biggest ${m[4]} ms, over ${m[5]} ms`);
  return { inside: figures(true), outside: figures(false), majors };
}
