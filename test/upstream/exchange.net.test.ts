// One question against hand-driven loopback upstreams: when it is sent again (the retransmit
// timer, doubling), that every attempt has its own ID and port and keeps listening, that the
// first good reply wins, which replies teach a round trip (Karn's rule), and the deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { FLAG } from '../../src/dns/constants.ts';
import { silentLogger } from '../../src/base/log.ts';
import { exchange, MAX_SENDS } from '../../src/upstream/exchange.ts';
import { ForwardStats } from '../../src/upstream/stats.ts';
import { ExchangeError, Transport, upstream } from '../../src/upstream/transport.ts';
import { DEFAULT_TIMING, type Timing, UpstreamPool } from '../../src/upstream/upstreams.ts';

const TIMING: Timing = { ...DEFAULT_TIMING, initialRtoMs: 100, minRtoMs: 100, maxRtoMs: 1_000 };
const QUESTION = { name: 'www.example.com', type: 1, class: 1, dnssecOk: false, checkingDisabled: false } as const;

interface Seen {
  readonly id: number;
  readonly port: number;
  readonly at: number;
}

/** An upstream whose n-th query (from 0) is answered after `answer(n)` ms, or never (null). */
async function scripted(
  t: { after: (fn: () => unknown) => void },
  answer: (n: number) => number | null,
): Promise<{ port: number; seen: Seen[] }> {
  const socket: Socket = createSocket('udp4');
  const seen: Seen[] = [];
  const timers: NodeJS.Timeout[] = [];
  t.after(() => {
    for (const timer of timers) clearTimeout(timer);
    socket.close();
  });
  socket.on('message', (msg, rinfo) => {
    if (msg.readUInt16BE(12) === 0) return; // a root probe: not a query of this question
    const n = seen.length;
    seen.push({ id: msg.readUInt16BE(0), port: rinfo.port, at: performance.now() });
    const delay = answer(n);
    if (delay === null) return;
    const reply = Buffer.from(msg);
    reply.writeUInt16BE(FLAG.QR | FLAG.RD | FLAG.RA, 2);
    timers.push(setTimeout(() => socket.send(reply, rinfo.port, '127.0.0.1'), delay));
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, seen };
}

function setup(t: { after: (fn: () => unknown) => void }, ports: number[]) {
  const stats = new ForwardStats();
  const transport = new Transport({ onSpoofed: () => stats.spoofedReplies++ });
  // maxFails 0: no probes, so the scripted upstreams see this question only.
  const pool = new UpstreamPool({
    upstreams: ports.map((p) => upstream('127.0.0.1', p)),
    policy: 'sequential',
    transport,
    stats,
    logger: silentLogger(),
    timing: TIMING,
    maxFails: 0,
  });
  t.after(() => {
    pool.close();
    transport.close();
  });
  const ask = (deadlineMs: number) => exchange(QUESTION, { transport, pool, stats, forceTcp: false, deadlineMs });
  return { stats, transport, pool, ask };
}

test('one upstream: sent again after the RTO, doubling, each time from a new port with a new ID; the first attempt still gets its late answer', async (t) => {
  const up = await scripted(t, (n) => (n === 0 ? 450 : null));
  const { ask, pool, transport, stats } = setup(t, [up.port]);
  const started = performance.now();
  const ex = await ask(2_000);
  assert.equal(ex.message.rcode, 0);
  assert.ok(performance.now() - started >= 440, 'the answer of the first send, 450 ms late');
  assert.ok(up.seen.length >= 2 && up.seen.length <= 3, `sends at 0, 100, 300 ms (got ${up.seen.length})`);
  assert.equal(new Set(up.seen.map((s) => s.id)).size, up.seen.length, 'a new ID each time');
  assert.equal(new Set(up.seen.map((s) => s.port)).size, up.seen.length, 'a new source port each time');
  // Measured from the start (the first datagram waits for its socket's bind, the timer does not).
  const at = up.seen.map((s) => s.at - started);
  assert.ok(at[1]! >= 95, `first repeat after the RTO (100 ms): ${at[1]}`);
  if (at[2] !== undefined) assert.ok(at[2] >= 295, `the next after twice that (100 + 200 ms): ${at[2]}`);
  const srtt = pool.states[0]!.srttMs;
  assert.ok(srtt !== null && srtt >= 440, `the first send's round trip is learnt: ${srtt}`);
  assert.equal(transport.udpInFlight, 0, 'the other attempts are closed once one has won');
  assert.equal(stats.upstream(`127.0.0.1:${up.port}`).requests, up.seen.length);
});

test("Karn's rule: a reply to a repeat sent to the same upstream is no round-trip sample", async (t) => {
  const up = await scripted(t, (n) => (n === 1 ? 0 : null));
  const { ask, pool } = setup(t, [up.port]);
  const ex = await ask(2_000);
  assert.equal(ex.message.rcode, 0);
  assert.equal(pool.states[0]!.srttMs, null);
});

test('two upstreams: the retransmit goes to the next one, and the first good reply of either wins', async (t) => {
  const slow = await scripted(t, () => 300);
  const fast = await scripted(t, () => 0);
  const { ask, pool, stats } = setup(t, [slow.port, fast.port]);
  const started = performance.now();
  await ask(2_000);
  const took = performance.now() - started;
  assert.ok(took >= 95 && took < 280, `the second upstream's answer, just after the 100 ms RTO: ${took}`);
  assert.equal(slow.seen.length, 1);
  assert.equal(fast.seen.length, 1);
  assert.equal(pool.states[0]!.srttMs, null, 'no reply from the slow one (its socket is closed)');
  assert.notEqual(pool.states[1]!.srttMs, null);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(stats.spoofedReplies, 0, "the slow one's late reply reaches a closed socket, not a forgery count");
});

test(`the deadline: a silent upstream is asked at most ${MAX_SENDS} times, then the question fails with a timeout`, async (t) => {
  const up = await scripted(t, () => null);
  const { ask, transport } = setup(t, [up.port]);
  const started = performance.now();
  // Repeats at 100, 300, 700 ms; the fifth send (1500 ms) would fit in 1600 ms but is not made.
  await assert.rejects(ask(1_600), (err: unknown) => err instanceof ExchangeError && err.kind === 'timeout');
  assert.ok(performance.now() - started >= 1_590, 'not before the deadline');
  assert.equal(up.seen.length, MAX_SENDS);
  assert.equal(transport.udpInFlight, 0, 'every socket closed');
});
