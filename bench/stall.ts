// What the event-loop benches share (bench/snapshot-stall.ts, bench/manifests-stall.ts,
// bench/soak.ts): the production build started as a child process (pinned to CPU 0 when taskset
// is there, this process to CPU 1), and a probe that asks one cluster name every few
// milliseconds and keeps when each question went out and when its answer came back, so a stall
// of the server's event loop shows as the longest wait and the longest gap between answers.
// Loopback only; the probe is bounded by its caller's stop() and a maximum duration.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { TYPE } from '../src/dns/constants.ts';
import { buildQuery } from '../test/support/dns.ts';
import { percentile } from '../test/support/load.ts';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
/** Epoch milliseconds with sub-millisecond precision: comparable with the server's log times. */
export const now = () => performance.timeOrigin + performance.now();

const pinnable = spawnSync('sh', ['-c', 'command -v taskset']).status === 0 && cpus().length >= 2;
/** Keeps this process (and its threads) off the server's core. */
export function pinSelf(): void {
  if (pinnable) spawnSync('taskset', ['-apc', '1', String(process.pid)], { stdio: 'ignore' });
}

export interface Server {
  readonly child: ChildProcess;
  readonly dns: { host: string; port: number };
  stdout(): string;
  /** Lines of the log whose msg is `msg`, parsed. */
  lines<T = Record<string, unknown>>(msg: string): T[];
  stop(): Promise<void>;
}

/** Starts `<dist>/main.js` with `args` and resolves once it logged "serving" (bounded by `timeoutMs`). */
export async function startServer(options: {
  dist: string;
  nodeFlags?: readonly string[];
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}): Promise<Server> {
  const argv = [
    ...(options.nodeFlags ?? []),
    join(options.dist, 'main.js'),
    '--listen',
    '127.0.0.1:0',
    '--resolv-conf',
    '/dev/null',
    '--lameduck',
    '0',
    ...options.args,
  ];
  const [cmd, args] = pinnable ? ['taskset', ['-c', '0', process.execPath, ...argv]] : [process.execPath, argv];
  // taskset execs the server, and the server's own re-execution keeps the pid: the child's pid is the server's.
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? { PATH: process.env.PATH } });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (!out.includes('"msg":"serving"')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server did not start: ${out.slice(-2000)}`);
    }
    await sleep(50);
  }
  const lines = <T>(msg: string): T[] =>
    out
      .split('\n')
      .filter((l) => l.includes(`"msg":"${msg}"`))
      .map((l) => JSON.parse(l) as T);
  const serving = lines<{ dns: { host: string; port: number }[] }>('serving')[0]!;
  return {
    child,
    dns: serving.dns[0]!,
    stdout: () => out,
    lines,
    stop: async () => {
      process.off('exit', reap);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Waits (bounded) until `check` holds. */
export async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export interface Sample {
  readonly sentAt: number;
  answeredAt: number | null;
}

/** One query every `intervalMs` (epoch-ms timestamps kept) until stop(), at most `maxMs`. */
export function startProbe(
  target: { host: string; port: number },
  name: string,
  options: { intervalMs: number; maxMs: number },
): { stop(): Promise<Sample[]> } {
  const socket = createSocket('udp4');
  const samples: Sample[] = [];
  const byId = new Map<number, Sample>();
  let id = 0;
  socket.on('message', (msg) => {
    const sample = byId.get(msg.readUInt16BE(0));
    if (sample && sample.answeredAt === null) sample.answeredAt = now();
  });
  socket.on('error', () => {});
  const started = Date.now();
  const timer = setInterval(() => {
    if (Date.now() - started > options.maxMs) return;
    id = (id + 1) & 0xffff;
    const sample: Sample = { sentAt: now(), answeredAt: null };
    samples.push(sample);
    byId.set(id, sample);
    socket.send(buildQuery(name, TYPE.A, { id }), target.port, target.host);
  }, options.intervalMs);
  socket.bind(0, '127.0.0.1');
  return {
    stop: async () => {
      clearInterval(timer);
      await sleep(500);
      socket.close();
      return samples;
    },
  };
}

export interface StallFigures {
  readonly probes: number;
  readonly unanswered: number;
  /** Milliseconds from a question to its answer. */
  readonly maxWaitMs: number;
  readonly p99WaitMs: number;
  readonly p50WaitMs: number;
  /** The longest time without any answer, between two answers inside the windows. */
  readonly maxGapMs: number;
}

/** Figures of the samples sent inside `windows` ([from, to] epoch ms), or of all when null. */
export function stallFigures(
  samples: readonly Sample[],
  windows: readonly (readonly [number, number])[] | null,
  outside = false,
): StallFigures {
  const inside = (t: number) => windows === null || windows.some(([a, b]) => t >= a && t <= b);
  const chosen = samples.filter((s) => inside(s.sentAt) !== outside);
  const waits = chosen.filter((s) => s.answeredAt !== null).map((s) => s.answeredAt! - s.sentAt);
  const answers = samples
    .map((s) => s.answeredAt)
    .filter((t): t is number => t !== null)
    .sort((a, b) => a - b);
  let maxGap = 0;
  for (let i = 1; i < answers.length; i++) if (inside(answers[i]!) !== outside) maxGap = Math.max(maxGap, answers[i]! - answers[i - 1]!);
  const round = (x: number) => +x.toFixed(2);
  return {
    probes: chosen.length,
    unanswered: chosen.length - waits.length,
    maxWaitMs: round(waits.length ? Math.max(...waits) : Number.NaN),
    p99WaitMs: round(percentile(waits, 99)),
    p50WaitMs: round(percentile(waits, 50)),
    maxGapMs: round(maxGap),
  };
}
