// Upstream selection and timing: timeouts that follow measured round trips, and the policies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/observe/log.ts';
import { ForwardStats } from '../../src/upstream/stats.ts';
import { Transport, upstream } from '../../src/upstream/transport.ts';
import { DEFAULT_TIMING, UpstreamPool, UpstreamState } from '../../src/upstream/upstreams.ts';

test('the timeout follows the measured round trips (SRTT + 4 RTTVAR), within bounds', () => {
  const s = new UpstreamState(upstream('192.0.2.1', 53));
  assert.equal(s.timeoutMs(DEFAULT_TIMING), DEFAULT_TIMING.initialTimeoutMs, 'nothing measured yet');
  for (let i = 0; i < 20; i++) s.measured(5);
  assert.equal(s.timeoutMs(DEFAULT_TIMING), DEFAULT_TIMING.minTimeoutMs, 'a fast upstream: the floor');
  const slow = new UpstreamState(upstream('192.0.2.2', 53));
  for (let i = 0; i < 20; i++) slow.measured(i % 2 === 0 ? 400 : 600);
  const t = slow.timeoutMs(DEFAULT_TIMING);
  assert.ok(t > 600 && t < 1_500, `a slow, jittery upstream is waited for: ${t} ms (CoreDNS: a fixed 2 s)`);
  const dying = new UpstreamState(upstream('192.0.2.3', 53));
  for (let i = 0; i < 20; i++) dying.measured(10_000);
  assert.equal(dying.timeoutMs(DEFAULT_TIMING), DEFAULT_TIMING.maxTimeoutMs, 'never beyond the ceiling');
});

test('policies: sequential keeps the order, round_robin rotates, random shuffles; down upstreams are left out', () => {
  const transport = new Transport({ onSpoofed: () => {} });
  const make = (policy: 'random' | 'round_robin' | 'sequential', random?: () => number) =>
    new UpstreamPool({
      upstreams: ['192.0.2.1', '192.0.2.2', '192.0.2.3'].map((h) => upstream(h, 53)),
      policy,
      transport,
      stats: new ForwardStats(),
      logger: silentLogger(),
      ...(random ? { random } : {}),
    });
  const hosts = (p: UpstreamPool) => p.order().map((s) => s.upstream.host.slice(-1)).join('');
  const seq = make('sequential');
  assert.deepEqual([hosts(seq), hosts(seq)], ['123', '123']);
  const rr = make('round_robin');
  assert.deepEqual([hosts(rr), hosts(rr), hosts(rr), hosts(rr)], ['123', '231', '312', '123']);
  const rnd = make('random', (() => {
    let i = 0;
    const values = [0.1, 0.9, 0.5, 0.2];
    return () => values[i++ % values.length]!;
  })());
  const seen = new Set([hosts(rnd), hosts(rnd), hosts(rnd)]);
  assert.ok(seen.size >= 2, `random order varies: ${[...seen]}`);
  seq.states[0]!.down = true;
  assert.equal(hosts(seq), '23');
  seq.markLoop(seq.states[1]!);
  assert.equal(hosts(seq), '3');
  for (const p of [seq, rr, rnd]) p.close();
  transport.close();
});
