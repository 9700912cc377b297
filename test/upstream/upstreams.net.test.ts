// Upstream selection and timing: retransmit timers that follow measured round trips, the
// policies, and health from probes (down after --max-fails failed probes, never from queries).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/base/log.ts';
import { ForwardStats } from '../../src/upstream/stats.ts';
import { Transport, upstream } from '../../src/upstream/transport.ts';
import { DEFAULT_TIMING, type Timing, UpstreamPool, UpstreamState } from '../../src/upstream/upstreams.ts';
import { FakeUpstream } from '../support/upstream.ts';

test('the retransmit timer follows the measured round trips (SRTT + 4 RTTVAR), within bounds', () => {
  const s = new UpstreamState(upstream('192.0.2.1', 53));
  assert.equal(s.rtoMs(DEFAULT_TIMING), DEFAULT_TIMING.initialRtoMs, 'nothing measured yet: RFC 6298 1 s');
  for (let i = 0; i < 20; i++) s.measured(5);
  assert.equal(s.rtoMs(DEFAULT_TIMING), DEFAULT_TIMING.minRtoMs, 'a fast upstream: the floor');
  const slow = new UpstreamState(upstream('192.0.2.2', 53));
  for (let i = 0; i < 20; i++) slow.measured(i % 2 === 0 ? 200 : 300);
  const t = slow.rtoMs(DEFAULT_TIMING);
  assert.ok(t > 300 && t < 1_000, `a slow, jittery upstream is waited for before sending again: ${t} ms`);
  const dying = new UpstreamState(upstream('192.0.2.3', 53));
  for (let i = 0; i < 20; i++) dying.measured(10_000);
  assert.equal(dying.rtoMs(DEFAULT_TIMING), DEFAULT_TIMING.maxRtoMs, 'never beyond the ceiling (CoreDNS read timeout 2 s)');
});

function pool(
  options: {
    hosts?: string[];
    policy?: 'random' | 'round_robin' | 'sequential';
    random?: () => number;
    stats?: ForwardStats;
    transport?: Transport;
    timing?: Timing;
    maxFails?: number;
    ports?: number[];
  } = {},
) {
  const transport = options.transport ?? new Transport({ onSpoofed: () => {} });
  const hosts = options.hosts ?? ['192.0.2.1', '192.0.2.2', '192.0.2.3'];
  return new UpstreamPool({
    upstreams: hosts.map((h, i) => upstream(h, options.ports?.[i] ?? 53)),
    policy: options.policy ?? 'sequential',
    transport,
    stats: options.stats ?? new ForwardStats(),
    logger: silentLogger(),
    ...(options.random ? { random: options.random } : {}),
    ...(options.timing ? { timing: options.timing } : {}),
    ...(options.maxFails === undefined ? {} : { maxFails: options.maxFails }),
  });
}

test('policies: sequential keeps the order, round_robin rotates, random shuffles; down upstreams are left out', () => {
  const transport = new Transport({ onSpoofed: () => {} });
  const hosts = (p: UpstreamPool) =>
    p
      .candidates()
      .map((s) => s.upstream.host.slice(-1))
      .join('');
  const seq = pool({ transport });
  assert.deepEqual([hosts(seq), hosts(seq)], ['123', '123']);
  const rr = pool({ transport, policy: 'round_robin' });
  assert.deepEqual([hosts(rr), hosts(rr), hosts(rr), hosts(rr)], ['123', '231', '312', '123']);
  const values = [0.1, 0.9, 0.5, 0.2];
  let i = 0;
  const rnd = pool({ transport, policy: 'random', random: () => values[i++ % values.length]! });
  const seen = new Set([hosts(rnd), hosts(rnd), hosts(rnd)]);
  assert.ok(seen.size >= 2, `random order varies: ${[...seen]}`);
  seq.states[0]!.down = true;
  assert.equal(hosts(seq), '23');
  seq.markLoop(seq.states[1]!);
  assert.equal(hosts(seq), '3');
  for (const p of [seq, rr, rnd]) p.close();
  transport.close();
});

test('every upstream down: all of them are still candidates (random order), each query counted in healthcheck_broken', () => {
  const stats = new ForwardStats();
  const p = pool({ stats });
  for (const s of p.states) s.down = true;
  for (let i = 0; i < 5; i++) assert.equal(p.candidates().length, 3);
  assert.equal(stats.healthcheckBroken, 5, 'per query, as CoreDNS counts it (then it picks one at random)');
  p.states[2]!.down = false;
  assert.deepEqual(
    p.candidates().map((s) => s.upstream.host),
    ['192.0.2.3'],
  );
  assert.equal(stats.healthcheckBroken, 5);
  // Loops are never candidates, down or not: with only loops left there is nobody to ask.
  for (const s of p.states) p.markLoop(s);
  assert.deepEqual(p.candidates(), []);
  assert.equal(stats.healthcheckBroken, 5);
  p.close();
});

test('a timeout starts one probe (rate-limited); any reply, SERVFAIL too, is healthy; --max-fails failed probes mark it down', async (t) => {
  const up = await FakeUpstream.start();
  t.after(() => up.close());
  const transport = new Transport({ onSpoofed: () => {} });
  t.after(() => transport.close());
  const timing: Timing = { ...DEFAULT_TIMING, probeTimeoutMs: 100, probeIntervalMs: 50, maxProbeIntervalMs: 200 };
  const stats = new ForwardStats();
  const p = pool({ transport, stats, timing, hosts: ['127.0.0.1'], ports: [up.port], maxFails: 3 });
  t.after(() => p.close());
  const state = p.states[0]!;
  const probes = () => up.received.filter((r) => r.name === '').length;
  up.fallback = { kind: 'servfail' };
  for (let i = 0; i < 10; i++) p.timedOut(state);
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(probes(), 1, 'one probe for ten timeouts');
  assert.equal(state.fails, 0, 'a SERVFAIL reply is a reply');
  p.timedOut(state);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(probes(), 2, 'another timeout after the interval: another probe');

  up.fallback = { kind: 'silent' };
  await new Promise((r) => setTimeout(r, 60));
  p.timedOut(state);
  const deadline = Date.now() + 3_000;
  while (!state.down && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(state.down, true);
  assert.equal(state.fails, 3, 'down after --max-fails (3) failed probes in a row');
  assert.equal(stats.upstream(`127.0.0.1:${up.port}`).healthcheckFailures, 3);
  assert.equal(stats.upstream(`127.0.0.1:${up.port}`).downs, 1);
  // Down: probed on with backoff until it answers.
  up.fallback = { kind: 'nxdomain' };
  const back = Date.now() + 3_000;
  while (state.down && Date.now() < back) await new Promise((r) => setTimeout(r, 10));
  assert.equal(state.down, false, 'a probe reply brings it back');
  assert.equal(state.fails, 0);
});

test('a reply to a query marks a down upstream up; a null round trip (an ambiguous repeat) teaches nothing', () => {
  const p = pool({ hosts: ['192.0.2.1'] });
  const s = p.states[0]!;
  s.down = true;
  p.answered(s, null);
  assert.equal(s.down, false);
  assert.equal(s.srttMs, null, 'no sample');
  p.answered(s, 40);
  assert.equal(s.srttMs, 40);
  p.close();
});
