// Where the bytes go after sync: the production build started against the kube-apiserver double
// twice, with an empty cluster and with the synthetic one (10,000 Services, 150,000 Pods by
// default), and for each the RSS split (anonymous, file-backed) and V8's heap spaces, as /proc
// and the server's own nodejs_* metrics report them. The difference is what the index costs;
// the empty run is what Node, the libraries and the server cost before any data.
// Then the same synthetic cluster from --manifests (one JSON List; its parse runs in a worker
// thread): after the load, and after a reload of the same file replaced by rename.
// Loopback only; bounded (each server gets 60 s to become ready, a reload 120 s).
//   node_modules/.bin/node bench/memory.ts [--pods 150000] [--sources api,manifests] [--node-flags "…"] [--no-build]
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FakeApiServer, type ApiObject } from '../test/support/apiserver.ts';
import { imageRuntime } from './image.ts';
import { clusterObjects } from './synthetic.ts';

const { values } = parseArgs({
  options: {
    pods: { type: 'string', default: '150000' },
    sources: { type: 'string', default: 'api,manifests' },
    'node-flags': { type: 'string' },
    'no-build': { type: 'boolean', default: false },
  },
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
  for (const m of text.matchAll(
    /^(nodejs_heap_space_size_used_bytes\{space="(\w+)"\}|nodejs_heap_size_used_bytes|nodejs_heap_size_total_bytes|nodejs_external_memory_bytes) ([\d.e+]+)$/gm,
  )) {
    out[m[2] ? `used:${m[2]}` : m[1]!] = mib(Number(m[3]));
  }
  return out;
}

const SERVER_FLAGS = [
  '--listen',
  '127.0.0.1:0',
  '--health',
  'off',
  '--ready',
  'off',
  '--metrics',
  '127.0.0.1:0',
  '--resolv-conf',
  '/dev/null',
  '--lameduck',
  '0',
];

interface Server {
  readonly child: ChildProcess;
  output(): string;
  /** Waits (bounded) until `done` holds of the output. */
  until(what: string, done: (out: string) => boolean, ms: number): Promise<void>;
  /** The figures now: /proc's RSS split and the server's heap metrics. */
  figures(label: string): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

function startServer(args: readonly string[]): Server {
  const child: ChildProcess = spawn(process.execPath, [...nodeFlags, join(root, 'dist/main.js'), ...args, ...SERVER_FLAGS], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...image.env },
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return {
    child,
    output: () => out,
    until: async (what, done, ms) => {
      const deadline = Date.now() + ms;
      while (!done(out)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${what}: not seen: ${out.slice(-2000)}`);
        await sleep(50);
      }
    },
    figures: async (label) => {
      const serving = JSON.parse(out.split('\n').find((l) => l.includes('"msg":"serving"'))!) as { metrics: { port: number } };
      return { label, ...status(child.pid!), ...(await metrics(serving.metrics.port)) };
    },
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    },
  };
}

/** From the apiserver double: the figures once every kind has synced and the memory release ran. */
async function fromApi(objects: readonly object[], label: string): Promise<Record<string, unknown>> {
  const api = await FakeApiServer.start({ bookmarkIntervalMs: 30_000 });
  for (const obj of objects) api.apply(obj as ApiObject);
  const work = mkdtempSync(join(tmpdir(), 'cdns-memory-'));
  const server = startServer(['--kubeconfig', api.writeKubeconfig(work)]);
  try {
    // Every kind (Namespace, Service, EndpointSlice, Pod) logs "synced"; the memory release follows.
    await server.until(
      `${label}: synced`,
      (out) => (out.match(/"msg":"synced"/g) ?? []).length >= 4 && out.includes('"msg":"serving"'),
      60_000,
    );
    await sleep(4_000); // past the settle delay and the memory release
    return await server.figures(label);
  } finally {
    await server.stop();
    await api.close();
  }
}

/**
 * From a --manifests file: the figures 4 s after the load (as for the API server), then the same
 * file replaced by rename, and the figures 4 s after the reload.
 */
async function fromManifests(objects: readonly object[], label: string): Promise<Record<string, unknown>[]> {
  const work = mkdtempSync(join(tmpdir(), 'cdns-memory-'));
  const file = join(work, 'cluster.json');
  const text = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects });
  writeFileSync(file, text);
  const server = startServer(['--manifests', file, '--manifests-max-size', `${Math.ceil((text.length * 2) / 1048576)}Mi`]);
  try {
    await server.until(`${label}: loaded`, (out) => out.includes('"msg":"manifests loaded"') && out.includes('"msg":"serving"'), 60_000);
    await sleep(4_000);
    const loaded = await server.figures(label);
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
    await server.until(`${label}: reloaded`, (out) => out.includes('"msg":"manifests reloaded"'), 120_000);
    await sleep(4_000);
    return [loaded, await server.figures(`${label}, reload`)];
  } finally {
    await server.stop();
  }
}

if (!values['no-build']) execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
const pods = Number(values.pods);
const sources = new Set(values.sources.split(','));
const namespaces = [...clusterObjects(0)].filter((o) => (o as { kind: string }).kind === 'Namespace');
const cluster = [...clusterObjects(pods)];
const name = `${pods / 1000}k pods`;
const rows: Record<string, unknown>[] = [];
if (sources.has('api')) rows.push(await fromApi(namespaces, 'api: namespaces'), await fromApi(cluster, `api: ${name}`));
if (sources.has('manifests'))
  rows.push(...(await fromManifests(namespaces, 'manifests: namespaces')), ...(await fromManifests(cluster, `manifests: ${name}`)));
const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => k !== 'label');
const width = Math.max(...rows.map((r) => String(r.label).length)) + 2;
// 10000 services (and their slices) with the pods; the namespaces-only runs are the baseline.
process.stdout.write(`${'MiB'.padEnd(28)}${rows.map((r) => String(r.label).padStart(width)).join('')}\n`);
for (const k of keys) process.stdout.write(`${k.padEnd(28)}${rows.map((r) => String(r[k] ?? '').padStart(width)).join('')}\n`);
process.stdout.write(`${JSON.stringify({ nodeFlags, env: image.env, rows })}\n`);
