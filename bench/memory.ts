// Where the bytes go after sync: the production build started against the kube-apiserver double
// twice, with an empty cluster and with the synthetic one (10,000 Services, 150,000 Pods by
// default), and for each the RSS split (anonymous, file-backed) and V8's heap spaces, as /proc
// and the server's own nodejs_* metrics report them. The difference is what the index costs;
// the empty run is what Node, the libraries and the server cost before any data.
// Loopback only; bounded (each server gets 60 s to become ready).
//   node_modules/.bin/node bench/memory.ts [--pods 150000] [--node-flags "…"] [--no-build]
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FakeApiServer, type ApiObject } from '../test/support/apiserver.ts';
import { imageRuntime } from './image.ts';
import { clusterObjects } from './synthetic.ts';

const { values } = parseArgs({
  options: { pods: { type: 'string', default: '150000' }, 'node-flags': { type: 'string' }, 'no-build': { type: 'boolean', default: false } },
});
const root = new URL('..', import.meta.url).pathname;
const image = imageRuntime(root, values['node-flags']);
const nodeFlags = image.nodeFlags;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mib = (bytes: number) => +(bytes / 1024 / 1024).toFixed(1);

function status(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const m = /^(VmRSS|RssAnon|RssFile|RssShmem|VmHWM):\s+(\d+) kB/.exec(line);
    if (m) out[m[1]!] = +(Number(m[2]) / 1024).toFixed(1);
  }
  return out;
}

async function metrics(port: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^(nodejs_heap_space_size_used_bytes\{space="(\w+)"\}|nodejs_heap_size_used_bytes|nodejs_heap_size_total_bytes|nodejs_external_memory_bytes) ([\d.e+]+)$/gm)) {
    out[m[2] ? `used:${m[2]}` : m[1]!] = mib(Number(m[3]));
  }
  return out;
}

async function measure(objects: readonly object[], label: string): Promise<Record<string, unknown>> {
  const api = await FakeApiServer.start({ bookmarkIntervalMs: 30_000 });
  for (const obj of objects) api.apply(obj as ApiObject);
  const work = mkdtempSync(join(tmpdir(), 'cdns-memory-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeFlags, join(root, 'dist/main.js'), '--kubeconfig', api.writeKubeconfig(work), '--listen', '127.0.0.1:0', '--health', 'off',
      '--ready', 'off', '--metrics', '127.0.0.1:0', '--resolv-conf', '/dev/null', '--lameduck', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...image.env } },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  try {
    const deadline = Date.now() + 60_000;
    // Every kind (Namespace, Service, EndpointSlice, Pod) logs "synced"; the memory release follows.
    while ((out.match(/"msg":"synced"/g) ?? []).length < 4 || !out.includes('"msg":"serving"')) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${label}: not synced: ${out.slice(-2000)}`);
      await sleep(50);
    }
    await sleep(4_000); // past the settle delay and the memory release
    const serving = JSON.parse(out.split('\n').find((l) => l.includes('"msg":"serving"'))!) as { metrics: { port: number } };
    return { label, ...status(child.pid!), ...(await metrics(serving.metrics.port)) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await api.close();
  }
}

if (!values['no-build']) execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
const pods = Number(values.pods);
const empty = await measure([...clusterObjects(0)].filter((o) => (o as { kind: string }).kind === 'Namespace'), 'namespaces only');
const full = await measure([...clusterObjects(pods)], `${pods} pods, 10000 services`);
const rows = [empty, full];
const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => k !== 'label');
process.stdout.write(`${'MiB'.padEnd(28)}${rows.map((r) => String(r.label).padStart(26)).join('')}${'difference'.padStart(12)}\n`);
for (const k of keys) {
  const a = Number(empty[k] ?? 0);
  const b = Number(full[k] ?? 0);
  process.stdout.write(`${k.padEnd(28)}${String(a).padStart(26)}${String(b).padStart(26)}${(b - a).toFixed(1).padStart(12)}\n`);
}
process.stdout.write(`${JSON.stringify({ nodeFlags, env: image.env, rows })}\n`);
