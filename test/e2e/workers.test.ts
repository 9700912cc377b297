// --workers 2: two processes on one port, one watching; a change reaches both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLED_EXAMPLE } from '../../src/config.ts';
import { TYPE } from '../../src/dns/constants.ts';
import { queryTcp, queryUdp } from '../support/client.ts';
import { buildQuery, decode } from '../support/dns.ts';
import { startServer, type ServerProcess } from '../support/process.ts';

let asked = 0;
/** Many queries, each from a fresh source port, so the kernel spreads them over both processes. */
async function answersOf(server: ServerProcess, n: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    asked++;
    const raw = await queryUdp(server.dns, buildQuery('cache.data.svc.cluster.local', TYPE.A), 1_000);
    seen.add(raw ? (decode(raw).answer[0] ?? 'none') : 'no reply');
  }
  return seen;
}

test('--workers 2: both processes answer, and a change reaches both', { timeout: 30_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cdns-workers-'));
  const file = join(dir, 'cluster.yaml');
  copyFileSync(BUNDLED_EXAMPLE, file);
  const server = await startServer(['--manifests', file, '--workers', '2']);
  t.after(() => server.stop());
  // The replica announces itself once it has the index.
  const deadline = Date.now() + 10_000;
  while (!server.stdout().includes('"msg":"worker started"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 500));
  const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(server.child.pid)], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .filter(Boolean);
  assert.equal(children.length, 1, 'one replica process');

  assert.deepEqual([...(await answersOf(server, 60))], ['cache.data.svc.cluster.local. 5 IN A 10.96.20.30']);
  writeFileSync(file, readFileSync(file, 'utf8').replaceAll('10.96.20.30', '10.96.20.31'));
  const until = Date.now() + 5_000;
  let seen = await answersOf(server, 60);
  while (Date.now() < until && !(seen.size === 1 && seen.has('cache.data.svc.cluster.local. 5 IN A 10.96.20.31'))) {
    await new Promise((r) => setTimeout(r, 200));
    seen = await answersOf(server, 60);
  }
  assert.deepEqual([...seen], ['cache.data.svc.cluster.local. 5 IN A 10.96.20.31'], 'no process left answering the old address');

  // /metrics (the watching process) sums both processes' counters: every query is counted once.
  // (With 120+ queries from fresh ports, both processes answered some: 2^-119 odds otherwise.)
  const text = await fetch(`http://${server.metrics!.host}:${server.metrics!.port}/metrics`).then((r) => r.text());
  const total = (name: string) =>
    [...text.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\d+)$`, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0);
  assert.equal(total('coredns_dns_requests_total'), asked);
  assert.equal(total('coredns_dns_responses_total'), asked);
  assert.equal(total('coredns_dns_request_duration_seconds_count'), asked);
  const tcp = decode(await queryTcp(server.dns, buildQuery('cache.data.svc.cluster.local', TYPE.A)));
  assert.deepEqual(tcp.answer, ['cache.data.svc.cluster.local. 5 IN A 10.96.20.31']);
  assert.equal(await server.stop(), 0);
});
