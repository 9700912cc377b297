// What a --manifests reload costs the event loop and the memory (issue 23, item 6). The production
// build serves a small manifests file; the file is then replaced (write and rename, as an editor
// or a ConfigMap does) by each case in turn, while a probe asks a cluster name every 5 ms:
//   json-150k   the synthetic cluster as one JSON List (10,000 Services, 150,000 Pods, ~47 MB)
//   yaml-30k    the same shape in YAML with 30,000 pods (~9 MB: YAML costs js-yaml ~30x its size)
//   alias-bomb  ~500 bytes of YAML aliases that expand to 10^6 pods
// Printed per case: how the reload ended and how long it took, the probe's longest wait and gap
// during it, and the server's RSS before, at its peak (VmHWM, reset before each case) and 10 s
// after.
// Loopback only; bounded (each reload gets 180 s).
//   node bench/manifests-stall.ts [--cases json-150k,yaml-30k,alias-bomb] [--dist DIR --old] [--no-build]
// (--dist DIR --old runs another build, e.g. main's, which has no --manifests-max-size.)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { dump } from 'js-yaml';
import { rssMiB } from '../test/support/load.ts';
import { imageRuntime } from './image.ts';
import { log, now, pinSelf, sleep, stallFigures, startProbe, startServer, until } from './stall.ts';
import { clusterObjects } from './synthetic.ts';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: 'json-150k,yaml-30k,alias-bomb' },
    dist: { type: 'string' },
    old: { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
  },
});
const root = new URL('..', import.meta.url).pathname;
if (!values['no-build'] && !values.dist) execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
pinSelf();

const work = mkdtempSync(join(tmpdir(), 'cdns-manifests-stall-'));
const file = join(work, 'cluster.yaml');
const jsonFile = join(work, 'cluster.json');

function bomb(): string {
  const ten = (anchor: string) => `[${Array(10).fill(`*${anchor}`).join(',')}]`;
  let yaml = 'kind: List\nx0: &x0 {kind: Pod, metadata: {name: bomb, namespace: ns-1}, status: {podIP: 10.1.0.1}}\n';
  for (let i = 1; i <= 5; i++) yaml += `x${i}: &x${i} {kind: List, items: ${ten(`x${i - 1}`)}}\n`;
  return `${yaml}items: ${ten('x5')}\n`;
}
/** The case's content, and which file of the served folder it goes to (the other is emptied). */
const CASES: Record<string, () => { json: boolean; text: string }> = {
  'json-150k': () => ({ json: true, text: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [...clusterObjects(150_000)] }) }),
  'yaml-30k': () => ({ json: false, text: [...clusterObjects(30_000)].map((o) => dump(o)).join('---\n') }),
  'alias-bomb': () => ({ json: false, text: bomb() }),
};
const small = [...clusterObjects(0)]
  .slice(0, 300)
  .map((o) => dump(o))
  .join('---\n');

/** Replaces a file whole, as editors and ConfigMap mounts do. */
function replace(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}
const hwm = (pid: number) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN) / 1024;

replace(file, small);
replace(jsonFile, '{"kind":"List","items":[]}');
const image = imageRuntime(root);
const server = await startServer({
  dist: values.dist ?? join(root, 'dist'),
  nodeFlags: image.nodeFlags,
  env: { PATH: process.env.PATH, ...image.env },
  args: [
    '--manifests',
    work,
    '--health',
    'off',
    '--ready',
    'off',
    '--metrics',
    'off',
    ...(values.old ? [] : ['--manifests-max-size', '64Mi']),
  ],
});
const results: Record<string, unknown>[] = [];
try {
  for (const name of values.cases.split(',')) {
    const make = CASES[name];
    if (!make) throw new Error(`no case ${name}`);
    const { json, text } = make();
    // Back to the small cluster first, so that every case starts from the same index.
    const ended = () =>
      server.lines('manifests reloaded').length + server.lines('manifests reload failed; keeping the last good index').length;
    let seen = ended();
    replace(file, small);
    replace(jsonFile, '{"kind":"List","items":[]}');
    await until('the reset', () => ended() > seen, 60_000);
    await sleep(2_000);
    const rssBefore = +rssMiB(server.child.pid!).toFixed(1);
    writeFileSync(`/proc/${server.child.pid}/clear_refs`, '5'); // resets VmHWM
    const probe = startProbe(server.dns, 'svc-1.ns-1.svc.cluster.local', { intervalMs: 5, maxMs: 200_000 });
    await sleep(1_000);
    seen = ended();
    replace(json ? jsonFile : file, text);
    if (json) replace(file, '');
    // From here: writing the file held this process, not the server (the poll notices it within 1 s).
    const started = now();
    await until(`${name} reloaded`, () => ended() > seen, 180_000);
    const finished = now();
    await sleep(1_000);
    const samples = await probe.stop();
    // V8 keeps a dead worker's heap pages pooled for a few seconds before it gives them back.
    await sleep(10_000);
    const rssAfter = +rssMiB(server.child.pid!).toFixed(1);
    type Ended = { err?: string; Pod?: number; time: number | string };
    // Log times are epoch ms, or ISO strings in builds whose logger writes those.
    const at = (e: Ended) => (typeof e.time === 'number' ? e.time : Date.parse(e.time));
    const last = [
      ...server.lines<Ended>('manifests reloaded'),
      ...server.lines<Ended>('manifests reload failed; keeping the last good index'),
    ]
      .sort((a, b) => at(a) - at(b))
      .at(-1)!;
    results.push({
      case: name,
      bytes: Buffer.byteLength(text),
      outcome: last.err ? `refused: ${last.err.slice(last.err.indexOf(': ') + 2, 160)}` : `reloaded (${last.Pod} pods)`,
      reloadMs: Math.round(finished - started),
      duringReload: stallFigures(samples, [[started, finished]]),
      rssBeforeMiB: rssBefore,
      peakRssMiB: +hwm(server.child.pid!).toFixed(1),
      rssAfterMiB: rssAfter,
    });
    log(JSON.stringify(results.at(-1)));
  }
  for (const r of results) {
    const f = r.duringReload as ReturnType<typeof stallFigures>;
    process.stdout.write(
      `${String(r.case).padEnd(12)} ${((r.bytes as number) / 1048576).toFixed(1).padStart(6)} MB  ${String(r.reloadMs).padStart(6)} ms  probe wait p99 ${f.p99WaitMs} ms, max ${f.maxWaitMs} ms, gap ${f.maxGapMs} ms; RSS ${r.rssBeforeMiB} -> peak ${r.peakRssMiB} -> ${r.rssAfterMiB} MiB; ${r.outcome}\n`,
    );
  }
  process.stdout.write(`${JSON.stringify({ build: values.dist ?? 'this branch', results })}\n`);
} finally {
  await server.stop();
}
