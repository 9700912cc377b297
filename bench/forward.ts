// Forwarding that holds (issue 18): cluster-dns beside Unbound and dnsmasq as pure forwarders, on
// the same resolver doubles (test/support/resolver-double.ts) in the same run, loopback only.
//
// The doubles: 80 % of names at 1 ms, 15 % at 50-400 ms, 4 % at 400-2000 ms, 1 % never (a hash of
// the name picks it; with 3 upstreams, 3 doubles that agree on every name, each with its own cache),
// and a zone that never answers. Each forwarder gets fresh doubles.
//
// 1. Mixed load, ~1,000 QPS: 70 % cluster names (cluster-dns only; Unbound and dnsmasq get just the
//    external share, the same queries at the same times) and 30 % external names, half of them
//    new, so ~9,000 distinct names a minute. A query is failed when it gets no NOERROR/NXDOMAIN
//    within 5 s (glibc's first timeout); names of the `never` class are not answerable and are
//    left out of the failures.
// 2. The burst: a 'hostile' client (127.0.0.66) sends random names in the never-answering zone, 2
//    names 4 times a second (8 QPS), then 6 (24 QPS), then 50 (200 QPS: enough to hold more than
//    half of --max-concurrent's 1,000 within the 5 s deadline), while 'victim' clients
//    (127.0.0.2-5) look up fresh external names, 20 a second; failures as above.
//
// Run: node_modules/.bin/node bench/forward.ts [--quick] [--seconds S] [--burst-seconds S]
//        [--upstreams 1,3] [--forwarders cluster-dns,unbound,dnsmasq]
// --quick: 10 s of mixed load and 4 s per burst (~2 min in all); default 30 s and 10 s (~6 min).
// Figures vary on a shared machine: compare forwarders within one run.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BUNDLED_EXAMPLE, type HostPort } from '../src/config.ts';
import { TYPE } from '../src/dns/constants.ts';
import { buildQuery } from '../test/support/dns.ts';
import { seededRandom } from '../test/support/fuzz.ts';
import { cpuSeconds, percentile } from '../test/support/load.ts';
import { startServer } from '../test/support/process.ts';
import { classOf, REALISTIC, ResolverDouble } from '../test/support/resolver-double.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    'burst-seconds': { type: 'string' },
    upstreams: { type: 'string', default: '1,3' },
    forwarders: { type: 'string', default: 'cluster-dns,unbound,dnsmasq' },
    qps: { type: 'string', default: '1000' },
  },
});
const MIXED_S = Math.min(600, Number(values.seconds ?? (values.quick ? 10 : 30)));
const BURST_S = Math.min(300, Number(values['burst-seconds'] ?? (values.quick ? 4 : 10)));
const QPS = Math.min(5000, Number(values.qps));
const UPSTREAM_COUNTS = values.upstreams
  .split(',')
  .map(Number)
  .filter((n) => n >= 1 && n <= 3);
const FORWARDERS = values.forwarders.split(',') as Forwarder[];
type Forwarder = 'cluster-dns' | 'unbound' | 'dnsmasq';

/** What a client waits for at most; later than CLIENT_TIMEOUT_MS counts as failed (glibc gave up). */
const CLIENT_TIMEOUT_MS = 5_000;
const WAIT_MS = 6_500;
const NEVER_ZONE = 'blackhole.example';
const SEED = 18;
/** Hostile names per quarter second: 8, 24 and 200 QPS. */
const BURSTS = [2, 6, 50];

interface Outcome {
  readonly name: string;
  readonly rcode: number | 'timeout';
  readonly ms: number;
}

/** UDP sockets bound to one loopback source address, replies matched by ID, every wait bounded. */
class Client {
  readonly #address: string;
  readonly #sockets: Socket[] = [];
  readonly #pending: Map<number, { name: string; sent: number; done: (o: Outcome) => void }>[] = [];
  readonly #ids: number[] = [];
  #next = 0;
  #sweep: NodeJS.Timeout | null = null;

  constructor(address: string) {
    this.#address = address;
  }

  async open(count = 4): Promise<this> {
    for (let i = 0; i < count; i++) {
      const socket = createSocket('udp4');
      const pending = new Map<number, { name: string; sent: number; done: (o: Outcome) => void }>();
      socket.on('message', (msg) => {
        if (msg.length < 12) return;
        const p = pending.get(msg.readUInt16BE(0));
        if (!p) return;
        pending.delete(msg.readUInt16BE(0));
        p.done({ name: p.name, rcode: msg[3]! & 0x0f, ms: performance.now() - p.sent });
      });
      socket.on('error', () => {});
      await new Promise<void>((resolve) => socket.bind(0, this.#address, resolve));
      this.#sockets.push(socket);
      this.#pending.push(pending);
      this.#ids.push(Math.floor(Math.random() * 0xffff));
    }
    this.#sweep = setInterval(() => {
      const now = performance.now();
      for (const pending of this.#pending) {
        for (const [id, p] of pending) {
          if (now - p.sent < WAIT_MS) continue;
          pending.delete(id);
          p.done({ name: p.name, rcode: 'timeout', ms: now - p.sent });
        }
      }
    }, 250);
    return this;
  }

  ask(to: HostPort, name: string, done: (o: Outcome) => void): void {
    const i = this.#next++ % this.#sockets.length;
    const pending = this.#pending[i]!;
    let id = (this.#ids[i]! + 1) & 0xffff;
    for (let tries = 0; pending.has(id) && tries < 65536; tries++) id = (id + 1) & 0xffff;
    this.#ids[i] = id;
    pending.set(id, { name, sent: performance.now(), done });
    this.#sockets[i]!.send(buildQuery(name, TYPE.A, { id }), to.port, to.host);
  }

  get outstanding(): number {
    return this.#pending.reduce((n, p) => n + p.size, 0);
  }

  close(): void {
    if (this.#sweep) clearInterval(this.#sweep);
    for (const s of this.#sockets) s.close();
  }
}

async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

interface Running {
  readonly dns: HostPort;
  /** cluster-dns only: its log, where each `upstream down` line is an upstream marked down. */
  log(): string | null;
  readonly pid: number;
  stop(): Promise<void>;
}

async function waitAnswering(dns: HostPort, child: ChildProcess | null): Promise<void> {
  const client = await new Client('127.0.0.1').open(1);
  try {
    for (let i = 0; i < 100; i++) {
      if (child && child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
      const o = await new Promise<Outcome>((resolve) => client.ask(dns, `ready${i}.bench.example`, resolve));
      if (o.rcode === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('never answered');
  } finally {
    client.close();
  }
}

function spawnLogged(cmd: string, args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  return { child, output: () => output };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

async function start(forwarder: Forwarder, upstreams: readonly ResolverDouble[]): Promise<Running> {
  if (forwarder === 'cluster-dns') {
    const server = await startServer(['--manifests', BUNDLED_EXAMPLE, '--upstream', upstreams.map((u) => u.address).join(',')]);
    await waitAnswering(server.dns, server.child);
    return {
      dns: server.dns,
      pid: server.child.pid!,
      log: () => server.stdout(),
      stop: async () => void (await server.stop()),
    };
  }
  const dir = mkdtempSync(join(tmpdir(), `cdns-bench-${forwarder}-`));
  const port = await freePort();
  let run: { child: ChildProcess; output: () => string };
  if (forwarder === 'unbound') {
    // A pure forwarder: no root hints used, no DNSSEC validation (iterator only), one thread.
    const conf = join(dir, 'unbound.conf');
    writeFileSync(
      conf,
      [
        'server:',
        '  interface: 127.0.0.1',
        `  port: ${port}`,
        '  do-ip6: no',
        '  do-daemonize: no',
        '  username: ""',
        '  chroot: ""',
        `  directory: "${dir}"`,
        `  pidfile: "${join(dir, 'unbound.pid')}"`,
        '  use-syslog: no',
        '  logfile: ""',
        '  verbosity: 0',
        '  num-threads: 1',
        '  access-control: 127.0.0.0/8 allow',
        '  do-not-query-localhost: no',
        '  module-config: "iterator"',
        '  qname-minimisation: no',
        'remote-control:',
        '  control-enable: no',
        'forward-zone:',
        '  name: "."',
        ...upstreams.map((u) => `  forward-addr: 127.0.0.1@${u.port}`),
        '',
      ].join('\n'),
    );
    run = spawnLogged('unbound', ['-d', '-c', conf]);
  } else {
    // dnsmasq's defaults but for the cache size (cluster-dns's 10,000).
    run = spawnLogged('dnsmasq', [
      '--no-daemon',
      '--no-resolv',
      '--no-hosts',
      '--no-poll',
      '--bind-interfaces',
      '--listen-address=127.0.0.1',
      `--port=${port}`,
      '--cache-size=10000',
      `--pid-file=${join(dir, 'dnsmasq.pid')}`,
      '--user=root',
      ...upstreams.map((u) => `--server=127.0.0.1#${u.port}`),
    ]);
  }
  const dns = { host: '127.0.0.1', port };
  try {
    await waitAnswering(dns, run.child);
  } catch (err) {
    await stopChild(run.child);
    throw new Error(`${forwarder}: ${(err as Error).message}: ${run.output()}`);
  }
  return {
    dns,
    pid: run.child.pid!,
    log: () => null,
    stop: async () => {
      await stopChild(run.child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const CLUSTER_NAMES = [
  'web.shop.svc.cluster.local',
  'payments.shop.svc.cluster.local',
  'db.data.svc.cluster.local',
  'cache.data.svc.cluster.local',
  'kubernetes.default.svc.cluster.local',
  // Search-list expansions of an external name: NXDOMAIN from the zone.
  'api.example.com.shop.svc.cluster.local',
  'api.example.com.svc.cluster.local',
];

function answerable(name: string): boolean {
  return !name.endsWith(NEVER_ZONE) && classOf(name, REALISTIC, SEED).delayMs !== null;
}
function fast(name: string): boolean {
  return classOf(name, REALISTIC, SEED).cls.name === 'fast';
}
function failed(o: Outcome): boolean {
  return o.rcode === 'timeout' || (o.rcode !== 0 && o.rcode !== 3) || o.ms > CLIENT_TIMEOUT_MS;
}

interface RunResult {
  forwarder: Forwarder;
  upstreams: number;
  externalAnswerable: number;
  externalFailed: number;
  fastFailed: number;
  distinct: number;
  p50: number;
  p99: number;
  clusterFailed: string;
  bursts: { qps: number; victims: number; victimsFailed: number; hostileRefused: number; hostile: number }[];
  downs: string;
  cpu: number;
}

async function drain(clients: Client[]): Promise<void> {
  const deadline = performance.now() + WAIT_MS + 1_000;
  while (clients.some((c) => c.outstanding > 0) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}

/** The mixed load: `seconds` at QPS, the same schedule for every forwarder. */
async function mixed(
  target: HostPort,
  withCluster: boolean,
  seconds: number,
): Promise<{ external: Outcome[]; cluster: Outcome[]; distinct: number }> {
  // The same query schedule for every forwarder.
  const random = seededRandom(SEED);
  const client = await new Client('127.0.0.1').open(8);
  const external: Outcome[] = [];
  const cluster: Outcome[] = [];
  const used: string[] = [];
  const perTick = QPS / 100;
  let owed = 0;
  let n = 0;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - started;
      if (elapsed >= seconds * 1000) {
        clearInterval(timer);
        resolve();
        return;
      }
      // Catch up on ticks a busy loop delayed, so the rate holds.
      owed = (elapsed / 1000) * QPS - n;
      for (let i = 0; i < Math.min(owed, perTick * 5); i++, n++) {
        if (random() < 0.7) {
          const name = CLUSTER_NAMES[Math.floor(random() * CLUSTER_NAMES.length)]!;
          if (withCluster) client.ask(target, name, (o) => cluster.push(o));
          continue;
        }
        let name: string;
        if (used.length === 0 || random() < 0.5) {
          name = `e${used.length}.z${used.length % 97}.example`;
          used.push(name);
        } else {
          name = used[Math.floor(random() * used.length)]!;
        }
        client.ask(target, name, (o) => external.push(o));
      }
    }, 10);
  });
  await drain([client]);
  client.close();
  return { external, cluster, distinct: used.length };
}

async function burst(target: HostPort, namesPerQuarter: number, seconds: number, runTag: string): Promise<RunResult['bursts'][number]> {
  const hostile = await new Client('127.0.0.66').open(4);
  const victims = await Promise.all(['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'].map((a) => new Client(a).open(2)));
  const hostileOut: Outcome[] = [];
  const victimOut: Outcome[] = [];
  let v = 0;
  const ticks = seconds * 20;
  for (let tick = 0; tick < ticks; tick++) {
    if (tick % 5 === 0) {
      for (let i = 0; i < namesPerQuarter; i++)
        hostile.ask(target, `${Math.random().toString(36).slice(2, 12)}.${NEVER_ZONE}`, (o) => hostileOut.push(o));
    }
    // 20 fresh victim lookups a second, one per 50 ms tick.
    const name = `v${v}.${runTag}.victims.example`;
    victims[v++ % victims.length]!.ask(target, name, (o) => victimOut.push(o));
    await new Promise((r) => setTimeout(r, 50));
  }
  await drain([hostile, ...victims]);
  hostile.close();
  for (const c of victims) c.close();
  const answerableVictims = victimOut.filter((o) => answerable(o.name));
  return {
    qps: namesPerQuarter * 4,
    victims: answerableVictims.length,
    victimsFailed: answerableVictims.filter(failed).length,
    hostileRefused: hostileOut.filter((o) => o.rcode === 5).length,
    hostile: hostileOut.length,
  };
}

function downsOf(log: string | null): string {
  return log === null ? '—' : String(log.split('\n').filter((l) => l.includes('"msg":"upstream down"')).length);
}

async function runOne(forwarder: Forwarder, upstreamCount: number): Promise<RunResult> {
  const doubles = await Promise.all(
    Array.from({ length: upstreamCount }, () => ResolverDouble.start({ seed: SEED, neverZones: [NEVER_ZONE] })),
  );
  const running = await start(forwarder, doubles);
  try {
    const cpu0 = cpuSeconds(running.pid);
    const m = await mixed(running.dns, forwarder === 'cluster-dns', MIXED_S);
    const bursts = [];
    for (const perQuarter of BURSTS)
      bursts.push(await burst(running.dns, perQuarter, BURST_S, `${forwarder}-${upstreamCount}-${perQuarter}`));
    const cpu = cpuSeconds(running.pid) - cpu0;
    const answerableExternal = m.external.filter((o) => answerable(o.name));
    const ok = answerableExternal.filter((o) => !failed(o)).map((o) => o.ms);
    return {
      forwarder,
      upstreams: upstreamCount,
      externalAnswerable: answerableExternal.length,
      externalFailed: answerableExternal.filter(failed).length,
      fastFailed: answerableExternal.filter((o) => failed(o) && fast(o.name)).length,
      distinct: m.distinct,
      p50: percentile(ok, 50),
      p99: percentile(ok, 99),
      clusterFailed: forwarder === 'cluster-dns' ? `${m.cluster.filter(failed).length} of ${m.cluster.length}` : '—',
      bursts,
      downs: downsOf(running.log()),
      cpu,
    };
  } finally {
    await running.stop();
    await Promise.all(doubles.map((d) => d.close()));
  }
}

const pct = (n: number, of: number) => (of === 0 ? '—' : `${((100 * n) / of).toFixed(1)} %`);
const results: RunResult[] = [];
console.log(
  `mixed ${MIXED_S} s at ${QPS} QPS, bursts ${BURST_S} s each; upstreams ${UPSTREAM_COUNTS.join(', ')}; ${FORWARDERS.join(', ')}`,
);
for (const upstreamCount of UPSTREAM_COUNTS) {
  for (const forwarder of FORWARDERS) {
    const r = await runOne(forwarder, upstreamCount);
    results.push(r);
    console.log(JSON.stringify(r));
  }
}
console.log('');
const rates = BURSTS.map((b) => b * 4).join(' / ');
console.log(
  `| forwarder | upstreams | answerable external failed | of them fast names | p50 / p99 ms | cluster names failed | victims failed, bursts of ${rates} QPS | hostile REFUSED | upstream marked down | forwarder CPU s |`,
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  console.log(
    `| ${r.forwarder} | ${r.upstreams} | ${r.externalFailed} of ${r.externalAnswerable} (${pct(r.externalFailed, r.externalAnswerable)}) | ${r.fastFailed} | ${r.p50.toFixed(1)} / ${r.p99.toFixed(0)} | ${r.clusterFailed} | ` +
      `${r.bursts.map((b) => `${b.victimsFailed}/${b.victims}`).join(' · ')} | ${r.bursts.map((b) => `${b.hostileRefused}/${b.hostile}`).join(' · ')} | ${r.downs} | ${r.cpu.toFixed(1)} |`,
  );
}
console.log(`\ndistinct external names in the mixed load: ${results[0]?.distinct ?? 0}`);
