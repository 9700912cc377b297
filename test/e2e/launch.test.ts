// `node src/main.ts` started without any flag re-executes itself once with the memory settings
// (src/launch.ts): the same pid, so SIGTERM and lameduck behave as before and the exit status is
// the server's; the user's own flags and variables are kept; CLUSTER_DNS_TUNED runs as started.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { TYPE } from '../../src/dns/constants.ts';
import { BUNDLED_EXAMPLE } from '../../src/config.ts';
import { buildQuery, decode } from '../support/dns.ts';
import { queryUdp } from '../support/client.ts';
import { runMain, startServer, type ServerProcess } from '../support/process.ts';

const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
const environ = (pid: number) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
/** The memory settings, in the debug line with the config. */
const configLine = (server: ServerProcess) =>
  JSON.parse(
    server
      .stdout()
      .split('\n')
      .find((l) => l.includes('"msg":"config"'))!,
  ) as { memory: { heapLimitMiB: number; limitMiB: number | null; limitFrom: string | null; nodeFlags: string[] } };

async function ready(server: ServerProcess): Promise<number> {
  const res = await fetch(`http://${server.ready!.host}:${server.ready!.port}/ready`, { signal: AbortSignal.timeout(5_000) });
  await res.arrayBuffer();
  return res.status;
}

test('plain `node src/main.ts`: re-executed once with the memory settings, same pid; SIGTERM still lameducks and exits 0', async (t) => {
  const server = await startServer(['--manifests', BUNDLED_EXAMPLE, '--lameduck', '1s', '--memory-limit', '512Mi', '--log-level', 'debug']);
  t.after(() => server.stop());
  const pid = server.child.pid!;
  const args = cmdline(pid);
  assert.ok(args.includes('--max-semi-space-size=2'), args.join(' '));
  assert.ok(args.includes('--max-old-space-size=307'), '60 % of 512 MiB');
  assert.equal(args.filter((a) => a.endsWith('main.ts')).length, 1);
  const after = args.slice(args.findIndex((a) => a.endsWith('main.ts')) + 1);
  assert.deepEqual(
    [after.slice(0, 2), after.slice(-6)],
    [
      ['--listen', '127.0.0.1:0'],
      ['--lameduck', '1s', '--memory-limit', '512Mi', '--log-level', 'debug'],
    ],
    'the arguments kept, in order',
  );
  const env = environ(pid);
  for (const pair of ['MALLOC_ARENA_MAX=1', 'MALLOC_TRIM_THRESHOLD_=131072', 'CLUSTER_DNS_TUNED=1']) assert.ok(env.includes(pair), pair);
  const { memory } = configLine(server);
  assert.deepEqual([memory.limitMiB, memory.limitFrom], [512, '--memory-limit']);
  assert.ok(memory.heapLimitMiB >= 307 && memory.heapLimitMiB < 400, `V8's heap limit ${memory.heapLimitMiB} MiB`);
  assert.equal(decode((await queryUdp(server.dns, buildQuery('web.shop.svc.cluster.local', TYPE.A)))!).rcode, 'NOERROR');

  // The signal reaches the server itself (there is no wrapper process), which lameducks.
  const exited = once(server.child, 'exit') as Promise<[number | null]>;
  server.child.kill('SIGTERM');
  let status = await ready(server);
  for (let i = 0; i < 50 && status === 200; i++) {
    await new Promise((r) => setTimeout(r, 20));
    status = await ready(server);
  }
  assert.equal(status, 503);
  assert.ok(await queryUdp(server.dns, buildQuery('web.shop.svc.cluster.local', TYPE.A)), 'DNS answers during lameduck');
  const [code] = await exited;
  assert.equal(code, 0);
});

test("the user's flags and variables win; CLUSTER_DNS_TUNED=1 runs exactly as started; exit statuses are the server's", async (t) => {
  const own = await startServer(['--manifests', BUNDLED_EXAMPLE], { NODE_OPTIONS: '--max-semi-space-size=4', MALLOC_ARENA_MAX: '2' });
  t.after(() => own.stop());
  assert.ok(!cmdline(own.child.pid!).some((a) => a.startsWith('--max-semi-space-size')), 'no second semi-space flag');
  const env = environ(own.child.pid!);
  assert.ok(env.includes('MALLOC_ARENA_MAX=2') && env.includes('MALLOC_TRIM_THRESHOLD_=131072'), env.join(' '));

  const asStarted = await startServer(['--manifests', BUNDLED_EXAMPLE, '--log-level', 'debug'], { CLUSTER_DNS_TUNED: '1' });
  t.after(() => asStarted.stop());
  assert.deepEqual(configLine(asStarted).memory.nodeFlags, []);
  assert.ok(!environ(asStarted.child.pid!).some((p) => p.startsWith('MALLOC_')));

  const bad = await runMain(['--ttl', 'x']);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, 'cluster-dns: --ttl: must be an integer from 0 to 3600 (got "x")\n');
});
