// What one client can take from the others (issue 23): the real server (bundled example cluster)
// against three attackers, each bounded in count and time.
//   tcp:     a holder keeps --holder TCP connections from 127.0.0.2, a query on each every 5 s;
//            a victim on 127.0.0.3 then opens --victims connections, one query each.
//   http:    --slow slow-header connections to the metrics port from 1,000 loopback addresses
//            (reopened as fast as the server closes them, a byte on each every second) for --seconds:
//            the server's RSS before, at its peak and after; /health asked twice a second.
//   metrics: a UDP probe every 5 ms, alone and then while 8 keep-alive scrapers fetch /metrics
//            back to back for --seconds: its p50/p99, the scrapes a second, the server's CPU.
// With --pin the server runs on CPU 0 and this script on CPU 1 (taskset), and with the image's memory
// settings (--max-semi-space-size=2, MALLOC_ARENA_MAX=1; --bare for Node's defaults). Loopback only.
//   node bench/shared-resources.ts [--only tcp,http,metrics] [--main PATH] [--seconds 8] [--bare] [--pin]
// --main runs another checkout's src/main.ts (for a before figure: `git worktree add /tmp/x main`).
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { BUNDLED_EXAMPLE } from '../src/config.ts';
import { TYPE } from '../src/dns/constants.ts';
import { holdTcp, slowHeaders, victimTcp } from '../test/support/abuse.ts';
import { cpuSeconds, percentile, probe, rssMiB } from '../test/support/load.ts';
import { MAIN, startServer, type ServerProcess } from '../test/support/process.ts';

const { values } = parseArgs({
  options: {
    only: { type: 'string', default: 'tcp,http,metrics' },
    main: { type: 'string', default: MAIN },
    seconds: { type: 'string', default: '8' },
    holder: { type: 'string', default: '1000' },
    victims: { type: 'string', default: '299' },
    slow: { type: 'string', default: '18000' },
    bare: { type: 'boolean', default: false },
    pin: { type: 'boolean', default: false },
  },
});
const parts = new Set(values.only.split(','));
const seconds = Math.min(Math.max(Number(values.seconds) || 8, 1), 60);
const holderCount = Math.min(Number(values.holder) || 1000, 5000);
const victimCount = Math.min(Number(values.victims) || 299, 5000);
// Each slow connection is a file descriptor here and one in the server (ulimit -n).
const slowCount = Math.min(Number(values.slow) || 18000, 19000);
const NAME = 'web.shop.svc.cluster.local';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const figures: Record<string, unknown> = {
  main: values.main,
  imageEnv: !values.bare,
  pinned: values.pin,
  loadAverage: loadavg()[0],
  date: new Date().toISOString(),
};

/** The Dockerfile's memory settings, as the Deployment runs the server (--bare: none). */
const IMAGE_ENV = { NODE_OPTIONS: '--max-semi-space-size=2', MALLOC_ARENA_MAX: '1', MALLOC_TRIM_THRESHOLD_: '131072' };

function pin(pid: number, cpu: number): void {
  if (!values.pin) return;
  spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}

async function withServer<T>(fn: (server: ServerProcess) => Promise<T>): Promise<T> {
  const server = await startServer(['--manifests', BUNDLED_EXAMPLE], values.bare ? {} : IMAGE_ENV, 15_000, { main: values.main });
  pin(server.child.pid!, 0);
  try {
    await sleep(1_000);
    return await fn(server);
  } finally {
    await server.stop();
  }
}

/** One counter of the server's /metrics, or null where this build has none. */
async function counter(server: ServerProcess, name: string): Promise<number | null> {
  const text = await (
    await fetch(`http://${server.metrics!.host}:${server.metrics!.port}/metrics`, { signal: AbortSignal.timeout(5_000) })
  ).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

pin(process.pid, 1);

/** `concurrency` keep-alive loops fetching /metrics back to back for `ms`; posts the counts. */
const SCRAPERS = `
const http = require('node:http');
const { parentPort, workerData: { target, ms, concurrency } } = require('node:worker_threads');
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
let scrapes = 0, bytes = 0, failed = 0;
const one = () => new Promise((resolve) => {
  const req = http.get({ host: target.host, port: target.port, path: '/metrics', agent, timeout: 5000 }, (res) => {
    res.on('data', (d) => (bytes += d.length));
    res.on('end', () => { if (res.statusCode === 200) scrapes++; else failed++; resolve(); });
  });
  req.on('timeout', () => req.destroy());
  req.on('error', () => { failed++; resolve(); });
});
const started = performance.now();
Promise.all(Array.from({ length: concurrency }, async () => {
  while (performance.now() - started < ms) await one();
})).then(() => { agent.destroy(); parentPort.postMessage({ scrapes, bytes, failed }); });
`;

if (parts.has('tcp')) {
  await withServer(async (server) => {
    const holder = await holdTcp(server.dns, '127.0.0.2', holderCount, { intervalMs: 5_000, name: NAME });
    await sleep(3_000);
    const started = performance.now();
    const answered = await victimTcp(server.dns, '127.0.0.3', victimCount, { concurrency: 10, timeoutMs: 3_000, name: NAME });
    figures.tcp = {
      holderConnections: holderCount,
      victimAnswered: `${answered}/${victimCount}`,
      victimSeconds: +((performance.now() - started) / 1000).toFixed(1),
      clientLimitTotal: await counter(server, 'cluster_dns_tcp_client_limit_total'),
      idleEvictionsTotal: await counter(server, 'cluster_dns_tcp_idle_evictions_total'),
      rejectedTotal: await counter(server, 'cluster_dns_tcp_rejected_total'),
    };
    holder.stop();
  });
  console.log('tcp', JSON.stringify(figures.tcp));
}

if (parts.has('http')) {
  await withServer(async (server) => {
    const pid = server.child.pid!;
    const target = server.metrics!;
    const rssBefore = rssMiB(pid);
    // Kept at slowCount open (reopened as the server closes them), a byte on each every second.
    // 1,000 pods' worth of source addresses: 18 connections each at the default 18,000.
    let peak = rssBefore;
    let health = { asked: 0, ok: 0, worstMs: 0 };
    const sample = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 250);
    const deadline = performance.now() + seconds * 1000;
    const from = (i: number) => {
      const n = 1 + (i % 1000);
      return `127.1.${n >> 8}.${n & 255}`;
    };
    // /health twice a second meanwhile, bounded by the deadline.
    const prober = (async () => {
      while (performance.now() < deadline) {
        health.asked++;
        const t = performance.now();
        try {
          const res = await fetch(`http://${server.health!.host}:${server.health!.port}/health`, {
            signal: AbortSignal.timeout(2_000),
            headers: { connection: 'close' },
          });
          if (res.status === 200) health.ok++;
          await res.text();
        } catch {
          // counted as not ok
        }
        health.worstMs = Math.max(health.worstMs, performance.now() - t);
        await sleep(500);
      }
    })();
    const attack = await slowHeaders(target, slowCount, { trickleMs: 1_000, from, path: '/metrics', reopen: true });
    await prober;
    const openAtEnd = attack.open();
    const rssDuring = rssMiB(pid);
    await attack.stop();
    await sleep(5_000);
    clearInterval(sample);
    health = { ...health, worstMs: Math.round(health.worstMs) };
    figures.http = {
      slowTarget: slowCount,
      seconds,
      opened: attack.opened(),
      closedByServer: attack.closed(),
      openAtEnd,
      rssMiBBefore: +rssBefore.toFixed(1),
      rssMiBPeak: +peak.toFixed(1),
      rssMiBAtEnd: +rssDuring.toFixed(1),
      rssMiB5sAfter: +rssMiB(pid).toFixed(1),
      health: `${health.ok}/${health.asked} ok, slowest ${health.worstMs} ms`,
    };
  });
  console.log('http', JSON.stringify(figures.http));
}

if (parts.has('metrics')) {
  await withServer(async (server) => {
    const pid = server.child.pid!;
    const calm = probe(server.dns, NAME, TYPE.A, { intervalMs: 5, maxMs: seconds * 1000 });
    await sleep(seconds * 1000);
    const quiet = await calm.stop();
    const cpuBefore = cpuSeconds(pid);
    const started = performance.now();
    const during = probe(server.dns, NAME, TYPE.A, { intervalMs: 5, maxMs: seconds * 1000 });
    // The scrapers in a thread of their own, so that reading the texts does not delay the probe.
    const scrapers = new Worker(SCRAPERS, { eval: true, workerData: { target: server.metrics, ms: seconds * 1000, concurrency: 8 } });
    const [{ scrapes, bytes, failed }] = (await once(scrapers, 'message')) as [{ scrapes: number; bytes: number; failed: number }];
    const elapsed = (performance.now() - started) / 1000;
    const cpu = cpuSeconds(pid) - cpuBefore;
    const scraping = await during.stop();
    figures.metrics = {
      seconds,
      probeCalm: `${quiet.answered}/${quiet.asked}, p50 ${percentile(quiet.latencies, 50).toFixed(3)} ms, p99 ${percentile(quiet.latencies, 99).toFixed(3)} ms`,
      probeScraping: `${scraping.answered}/${scraping.asked}, p50 ${percentile(scraping.latencies, 50).toFixed(3)} ms, p99 ${percentile(scraping.latencies, 99).toFixed(3)} ms`,
      scrapesPerSecond: Math.round(scrapes / elapsed),
      failedScrapes: failed,
      kiBPerScrape: +(bytes / Math.max(1, scrapes) / 1024).toFixed(1),
      // The probe's own queries and the server's timers are in this too.
      serverCpuPerSecond: +(cpu / elapsed).toFixed(2),
      serverCpuMsPerScrape: +((cpu * 1000) / Math.max(1, scrapes)).toFixed(2),
    };
  });
  console.log('metrics', JSON.stringify(figures.metrics));
}

console.log(JSON.stringify(figures));
