// Forwarding that holds (issue 18), against the real server over the wire and a resolver double
// on loopback: slow names are waited for within --forward-timeout, fast names never fail
// because of slow ones, slow names never take the upstream down, a pod bursting names that never
// resolve is refused before the others and cannot fail them, and with the upstream down every
// question still asks it and is counted as CoreDNS counts it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUNDLED_EXAMPLE } from '../../src/config.ts';
import { TYPE } from '../../src/dns/constants.ts';
import { queryUdp } from '../support/client.ts';
import { buildQuery, decode } from '../support/dns.ts';
import { startServer, type ServerProcess } from '../support/process.ts';
import { ResolverDouble } from '../support/resolver-double.ts';

/** Every name answers at once unless a test says otherwise. */
const ALL_FAST = [{ name: 'fast', share: 1, minMs: 1, maxMs: 1 }];

async function double(t: { after: (fn: () => unknown) => void }): Promise<ResolverDouble> {
  const d = await ResolverDouble.start({ classes: ALL_FAST });
  t.after(() => d.close());
  return d;
}

async function serve(t: { after: (fn: () => unknown) => void }, args: string[]): Promise<ServerProcess> {
  const server = await startServer(['--manifests', BUNDLED_EXAMPLE, ...args]);
  t.after(() => server.stop());
  return server;
}

/** The rcode (and time) of one query from `from`; 'timeout' when no reply came within 8 s. */
async function ask(server: ServerProcess, name: string, from?: string): Promise<{ rcode: string; ms: number; answer: string[] }> {
  const started = performance.now();
  const raw = await queryUdp(server.dns, buildQuery(name, TYPE.A, { id: Math.floor(Math.random() * 0xffff) }), 8_000, from);
  const ms = performance.now() - started;
  if (!raw) return { rcode: 'timeout', ms, answer: [] };
  const reply = decode(raw);
  return { rcode: reply.rcode, ms, answer: reply.answer };
}

/** /metrics renders at most once a second: what happened until now shows a second later. */
const settle = () => new Promise((r) => setTimeout(r, 1_100));

async function metric(server: ServerProcess, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`http://${server.metrics!.host}:${server.metrics!.port}/metrics`)).text();
  const m = new RegExp(`^${pattern.source} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

test('a name the upstream answers after 1.5 s gets its answer, not a SERVFAIL after 100 ms', async (t) => {
  const up = await double(t);
  up.set('slow.example.com', { kind: 'answer', delayMs: 1_500 });
  const server = await serve(t, ['--upstream', up.address]);
  const [slow, fast] = await Promise.all([ask(server, 'slow.example.com'), ask(server, 'fast.example.com')]);
  assert.equal(slow.rcode, 'NOERROR');
  assert.equal(slow.answer.length, 1);
  assert.ok(slow.ms >= 1_400, `answered when the upstream answered: ${Math.round(slow.ms)} ms`);
  assert.equal(fast.rcode, 'NOERROR');
  assert.ok(up.asked('slow.example.com') >= 2, 'asked again meanwhile (the retransmit timer), the first send still listening');
});

test('slow and dead names never fail fast ones, and never mark the only upstream down', async (t) => {
  const up = await double(t);
  for (let i = 0; i < 20; i++) {
    up.set(`slow${i}.example.org`, { kind: 'answer', delayMs: 300 + i * 50 });
    up.set(`dead${i}.example.org`, { kind: 'never' });
  }
  const server = await serve(t, ['--upstream', up.address, '--forward-timeout', '2s']);
  const slow = Array.from({ length: 20 }, (_, i) => ask(server, `slow${i}.example.org`));
  const dead = Array.from({ length: 20 }, (_, i) => ask(server, `dead${i}.example.org`));
  const fast: ReturnType<typeof ask>[] = [];
  // Fast names keep coming while the slow and dead ones are in flight.
  for (let wave = 0; wave < 10; wave++) {
    for (let i = 0; i < 10; i++) fast.push(ask(server, `f${wave}-${i}.example.net`));
    await new Promise((r) => setTimeout(r, 150));
  }
  const fastRcodes = (await Promise.all(fast)).map((r) => r.rcode);
  assert.deepEqual(
    fastRcodes.filter((r) => r !== 'NOERROR'),
    [],
    'every fast name answered',
  );
  assert.deepEqual(
    (await Promise.all(slow)).map((r) => r.rcode),
    Array(20).fill('NOERROR'),
    'every slow name answered',
  );
  assert.deepEqual(
    (await Promise.all(dead)).map((r) => r.rcode),
    Array(20).fill('SERVFAIL'),
    'dead names fail at the deadline',
  );
  assert.ok(up.probes >= 1, 'the timeouts were probed');
  await settle();
  assert.equal(
    await metric(server, new RegExp(`cluster_dns_forward_upstream_down_total\\{to="127\\.0\\.0\\.1:${up.port}"\\}`)),
    0,
    'never marked down',
  );
  assert.equal(await metric(server, new RegExp(`coredns_forward_healthcheck_failures_total\\{to="127\\.0\\.0\\.1:${up.port}"\\}`)), 0);
  assert.equal(await metric(server, /coredns_forward_healthcheck_broken_total/), 0);
  assert.doesNotMatch(server.stdout(), /"msg":"upstream down"/);
});

test('a pod bursting names that never resolve is refused first and cannot fail the other pods', async (t) => {
  const up = await ResolverDouble.start({ classes: ALL_FAST, neverZones: ['blackhole.example'] });
  t.after(() => up.close());
  const server = await serve(t, ['--upstream', up.address, '--forward-timeout', '2s', '--max-concurrent', '40']);
  const hostile: ReturnType<typeof ask>[] = [];
  const victims: ReturnType<typeof ask>[] = [];
  for (let round = 0; round < 15; round++) {
    for (let i = 0; i < 20; i++)
      hostile.push(ask(server, `${round}-${i}-${Math.random().toString(36).slice(2)}.blackhole.example`, '127.0.0.66'));
    victims.push(ask(server, `v${round}.example.com`, '127.0.0.2'), ask(server, `w${round}.example.com`, '127.0.0.3'));
    await new Promise((r) => setTimeout(r, 100));
  }
  const v = await Promise.all(victims);
  assert.deepEqual(
    v.filter((r) => r.rcode !== 'NOERROR'),
    [],
    'every other pod answered',
  );
  const h = (await Promise.all(hostile)).map((r) => r.rcode);
  const refused = h.filter((r) => r === 'REFUSED').length;
  assert.ok(refused > 0, 'the bursting pod was refused');
  assert.equal(h.filter((r) => r !== 'REFUSED' && r !== 'SERVFAIL').length, 0);
  await settle();
  assert.equal(await metric(server, /cluster_dns_forward_client_rejects_total/), refused);
  assert.equal(await metric(server, /coredns_forward_max_concurrent_rejects_total/), 0, 'the budget itself never ran out');
});

test('with the upstream down, every question still asks it, counted in coredns_forward_healthcheck_broken_total; it comes back', async (t) => {
  const up = await double(t);
  const server = await serve(t, ['--upstream', up.address, '--forward-timeout', '300ms', '--max-fails', '1']);
  up.silent = true;
  assert.equal((await ask(server, 'first.example.com')).rcode, 'SERVFAIL');
  // The timeout was probed; one failed probe (1 s) marks it down.
  const downMetric = new RegExp(`cluster_dns_forward_upstream_down_total\\{to="127\\.0\\.0\\.1:${up.port}"\\}`);
  const deadline = Date.now() + 10_000;
  while ((await metric(server, downMetric)) < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await metric(server, downMetric), 1);
  const before = up.asked('q1.example.com') + up.asked('q2.example.com') + up.asked('q3.example.com');
  for (const name of ['q1.example.com', 'q2.example.com', 'q3.example.com']) assert.equal((await ask(server, name)).rcode, 'SERVFAIL');
  assert.ok(
    up.asked('q1.example.com') + up.asked('q2.example.com') + up.asked('q3.example.com') >= before + 3,
    'each asked the down upstream',
  );
  await settle();
  assert.equal(await metric(server, /coredns_forward_healthcheck_broken_total/), 3, 'once per question, as CoreDNS counts it');
  up.silent = false;
  assert.equal((await ask(server, 'back.example.com')).rcode, 'NOERROR', 'its reply is proof of life');
  await settle();
  assert.equal(await metric(server, /coredns_forward_healthcheck_broken_total/), 4);
  assert.equal((await ask(server, 'after.example.com')).rcode, 'NOERROR');
  await settle();
  assert.equal(await metric(server, /coredns_forward_healthcheck_broken_total/), 4, 'up again');
});
