// Load for floods and latency probes, bounded in packets and time, loopback only.
import { createSocket, type Socket } from 'node:dgram';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { HostPort } from '../../src/config.ts';
import { buildQuery } from './dns.ts';

export interface FloodResult {
  readonly sent: number;
  readonly received: number;
  readonly seconds: number;
}

/**
 * Sends `queries` round robin from `sockets` UDP sockets as fast as the event loop allows, until
 * `maxPackets` are sent or `maxMs` has passed. Replies are counted, not checked.
 */
export async function flood(
  target: HostPort,
  queries: readonly Buffer[],
  options: { maxPackets: number; maxMs: number; sockets?: number },
): Promise<FloodResult> {
  const sockets: Socket[] = [];
  let received = 0;
  for (let i = 0; i < (options.sockets ?? 4); i++) {
    const s = createSocket('udp4');
    s.on('message', () => received++);
    s.on('error', () => {});
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
    sockets.push(s);
  }
  const started = performance.now();
  let sent = 0;
  while (sent < options.maxPackets && performance.now() - started < options.maxMs) {
    // A burst per turn, then yield so replies and timers run.
    for (let i = 0; i < 256 && sent < options.maxPackets; i++, sent++) {
      sockets[sent % sockets.length]!.send(queries[sent % queries.length]!, target.port, target.host);
    }
    await new Promise((r) => setImmediate(r));
  }
  const seconds = (performance.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 100));
  for (const s of sockets) s.close();
  return { sent, received, seconds };
}

export interface ProbeResult {
  readonly asked: number;
  readonly answered: number;
  /** Milliseconds, of answered probes. */
  readonly latencies: readonly number[];
}

/** One query every `intervalMs` until `stop()` (bounded by `maxMs`), timing each reply. */
export function probe(
  target: HostPort,
  name: string,
  type: number,
  options: { intervalMs: number; maxMs: number },
): { stop(): Promise<ProbeResult> } {
  const socket = createSocket('udp4');
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  let asked = 0;
  let id = 0;
  socket.on('message', (msg) => {
    const t = sentAt.get(msg.readUInt16BE(0));
    if (t === undefined) return;
    sentAt.delete(msg.readUInt16BE(0));
    latencies.push(performance.now() - t);
  });
  const started = performance.now();
  const timer = setInterval(() => {
    if (performance.now() - started > options.maxMs) return;
    id = (id + 1) & 0xffff;
    sentAt.set(id, performance.now());
    asked++;
    socket.send(buildQuery(name, type, { id }), target.port, target.host);
  }, options.intervalMs);
  socket.bind(0, '127.0.0.1');
  return {
    stop: async () => {
      clearInterval(timer);
      await new Promise((r) => setTimeout(r, 200));
      socket.close();
      return { asked, answered: latencies.length, latencies };
    },
  };
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** VmRSS of a process in MiB (Linux). */
export function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return line ? Number(line.split(/\s+/)[1]) / 1024 : Number.NaN;
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;
/** CPU seconds (user + system) a process has used; NaN when /proc cannot say. */
export function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}
