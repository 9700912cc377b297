// The forwarder against a scripted loopback upstream, through the real query processor: what goes
// out (fresh IDs and ports, RD, our OPT), what is accepted (spoofed replies are not), TCP on TC
// and kept connections, retransmits within the deadline, health from probes, coalescing, the
// concurrency cap and fair shares, shedding, the cache (countdown, negative caching, admission,
// prefetch, serve-stale, remembered failures), scrubbing and stub domains.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FLAG, HEADER_SIZE, RCODE, TYPE } from '../../src/dns/constants.ts';
import { decodeName } from '../../src/dns/query.ts';
import { QueryProcessor } from '../../src/server/processor.ts';
import { silentLogger } from '../../src/base/log.ts';
import { Forwarder } from '../../src/upstream/forward.ts';
import type { LoadWindows } from '../../src/upstream/overload.ts';
import { buildQuery, decode } from '../support/dns.ts';
import { FAST, forwardConfig, hostPort, PATIENT, queryOf, rig, upstreamFor } from '../support/forwarder.ts';
import { a, cname, type FakeUpstream, handMadeReply, rr } from '../support/upstream.ts';

test('forwards with RD and our OPT, answers with RA and without AA, in the client case, without the upstream OPT', async (t) => {
  const up = await upstreamFor(t);
  up.set('www.example.com', {
    kind: 'answer',
    records: [cname('www.example.com', 'web.example.net', 600), a('web.example.net', '192.0.2.10', 300)],
  });
  const { ask } = await rig(t, forwardConfig([hostPort(up)]));
  const r = await ask('WWW.Example.COM', TYPE.A, { id: 4242 });
  assert.equal(r.id, 4242);
  assert.equal(r.rcode, 'NOERROR');
  assert.equal(r.ra, true);
  assert.equal(r.aa, false);
  assert.equal(r.question, 'WWW.Example.COM. A');
  // Owner names that point at the question take the client's case, as the question does. No TTL
  // says more than the answer's smallest (what the cache keeps it for, and so what a hit says).
  assert.deepEqual(r.answer, ['WWW.Example.COM. 300 IN CNAME web.example.net.', 'web.example.net. 300 IN A 192.0.2.10']);
  assert.equal(r.opts, 1, 'our OPT only');
  const sent = up.asked('www.example.com')[0]!;
  assert.equal(sent.flags & 0x0100, 0x0100, 'RD');
  assert.equal(sent.hasOpt, true);
});

test('every upstream query has a fresh random ID and source port', async (t) => {
  const up = await upstreamFor(t);
  up.fallback = { kind: 'answer', records: [] };
  const { ask } = await rig(t, forwardConfig([hostPort(up)], { cacheSize: 0 }));
  for (let i = 0; i < 8; i++) await ask(`n${i}.example.com`);
  const ids = new Set(up.received.map((r) => r.id));
  const ports = new Set(up.received.map((r) => r.sourcePort));
  assert.ok(ids.size >= 7, `ids ${[...ids]}`);
  assert.ok(ports.size >= 7, `ports ${[...ports]}`);
});

for (const how of ['id', 'question', 'type', 'source', 'garbage'] as const) {
  test(`a spoofed reply (${how}) is dropped and counted; the real one is taken`, async (t) => {
    const up = await upstreamFor(t);
    up.set('bank.example.com', { kind: 'spoof', how, records: [a('bank.example.com', '192.0.2.1')] });
    const { ask, forwarder } = await rig(t, forwardConfig([hostPort(up)]));
    const r = await ask('bank.example.com');
    assert.deepEqual(r.answer, ['bank.example.com. 300 IN A 192.0.2.1']);
    assert.equal(forwarder.stats.spoofedReplies, 1);
  });
}

test('truncated over UDP: asked again over TCP, on one kept connection; --force-tcp never uses UDP', async (t) => {
  const up = await upstreamFor(t);
  const big = Array.from({ length: 5 }, (_, i) => a('big.example.com', `192.0.2.${i + 1}`));
  up.set('big.example.com', { kind: 'truncate', records: big });
  up.set('big2.example.com', { kind: 'truncate', records: [a('big2.example.com', '192.0.2.99')] });
  const { ask } = await rig(t, forwardConfig([hostPort(up)]));
  assert.equal((await ask('big.example.com')).answer.length, 5);
  assert.equal((await ask('big2.example.com')).answer.length, 1);
  assert.deepEqual(
    up.received.map((r) => r.transport),
    ['udp', 'tcp', 'udp', 'tcp'],
  );
  assert.equal(up.tcpConnections, 1, 'the TCP connection is reused');

  const tcpOnly = await upstreamFor(t);
  tcpOnly.fallback = { kind: 'answer', records: [a('x.example.com', '192.0.2.7')] };
  const forced = await rig(t, forwardConfig([hostPort(tcpOnly)], { forceTcp: true }));
  await forced.ask('x.example.com');
  await forced.ask('y.example.com');
  assert.deepEqual(
    tcpOnly.received.map((r) => r.transport),
    ['tcp', 'tcp'],
  );
});

test('a large upstream answer to a client without EDNS: the whole records that fit, TC set, from upstream and from the cache', async (t) => {
  const up = await upstreamFor(t);
  const records = [
    cname('many.example.com', 'pool.example.net'),
    ...Array.from({ length: 60 }, (_, i) => a('pool.example.net', `192.0.2.${i + 1}`)),
  ];
  up.set('many.example.com', { kind: 'truncate', records });
  const { processor } = await rig(t, forwardConfig([hostPort(up)]));
  const udp = { protocol: 'udp', remoteAddress: '127.0.0.1' } as const;
  const cut: ReturnType<typeof decode>[] = [];
  for (const source of ['upstream', 'cache']) {
    const out = (await processor.process(buildQuery('many.example.com', TYPE.A), udp))!;
    assert.ok(out.length <= 512, `${source}: ${out.length} octets`);
    const d = decode(out);
    assert.equal(d.tc, true, source);
    assert.equal(d.rcode, 'NOERROR');
    assert.ok(d.answer.length > 20, `${source}: ${d.answer.length} records`);
    cut.push(d);
  }
  const full = decode((await processor.process(buildQuery('many.example.com', TYPE.A), { protocol: 'tcp', remoteAddress: '127.0.0.1' }))!);
  assert.equal(full.tc, false);
  assert.equal(full.answer.length, 61);
  for (const d of cut) assert.deepEqual(d.answer, full.answer.slice(0, d.answer.length), 'the CNAME and the first addresses, whole');
  assert.equal(up.asked('many.example.com').filter((r) => r.transport === 'tcp').length, 1, 'asked once; then from the cache');
});

test('identical questions in flight become one upstream query; over --max-concurrent is REFUSED and counted', async (t) => {
  const up = await upstreamFor(t);
  up.fallback = { kind: 'answer', records: [a('slow.example.com', '192.0.2.5')], delayMs: 80 };
  const { ask } = await rig(t, forwardConfig([hostPort(up)]), { timing: PATIENT });
  const replies = await Promise.all(Array.from({ length: 5 }, () => ask('slow.example.com')));
  assert.ok(replies.every((r) => r.answer.length === 1));
  assert.equal(up.asked('slow.example.com').length, 1);

  const capped = await rig(t, forwardConfig([hostPort(up)], { maxConcurrent: 1 }), { timing: PATIENT });
  const [first, second] = await Promise.all([capped.ask('one.example.com'), capped.ask('two.example.com')]);
  assert.equal(first.rcode, 'NOERROR');
  assert.equal(second.rcode, 'REFUSED');
  assert.equal(capped.forwarder.stats.maxConcurrentRejects, 1);
});

test('a silent upstream: the retransmit goes to the next one; failed probes, not queries, mark it down; a probe brings it back', async (t) => {
  const dead = await upstreamFor(t);
  const good = await upstreamFor(t);
  dead.fallback = { kind: 'silent' };
  good.fallback = { kind: 'answer', records: [a('q.example.com', '192.0.2.8')] };
  const { ask, forwarder } = await rig(t, forwardConfig([hostPort(dead), hostPort(good)], { cacheSize: 0 }), { timing: FAST });
  assert.equal((await ask('q1.example.com')).rcode, 'NOERROR', 'answered by the second upstream after the retransmit timer');
  const queriesTo = (up: FakeUpstream) => up.received.filter((r) => r.name.startsWith('q')).length;
  const probesTo = (up: FakeUpstream) => up.received.filter((r) => r.name === '' && r.type === TYPE.NS).length;
  assert.equal(queriesTo(dead), 1, 'tried first (sequential)');
  // The timeout started a probe; two failed probes in a row (150 ms each, 40 ms apart) mark it down.
  const deadStats = forwarder.stats.upstreams.get(`127.0.0.1:${dead.port}`)!;
  const deadline = Date.now() + 5_000;
  while (deadStats.downs === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(deadStats.downs, 1, 'marked down');
  assert.ok(deadStats.healthcheckFailures >= 2);
  assert.ok(probesTo(dead) >= 2, 'probed with . NS');
  // Down now: skipped, no waiting.
  await ask('q2.example.com');
  assert.equal(queriesTo(dead), 1);
  assert.equal(probesTo(good), 0, 'a healthy upstream that answers is never probed');
  // It keeps being probed; once it answers, a probe brings it back and it is used again.
  dead.fallback = { kind: 'answer', records: [] };
  const back = Date.now() + 5_000;
  while (queriesTo(dead) === 1 && Date.now() < back) {
    await ask(`q${Math.floor(Math.random() * 1e9)}.example.com`);
    await new Promise((r) => setTimeout(r, 30));
  }
  assert.ok(queriesTo(dead) > 1, 'asked again once back');
  assert.equal(forwarder.stats.healthcheckBroken, 0, 'the other upstream was up all along');
});

test('slow names never mark an upstream down: probes are answered, the late answers are taken', async (t) => {
  const up = await upstreamFor(t);
  up.fallback = { kind: 'answer', records: [a('slow.example.com', '192.0.2.9')], delayMs: 400 };
  up.set('', { kind: 'answer', records: [] }); // the root's NS, as a resolver has it cached
  const { ask, forwarder } = await rig(t, forwardConfig([hostPort(up)], { cacheSize: 0 }), { timing: FAST });
  // Each is resent at 150 and 450 ms (doubling) to the only upstream; the first reply wins.
  const replies = await Promise.all(Array.from({ length: 6 }, (_, i) => ask(`slow${i}.example.com`)));
  assert.deepEqual(
    replies.map((r) => r.rcode),
    Array(6).fill('NOERROR'),
  );
  const stats = forwarder.stats.upstreams.get(`127.0.0.1:${up.port}`)!;
  assert.ok(
    up.received.some((r) => r.name === '' && r.type === TYPE.NS),
    'the timeouts were probed',
  );
  assert.equal(stats.downs, 0);
  assert.equal(stats.healthcheckFailures, 0);
  assert.ok(stats.requests > 6, `retransmitted (${stats.requests} sends for 6 names)`);
  assert.equal(forwarder.stats.spoofedReplies, 0, 'the replies to the losing attempts are not forgeries');
});

test('--max-fails 0: an upstream is never probed nor marked down', async (t) => {
  const dead = await upstreamFor(t);
  dead.fallback = { kind: 'silent' };
  const { ask, forwarder } = await rig(t, forwardConfig([hostPort(dead)], { cacheSize: 0, maxFails: 0, timeoutMs: 400 }), { timing: FAST });
  assert.equal((await ask('m1.example.com')).rcode, 'SERVFAIL');
  assert.equal((await ask('m2.example.com')).rcode, 'SERVFAIL');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(dead.received.filter((r) => r.name === '').length, 0, 'no probes');
  assert.equal(forwarder.stats.upstreams.get(`127.0.0.1:${dead.port}`)!.downs, 0);
});

test('with every upstream down each query still asks one, counted in healthcheck_broken; an answer brings it back', async (t) => {
  const dead = await upstreamFor(t);
  dead.fallback = { kind: 'silent' };
  const { ask, forwarder } = await rig(t, forwardConfig([hostPort(dead)], { cacheSize: 0, timeoutMs: 400 }), { timing: FAST });
  assert.equal((await ask('a1.example.com')).rcode, 'SERVFAIL', 'past the deadline');
  const stats = forwarder.stats.upstreams.get(`127.0.0.1:${dead.port}`)!;
  const deadline = Date.now() + 5_000;
  while (stats.downs === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(stats.downs, 1);
  assert.equal(forwarder.stats.healthcheckBroken, 0, 'no query has found it down yet');
  const before = dead.received.filter((r) => r.name.startsWith('a')).length;
  const started = performance.now();
  assert.equal((await ask('a2.example.com')).rcode, 'SERVFAIL');
  assert.ok(performance.now() - started >= 350, 'not at once: the query waited for its deadline');
  assert.ok(dead.received.filter((r) => r.name.startsWith('a')).length > before, 'asked although down');
  await ask('a3.example.com');
  assert.equal(forwarder.stats.healthcheckBroken, 2, 'once per query that found every upstream down (as CoreDNS counts it)');
  // It answers again: the next query's reply is proof enough, before any probe says so.
  dead.fallback = { kind: 'answer', records: [a('a4.example.com', '192.0.2.4')] };
  assert.equal((await ask('a4.example.com')).rcode, 'NOERROR');
  assert.equal(forwarder.stats.healthcheckBroken, 3);
  await ask('a5.example.com');
  assert.equal(forwarder.stats.healthcheckBroken, 3, 'up again');
});

test('fair shares: a client flooding names that never resolve is refused first; another client still gets through', async (t) => {
  const up = await upstreamFor(t);
  up.fallback = { kind: 'silent' };
  up.set('www.example.com', { kind: 'answer', records: [a('www.example.com', '192.0.2.20')] });
  const { ask, forwarder } = await rig(
    t,
    forwardConfig([hostPort(up)], { cacheSize: 0, maxConcurrent: 20, timeoutMs: 1_000, maxFails: 0 }),
  );
  const flood = Array.from({ length: 40 }, (_, i) => ask(`r${i}.never.example`, TYPE.A, { from: '10.244.9.9' }));
  const victim = await ask('www.example.com', TYPE.A, { from: '10.244.1.1' });
  assert.equal(victim.rcode, 'NOERROR');
  const rcodes = (await Promise.all(flood)).map((r) => r.rcode);
  assert.equal(rcodes.filter((r) => r === 'REFUSED').length, 30, 'the flooder holds at most half of 20');
  assert.equal(rcodes.filter((r) => r === 'SERVFAIL').length, 10);
  assert.equal(forwarder.stats.clientRejects, 30);
  assert.equal(forwarder.stats.maxConcurrentRejects, 0);
});

test('while the event loop is behind, new upstream questions are rationed; cache hits and cluster names are not', async (t) => {
  const up = await upstreamFor(t);
  up.fallback = { kind: 'answer', records: [a('x.example.com', '192.0.2.21')] };
  // Its own name on its answer: the scrubber keeps only records on the question's chain.
  up.set('hit.example.com', { kind: 'answer', records: [a('hit.example.com', '192.0.2.22')] });
  let windowEnded: (congested: boolean) => void = () => {};
  const load: LoadWindows = { subscribe: (fn) => void (windowEnded = fn) };
  const { ask, forwarder } = await rig(t, forwardConfig([hostPort(up)]), { withZone: true, load });
  assert.equal((await ask('hit.example.com')).rcode, 'NOERROR');
  // Windows congested while forwarding 100 new questions each: the ration falls to its floor (5 a window).
  for (let w = 0; w < 2; w++) {
    await Promise.all(Array.from({ length: 100 }, (_, i) => ask(`load${w}-${i}.example.com`)));
    windowEnded(true);
  }
  for (let i = 0; i < 10; i++) windowEnded(true);
  const rcodes = await Promise.all(Array.from({ length: 8 }, (_, i) => ask(`miss${i}.example.com`)));
  assert.equal(rcodes.filter((r) => r.rcode === 'NOERROR').length, 3, 'half of the five left: the client may not take it all');
  assert.equal(rcodes.filter((r) => r.rcode === 'REFUSED').length, 5);
  assert.equal(forwarder.stats.shed, 5);
  assert.equal(forwarder.stats.clientRejects, 0);
  assert.equal((await ask('hit.example.com')).rcode, 'NOERROR', 'from the cache');
  assert.equal((await ask('svc1.testns.svc.cluster.local')).rcode, 'NOERROR', 'from the zone');
  for (let i = 0; i < 12; i++) windowEnded(false);
  assert.equal((await ask('miss7.example.com')).rcode, 'NOERROR', 'lifted');
});

test('the cache: TTLs count down, NXDOMAIN kept for the SOA minimum capped by --cache-denial-ttl, no SOA no caching', async (t) => {
  const up = await upstreamFor(t);
  up.set('c.example.com', { kind: 'answer', records: [a('c.example.com', '192.0.2.3', 300)] });
  up.set('nx.example.com', { kind: 'nxdomain', soaTtl: 3600, minimum: 600 });
  const { ask, clock, forwarder } = await rig(t, forwardConfig([hostPort(up)], { cacheDenialTtl: 30 }));
  await ask('c.example.com');
  clock.now += 100_000;
  const cached = await ask('c.example.com');
  assert.deepEqual(cached.answer, ['c.example.com. 200 IN A 192.0.2.3']);
  assert.equal(up.asked('c.example.com').length, 1);
  clock.now += 201_000;
  await ask('c.example.com');
  assert.equal(up.asked('c.example.com').length, 2, 'expired: asked again');

  const nx = await ask('nx.example.com');
  assert.equal(nx.rcode, 'NXDOMAIN');
  assert.equal(nx.authority.length, 1);
  clock.now += 29_000;
  assert.equal((await ask('nx.example.com')).rcode, 'NXDOMAIN');
  assert.equal(up.asked('nx.example.com').length, 1, 'denial cached');
  clock.now += 2_000;
  await ask('nx.example.com');
  assert.equal(up.asked('nx.example.com').length, 2, 'capped at 30 s, not the SOA 600 s');
  assert.ok(forwarder.cacheStats.hits.success >= 1 && forwarder.cacheStats.hits.denial >= 1);

  up.set('servfail.example.com', { kind: 'servfail' });
  await ask('servfail.example.com');
  await ask('servfail.example.com');
  assert.equal(up.asked('servfail.example.com').length, 1, 'SERVFAIL is remembered (5 s), not kept as an answer');
  clock.now += 5_001;
  up.set('servfail.example.com', { kind: 'answer', records: [a('servfail.example.com', '192.0.2.9', 300)] });
  assert.equal((await ask('servfail.example.com')).rcode, 'NOERROR');
});

test('evictions at --cache-size are counted, a name asked once does not push out one asked before; popular entries are prefetched', async (t) => {
  const up = await upstreamFor(t);
  up.fallback = { kind: 'answer', records: [] };
  for (const n of ['e1', 'e2', 'e3', 'hot'])
    up.set(`${n}.example.com`, { kind: 'answer', records: [a(`${n}.example.com`, '192.0.2.4', 100)] });
  const { ask, clock, forwarder } = await rig(t, forwardConfig([hostPort(up)], { cacheSize: 2 }));
  await ask('e1.example.com');
  await ask('e2.example.com');
  await ask('e3.example.com');
  assert.equal(forwarder.cacheStats.evictions.success, 1);
  assert.equal(forwarder.cacheStats.entries.success, 2);
  await ask('e1.example.com');
  assert.equal(up.asked('e1.example.com').length, 1, 'e1, in first, stayed');
  await ask('e2.example.com');
  assert.equal(up.asked('e2.example.com').length, 2, 'e2, asked as often as e1, was turned away');

  await ask('hot.example.com');
  for (let i = 0; i < 3; i++) await ask('hot.example.com');
  clock.now += 95_000; // 5 s of 100 left
  await ask('hot.example.com');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(forwarder.cacheStats.prefetches, 1);
  assert.equal(up.asked('hot.example.com').length, 2, 'refreshed in the background');
});

test('serve-stale: with every upstream failing, an expired answer is served with TTL 30, within --serve-stale', async (t) => {
  const up = await upstreamFor(t);
  up.set('stale.example.com', { kind: 'answer', records: [a('stale.example.com', '192.0.2.30', 60)] });
  const { ask, clock, forwarder } = await rig(t, forwardConfig([hostPort(up)], { serveStaleMs: 600_000, timeoutMs: 300 }));
  await ask('stale.example.com');
  up.fallback = { kind: 'silent' };
  up.set('stale.example.com', { kind: 'silent' });
  clock.now += 120_000;
  const stale = await ask('stale.example.com');
  assert.deepEqual(stale.answer, ['stale.example.com. 30 IN A 192.0.2.30']);
  assert.equal(forwarder.cacheStats.servedStale, 1);
  clock.now += 700_000;
  assert.equal((await ask('stale.example.com')).rcode, 'SERVFAIL', 'past --serve-stale');
});

test('stub domains: the longest matching domain picks the upstreams', async (t) => {
  const main = await upstreamFor(t);
  const corp = await upstreamFor(t);
  const lab = await upstreamFor(t);
  for (const up of [main, corp, lab]) up.fallback = { kind: 'answer', records: [] };
  const { ask } = await rig(
    t,
    forwardConfig([hostPort(main)], {
      stubDomains: [
        { domain: 'corp.example', upstreams: [hostPort(corp)] },
        { domain: 'lab.corp.example', upstreams: [hostPort(lab)] },
      ],
    }),
  );
  await ask('www.example.org');
  await ask('git.corp.example');
  await ask('ci.lab.corp.example');
  await ask('corp.example');
  assert.deepEqual(
    main.received.map((r) => r.name),
    ['www.example.org'],
  );
  assert.deepEqual(
    corp.received.map((r) => r.name),
    ['git.corp.example', 'corp.example'],
  );
  assert.deepEqual(
    lab.received.map((r) => r.name),
    ['ci.lab.corp.example'],
  );
});

test('names with odd bytes (a space, a dot inside a label, non-ASCII) reach the upstream byte for byte', async (t) => {
  const up = await upstreamFor(t);
  up.fallback = { kind: 'answer', records: [] };
  const { forwarder } = await rig(t, forwardConfig([hostPort(up)]));
  const processor = new QueryProcessor({ handlers: [forwarder] });
  const labels = [Buffer.from('a b'), Buffer.from('x.y'), Buffer.from([0xc3, 0xa9]), Buffer.from('example'), Buffer.from('com')];
  const question = Buffer.concat([...labels.flatMap((l) => [Buffer.from([l.length]), l]), Buffer.from([0, 0, 1, 0, 1])]);
  const header = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  const out = (await processor.process(Buffer.concat([header, question]), { protocol: 'udp', remoteAddress: '127.0.0.1' }))!;
  assert.equal(decode(out).rcode, 'NOERROR');
  assert.deepEqual(out.subarray(12, 12 + question.length), question, 'the question echoed byte for byte');
  assert.deepEqual(
    up.received.map((r) => r.name),
    ['a\\032b.x\\046y.\\195\\169.example.com'],
  );
});

test('a cache hit is answered synchronously, from the stored bytes (no Promise on the hot path)', async (t) => {
  const up = await upstreamFor(t);
  up.set('sync.example.com', { kind: 'answer', records: [a('sync.example.com', '192.0.2.11', 300)] });
  const { forwarder, processor } = await rig(t, forwardConfig([hostPort(up)]));
  const context = { protocol: 'udp', remoteAddress: '127.0.0.1' } as const;
  const first = forwarder.serve(queryOf('sync.example.com'), context);
  assert.ok(first instanceof Promise, 'a miss goes upstream');
  await first;
  const hit = forwarder.serve(queryOf('sync.example.com'), context);
  assert.ok(hit !== null && !(hit instanceof Promise), 'a hit is a plain Reply');
  const wire = processor.process(buildQuery('Sync.Example.com', TYPE.A, { id: 99 }), context);
  assert.ok(wire instanceof Buffer, 'and the processor answers it without awaiting');
  assert.deepEqual(decode(wire).answer, ['Sync.Example.com. 300 IN A 192.0.2.11']);
  assert.equal(up.asked('sync.example.com').length, 1);
});

test('kept TCP connections: queries are pipelined and answered out of order on one connection, which closes when idle', async (t) => {
  const up = await upstreamFor(t);
  for (const [name, delayMs] of [
    ['p1', 120],
    ['p2', 10],
    ['p3', 60],
  ] as const) {
    up.set(`${name}.example.com`, { kind: 'answer', records: [a(`${name}.example.com`, `192.0.2.${delayMs}`)], delayMs });
  }
  const { ask } = await rig(t, forwardConfig([hostPort(up)], { forceTcp: true }), { tcpIdleMs: 200, timing: PATIENT });
  const order: string[] = [];
  const replies = await Promise.all(
    ['p1', 'p2', 'p3'].map(async (n) => {
      const r = await ask(`${n}.example.com`);
      order.push(n);
      return r;
    }),
  );
  assert.deepEqual(
    replies.map((r) => r.answer),
    [['p1.example.com. 300 IN A 192.0.2.120'], ['p2.example.com. 300 IN A 192.0.2.10'], ['p3.example.com. 300 IN A 192.0.2.60']],
  );
  assert.deepEqual(order, ['p2', 'p3', 'p1'], 'each reply went to its own question as it came');
  assert.equal(up.tcpConnections, 1, 'all three on one connection');
  assert.equal(up.openTcpConnections, 1);
  const deadline = Date.now() + 2_000;
  while (up.openTcpConnections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(up.openTcpConnections, 0, 'closed after 200 ms idle');
  up.set('p4.example.com', { kind: 'answer', records: [a('p4.example.com', '192.0.2.4')] });
  assert.equal((await ask('p4.example.com')).rcode, 'NOERROR');
  assert.equal(up.tcpConnections, 2, 'a new connection once the old one closed');
});

test('a TCP reply that comes after the deadline is dropped quietly, not counted as forged', async (t) => {
  const up = await upstreamFor(t);
  up.set('late.example.com', { kind: 'answer', records: [a('late.example.com', '192.0.2.12')], delayMs: 250 });
  const { ask, forwarder } = await rig(t, forwardConfig([hostPort(up)], { forceTcp: true, cacheSize: 0, timeoutMs: 150 }));
  assert.equal((await ask('late.example.com')).rcode, 'SERVFAIL', 'gave up at the 150 ms deadline');
  const deadline = Date.now() + 1_000;
  while (up.asked('late.example.com').length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 200)); // the late reply arrives meanwhile
  assert.equal(forwarder.stats.spoofedReplies, 0);
});

test("compressed upstream replies are re-based onto the client's question: pointers into it, OPT in the middle", async (t) => {
  const up = await upstreamFor(t);
  // By hand: the answer's owner points at the question (offset 12), the CNAME target's suffix
  // points into it too, the A record's owner points at the CNAME target; the zone's NS set points
  // into the question as well; the upstream's OPT sits between the two glue records, so the
  // sections are decoded and written again.
  up.set('www.example.com', {
    kind: 'raw',
    build: (request) => {
      const questionEnd = decodeName(request, HEADER_SIZE)!.end + 4;
      const q = request.subarray(HEADER_SIZE, questionEnd);
      const header = Buffer.alloc(HEADER_SIZE);
      header.writeUInt16BE(request.readUInt16BE(0), 0);
      header.writeUInt16BE(FLAG.QR | FLAG.RD | FLAG.RA, 2);
      header.writeUInt16BE(1, 4);
      header.writeUInt16BE(2, 6);
      header.writeUInt16BE(2, 8);
      header.writeUInt16BE(3, 10);
      const cnameAt = HEADER_SIZE + q.length + 12; // where the CNAME's RDATA starts
      const exampleCom = HEADER_SIZE + 4; // "example.com" inside the question
      const rr = (owner: number[], type: number, rdata: number[]) =>
        Buffer.from([...owner, type >> 8, type & 255, 0, 1, 0, 0, 0, 60, rdata.length >> 8, rdata.length & 255, ...rdata]);
      const cnameRdata = [3, ...Buffer.from('web'), 0xc0, exampleCom];
      const answer = Buffer.concat([
        rr([0xc0, 12], TYPE.CNAME, cnameRdata),
        rr([0xc0 | (cnameAt >> 8), cnameAt & 255], TYPE.A, [192, 0, 2, 21]),
      ]);
      const authority = Buffer.concat([
        rr([0xc0, exampleCom], TYPE.NS, [2, ...Buffer.from('ns'), 0xc0, exampleCom]),
        rr([0xc0, exampleCom], TYPE.NS, [3, ...Buffer.from('ns2'), 0xc0, exampleCom]),
      ]);
      const glue = rr([2, ...Buffer.from('ns'), 0xc0, exampleCom], TYPE.A, [192, 0, 2, 53]);
      const opt = Buffer.from([0, 0, TYPE.OPT, 0x10, 0, 0, 0, 0, 0, 0, 0]);
      const glue2 = rr([3, ...Buffer.from('ns2'), 0xc0, exampleCom], TYPE.A, [192, 0, 2, 54]);
      return Buffer.concat([header, q, answer, authority, glue, opt, glue2]);
    },
  });
  const { ask } = await rig(t, forwardConfig([hostPort(up)]));
  const r = await ask('WWW.example.COM');
  assert.equal(r.rcode, 'NOERROR');
  assert.deepEqual(r.answer, ['WWW.example.COM. 60 IN CNAME web.example.COM.', 'web.example.COM. 60 IN A 192.0.2.21']);
  assert.deepEqual(r.authority, ['example.COM. 60 IN NS ns.example.COM.', 'example.COM. 60 IN NS ns2.example.COM.']);
  assert.deepEqual(r.additional, ['ns.example.COM. 60 IN A 192.0.2.53', 'ns2.example.COM. 60 IN A 192.0.2.54']);
  assert.equal(r.opts, 1, 'our OPT only');
});

test('an upstream reply whose records cannot be decoded is a SERVFAIL, not a crash', async (t) => {
  const up = await upstreamFor(t);
  up.set('broken.example.com', {
    kind: 'raw',
    build: (request) => {
      const questionEnd = decodeName(request, HEADER_SIZE)!.end + 4;
      const out = Buffer.concat([request.subarray(0, questionEnd), Buffer.from([0xc0, 12, 0, TYPE.SOA, 0, 1, 0, 0, 0, 60, 0, 3, 1, 2, 3])]);
      out.writeUInt16BE(FLAG.QR | FLAG.RD | FLAG.RA | RCODE.NXDOMAIN, 2);
      out.writeUInt16BE(0, 6);
      out.writeUInt16BE(1, 8);
      out.writeUInt16BE(0, 10);
      return out;
    },
  });
  const { ask, processor } = await rig(t, forwardConfig([hostPort(up)]));
  assert.equal((await ask('broken.example.com')).rcode, 'SERVFAIL');
  assert.equal(processor.stats.panics, 0);
});

test('close() ends upstream exchanges in flight at once and leaves no probes behind', async (t) => {
  const up = await upstreamFor(t);
  up.fallback = { kind: 'silent' };
  const { forwarder, ask } = await rig(t, forwardConfig([hostPort(up)], { cacheSize: 0 }));
  const pending = ask('hang.example.com');
  const deadline = Date.now() + 1_000;
  while (up.received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(up.received.length, 1, 'the query is out');
  const started = performance.now();
  forwarder.close();
  assert.equal((await pending).rcode, 'SERVFAIL');
  assert.ok(performance.now() - started < 100, 'not after a retransmit timer or the deadline');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(up.received.filter((q) => q.name === '').length, 0, 'no health probe after close');
});

test('a dead name asked 50 times costs the upstream one resolution within --cache-servfail-ttl, then one again after', async (t) => {
  const up = await upstreamFor(t);
  up.set('dead.example.com', { kind: 'servfail' });
  up.set('gone.example.com', { kind: 'silent' });
  up.fallback = { kind: 'answer', records: [a('fine.example.com', '192.0.2.1')] };
  const { ask, clock, forwarder } = await rig(t, forwardConfig([hostPort(up)]));
  const first = await Promise.all(Array.from({ length: 25 }, () => ask('dead.example.com')));
  for (let i = 0; i < 25; i++) first.push(await ask('dead.example.com'));
  assert.ok(first.every((r) => r.rcode === 'SERVFAIL'));
  assert.equal(up.asked('dead.example.com').length, 1);
  assert.equal(forwarder.cacheStats.servfailHits, 25, 'the 25 asked after it failed; the first 25 shared its flight');
  // No usable answer in time (a silent upstream): remembered the same way, from where it failed.
  assert.equal((await ask('gone.example.com')).rcode, 'SERVFAIL');
  const sent = up.asked('gone.example.com').length;
  for (let i = 0; i < 49; i++) assert.equal((await ask('gone.example.com')).rcode, 'SERVFAIL');
  assert.equal(up.asked('gone.example.com').length, sent, 'nothing more went upstream for it');
  assert.equal((await ask('fine.example.com')).rcode, 'NOERROR', 'other names are asked as usual');
  clock.now += 4_000;
  await ask('dead.example.com');
  assert.equal(up.asked('dead.example.com').length, 1, '4 s on: still remembered');
  clock.now += 1_001;
  await ask('dead.example.com');
  await ask('dead.example.com');
  assert.equal(up.asked('dead.example.com').length, 2, 'after 5 s: asked again, once');

  const off = await rig(t, forwardConfig([hostPort(up)], { cacheServfailTtl: 0 }));
  await off.ask('dead.example.com');
  await off.ask('dead.example.com');
  assert.equal(up.asked('dead.example.com').length, 4, '--cache-servfail-ttl 0: every query goes upstream');
});

test('out-of-bailiwick records from upstream reach neither the client nor the cache, and are counted', async (t) => {
  const up = await upstreamFor(t);
  // A poisoner's reply: an extra answer for another name, an NS set for another zone with its
  // glue, and an address for a name nothing points at.
  up.set('www.example.com', {
    kind: 'raw',
    build: (request) =>
      handMadeReply(request, RCODE.NOERROR, {
        answer: [rr.a('www.example.com', '192.0.2.10', 120), rr.a('bank.example.org', '198.51.100.66', 86400)],
        authority: [rr.name(TYPE.NS, 'example.org', 'ns.evil.example'), rr.name(TYPE.NS, 'example.com', 'ns1.example.com')],
        additional: [
          rr.a('ns.evil.example', '198.51.100.53'),
          rr.a('ns1.example.com', '192.0.2.53'),
          rr.a('login.example.org', '198.51.100.67'),
        ],
      }),
  });
  up.set('bank.example.org', { kind: 'answer', records: [a('bank.example.org', '192.0.2.99', 60)] });
  const { ask, forwarder } = await rig(t, forwardConfig([hostPort(up)]));
  for (const round of ['miss', 'hit']) {
    const r = await ask('www.example.com');
    assert.deepEqual(r.answer, ['www.example.com. 120 IN A 192.0.2.10'], round);
    assert.deepEqual(r.authority, ['example.com. 120 IN NS ns1.example.com.'], round);
    assert.deepEqual(r.additional, ['ns1.example.com. 120 IN A 192.0.2.53'], round);
  }
  assert.equal(up.asked('www.example.com').length, 1);
  assert.equal(forwarder.stats.scrubbedRecords, 4);
  assert.deepEqual((await ask('bank.example.org')).answer, ['bank.example.org. 60 IN A 192.0.2.99'], 'the poison was never cached');
  assert.equal(up.asked('bank.example.org').length, 1);
});

test('a reload: the new forwarder keeps the cache but for names whose upstreams changed; new cache settings start afresh', async (t) => {
  const [up, corp, corp2] = [await upstreamFor(t), await upstreamFor(t), await upstreamFor(t)];
  up.set('www.example.com', { kind: 'answer', records: [a('www.example.com', '192.0.2.1')] });
  corp.set('intranet.corp.example', { kind: 'answer', records: [a('intranet.corp.example', '10.1.0.5')] });
  corp2.set('intranet.corp.example', { kind: 'answer', records: [a('intranet.corp.example', '10.2.0.5')] });
  const stub = (to: FakeUpstream) => [{ domain: 'corp.example', upstreams: [hostPort(to)] }];
  const before = await rig(t, forwardConfig([hostPort(up)], { stubDomains: stub(corp) }));
  await before.ask('www.example.com');
  await before.ask('intranet.corp.example');
  const after = new Forwarder({
    config: forwardConfig([hostPort(up)], { stubDomains: stub(corp2) }),
    logger: silentLogger(),
    timing: PATIENT,
    load: null,
    previous: before.forwarder,
  });
  t.after(() => after.close());
  const question = (name: string) => ({ name, type: TYPE.A, class: 1, dnssecOk: false, checkingDisabled: false });
  assert.ok(after.cached(question('www.example.com')), 'the default upstreams did not change: their answer stays cached');
  assert.equal(after.cached(question('intranet.corp.example')), null, 'the stub domain moved: its answer is dropped');
  assert.equal(after.cacheStats, before.forwarder.cacheStats, 'the cache counters go on');
  const resized = new Forwarder({
    config: forwardConfig([hostPort(up)], { stubDomains: stub(corp2), cacheSize: 10 }),
    logger: silentLogger(),
    load: null,
    previous: after,
  });
  t.after(() => resized.close());
  assert.equal(resized.cached(question('www.example.com')), null, 'another cache size: a new cache');
});

test('--forward-except: an excepted name never reaches the default upstreams (SERVFAIL); a stub domain still takes it', async (t) => {
  const [up, corp] = [await upstreamFor(t), await upstreamFor(t)];
  up.fallback = { kind: 'answer', records: [] };
  corp.set('wiki.lab.corp.example', { kind: 'answer', records: [a('wiki.lab.corp.example', '10.1.0.9')] });
  const { ask } = await rig(
    t,
    forwardConfig([hostPort(up)], {
      forwardExcept: ['corp.example'],
      stubDomains: [{ domain: 'lab.corp.example', upstreams: [hostPort(corp)] }],
    }),
  );
  assert.equal((await ask('intranet.corp.example')).rcode, 'SERVFAIL');
  assert.deepEqual((await ask('wiki.lab.corp.example')).answer, ['wiki.lab.corp.example. 300 IN A 10.1.0.9']);
  assert.equal((await ask('www.example.com')).rcode, 'NOERROR');
  assert.deepEqual(
    up.received.map((r) => r.name),
    ['www.example.com'],
  );
});

test('a stub domain with options of its own: force-tcp there, UDP for the default upstreams', async (t) => {
  const [up, corp] = [await upstreamFor(t), await upstreamFor(t)];
  up.set('www.example.com', { kind: 'answer', records: [a('www.example.com', '192.0.2.1')] });
  corp.set('intranet.corp.example', { kind: 'answer', records: [a('intranet.corp.example', '10.1.0.5')] });
  const { ask } = await rig(
    t,
    forwardConfig([hostPort(up)], { stubDomains: [{ domain: 'corp.example', upstreams: [hostPort(corp)], forceTcp: true }] }),
  );
  assert.deepEqual((await ask('intranet.corp.example')).answer, ['intranet.corp.example. 300 IN A 10.1.0.5']);
  assert.deepEqual((await ask('www.example.com')).answer, ['www.example.com. 300 IN A 192.0.2.1']);
  assert.deepEqual(
    corp.asked('intranet.corp.example').map((r) => r.transport),
    ['tcp'],
  );
  assert.deepEqual(
    up.asked('www.example.com').map((r) => r.transport),
    ['udp'],
  );
});
