// The upstream-answer cache on its own, with a hand-driven clock: upstream replies are built as
// whole messages, converted as the forwarder converts them, kept, and read back with dns2. Two
// caches (answers, denials) that a flood of names asked once cannot flush, and the failures
// remembered beside them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLASS, FLAG, HEADER_SIZE, RCODE, TYPE } from '../../src/dns/constants.ts';
import type { Reply } from '../../src/dns/message.ts';
import { readMessage } from '../../src/dns/reader.ts';
import { ReplyWriter, type WireRecord } from '../../src/dns/writer.ts';
import { cacheKey, ResponseCache, SERVFAIL_REPLY, STALE_TTL } from '../../src/upstream/cache.ts';
import { convertReply } from '../../src/upstream/scrub.ts';
import { CacheStats } from '../../src/upstream/stats.ts';
import { buildQuery, decode, replyMessage } from '../support/dns.ts';
import { a, soa } from '../support/upstream.ts';

/** An upstream's reply to `name` A, converted the way the forwarder converts it before caching. */
function upstreamReply(name: string, rcode: number, answer: WireRecord[], authority: WireRecord[] = [], additional: WireRecord[] = []) {
  const writer = new ReplyWriter(name);
  for (const rr of [...answer, ...authority, ...additional]) writer.record(rr);
  const body = writer.bytes();
  const question = buildQuery(name, TYPE.A).subarray(HEADER_SIZE);
  const header = Buffer.alloc(HEADER_SIZE);
  header.writeUInt16BE(FLAG.QR | FLAG.RD | FLAG.RA | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answer.length, 6);
  header.writeUInt16BE(authority.length, 8);
  header.writeUInt16BE(additional.length, 10);
  const wire = Buffer.concat([header, question, body]);
  return convertReply({ wire, message: readMessage(wire) });
}

/** The key of an A question in class IN. */
function keyOfA(name: string, dnssecOk = false): string {
  return cacheKey({ name, type: TYPE.A, class: CLASS.IN, dnssecOk, checkingDisabled: false });
}

function rig(
  options: {
    size?: number;
    denialSize?: number;
    successTtl?: number;
    denialTtl?: number;
    servfailTtl?: number;
    serveStaleMs?: number;
  } = {},
) {
  const clock = { now: 1_800_000_000_000 };
  const stats = new CacheStats();
  const cache = new ResponseCache({
    successSize: options.size ?? 100,
    denialSize: options.denialSize ?? options.size ?? 100,
    successTtl: options.successTtl ?? 3600,
    denialTtl: options.denialTtl ?? 30,
    servfailTtl: options.servfailTtl ?? 5,
    serveStaleMs: options.serveStaleMs ?? 3_600_000,
    stats,
    now: () => clock.now,
  });
  const put = (name: string, converted: ReturnType<typeof upstreamReply>, dnssecOk = false) =>
    cache.put(keyOfA(name, dnssecOk), converted.reply, converted.ttlOffsets, converted.ttls, converted.negativeTtl);
  const get = (name: string, dnssecOk = false) => cache.get(keyOfA(name, dnssecOk));
  const failed = (name: string) => cache.failed(keyOfA(name));
  return { cache, stats, clock, put, get, failed };
}

const show = (name: string, reply: Reply) => decode(replyMessage(name, TYPE.A, reply));

test("a hit counts every TTL down (answer, authority, additional), never past the entry's own expiry", () => {
  const { put, get, clock, stats } = rig();
  put(
    'www.example.com',
    upstreamReply(
      'www.example.com',
      RCODE.NOERROR,
      [a('www.example.com', '192.0.2.1', 100), a('www.example.com', '192.0.2.2', 300)],
      [{ name: 'example.com', type: TYPE.NS, ttl: 86400, target: 'ns1.example.com' }],
      [a('ns1.example.com', '192.0.2.53', 86400)],
    ),
  );
  clock.now += 40_500;
  const hit = get('www.example.com');
  assert.ok(hit);
  const r = show('www.example.com', hit.reply);
  assert.deepEqual(r.answer, ['www.example.com. 60 IN A 192.0.2.1', 'www.example.com. 60 IN A 192.0.2.2']);
  assert.deepEqual(r.authority, ['example.com. 60 IN NS ns1.example.com.']);
  assert.deepEqual(r.additional, ['ns1.example.com. 60 IN A 192.0.2.53']);
  assert.equal(hit.reply.recursionAvailable, true);
  assert.equal(hit.reply.authoritative, false);
  assert.equal(stats.hits.success, 1);
  clock.now += 60_000;
  assert.equal(get('www.example.com'), null, "the smallest answer TTL (100 s) is the entry's life");
  assert.equal(stats.misses, 1);
});

test('hits within one second share the prepared bytes; the next second gets its own, counted down', () => {
  const { put, get, clock } = rig();
  put('c.example.com', upstreamReply('c.example.com', RCODE.NOERROR, [a('c.example.com', '192.0.2.1', 100)]));
  clock.now += 10_100;
  const first = get('c.example.com')!.reply;
  clock.now += 800;
  assert.equal(get('c.example.com')!.reply, first, 'same second: no copy, no patching');
  clock.now += 200;
  const later = get('c.example.com')!.reply;
  assert.notEqual(later, first);
  assert.deepEqual(show('c.example.com', first).answer, ['c.example.com. 90 IN A 192.0.2.1'], 'what was handed out stays as it was');
  assert.deepEqual(show('c.example.com', later).answer, ['c.example.com. 89 IN A 192.0.2.1']);
});

test('the key holds type, class and the DO bit: a DO answer is not served to a plain query', () => {
  const { put, get } = rig();
  put('signed.example.com', upstreamReply('signed.example.com', RCODE.NOERROR, [a('signed.example.com', '192.0.2.9')]), true);
  assert.equal(get('signed.example.com'), null);
  assert.ok(get('signed.example.com', true));
  assert.notEqual(
    keyOfA('x.example'),
    cacheKey({ name: 'x.example', type: TYPE.A, class: CLASS.CH, dnssecOk: false, checkingDisabled: false }),
  );
  assert.notEqual(
    keyOfA('x.example'),
    cacheKey({ name: 'x.example', type: TYPE.AAAA, class: CLASS.IN, dnssecOk: false, checkingDisabled: false }),
  );
  assert.notEqual(
    keyOfA('x.example'),
    cacheKey({ name: 'x.example', type: TYPE.A, class: CLASS.IN, dnssecOk: false, checkingDisabled: true }),
    'CD',
  );
  assert.notEqual(
    keyOfA('x.example', true),
    cacheKey({ name: 'x.example', type: TYPE.A, class: CLASS.IN, dnssecOk: false, checkingDisabled: true }),
    'DO is not CD',
  );
});

test('caps: success by --cache-success-ttl; NXDOMAIN and NODATA by the SOA (min of its TTL and MINIMUM) and --cache-denial-ttl', () => {
  const { put, get, clock, stats } = rig({ successTtl: 60, denialTtl: 30 });
  put('long.example.com', upstreamReply('long.example.com', RCODE.NOERROR, [a('long.example.com', '192.0.2.1', 86400)]));
  assert.deepEqual(
    show('long.example.com', get('long.example.com')!.reply).answer,
    ['long.example.com. 60 IN A 192.0.2.1'],
    'served TTL capped too',
  );
  // RFC 2308 §5: the negative TTL is min(SOA TTL, SOA MINIMUM): 10 here, under the 30 s cap.
  put('nx.example.com', upstreamReply('nx.example.com', RCODE.NXDOMAIN, [], [soa('example.com', 10, 900)]));
  put('nodata.example.com', upstreamReply('nodata.example.com', RCODE.NOERROR, [], [soa('example.com', 3600, 900)]));
  assert.equal(stats.entries.denial, 2);
  clock.now += 9_000;
  assert.equal(show('nx.example.com', get('nx.example.com')!.reply).rcode, 'NXDOMAIN');
  clock.now += 2_000;
  assert.equal(get('nx.example.com'), null, "gone after the SOA's 10 s");
  assert.ok(get('nodata.example.com'), 'NODATA kept, capped at 30 s, not 900 s');
  clock.now += 20_000;
  assert.equal(get('nodata.example.com'), null);
  assert.ok(get('long.example.com'), '31 s in');
  clock.now += 30_000;
  assert.equal(get('long.example.com'), null, 'gone after the 60 s cap, not 86400 s');
});

test('not kept: a denial without an SOA, SERVFAIL, REFUSED, a TTL of 0, and anything with --cache-size 0', () => {
  const { put, get, stats } = rig();
  put('nosoa.example.com', upstreamReply('nosoa.example.com', RCODE.NXDOMAIN, []));
  put('sf.example.com', upstreamReply('sf.example.com', RCODE.SERVFAIL, []));
  put('ref.example.com', upstreamReply('ref.example.com', RCODE.REFUSED, []));
  put('zero.example.com', upstreamReply('zero.example.com', RCODE.NOERROR, [a('zero.example.com', '192.0.2.1', 0)]));
  for (const n of ['nosoa', 'sf', 'ref', 'zero']) assert.equal(get(`${n}.example.com`), null, n);
  assert.equal(stats.entries.success + stats.entries.denial, 0);

  const off = rig({ size: 0 });
  off.put('c.example.com', upstreamReply('c.example.com', RCODE.NOERROR, [a('c.example.com', '192.0.2.1')]));
  assert.equal(off.get('c.example.com'), null);
  assert.equal(off.stats.requests, 1);
  assert.equal(off.stats.misses, 1);
});

test('two caches of --cache-size entries each: denials never evict answers; evictions counted by kind; replacing is not evicting', () => {
  const { put, get, stats, cache } = rig({ size: 10 });
  for (let i = 0; i < 10; i++)
    put(`a${i}.example.com`, upstreamReply(`a${i}.example.com`, RCODE.NOERROR, [a(`a${i}.example.com`, '192.0.2.1')]));
  for (let i = 0; i < 500; i++)
    put(`nx${i}.example.com`, upstreamReply(`nx${i}.example.com`, RCODE.NXDOMAIN, [], [soa('example.com', 60, 60)]));
  for (let i = 0; i < 10; i++) assert.ok(get(`a${i}.example.com`), `a${i} is still cached`);
  assert.deepEqual(stats.entries, { success: 10, denial: 10 });
  assert.deepEqual(stats.evictions, { success: 0, denial: 490 });
  assert.equal(cache.size, 20);
  put('a3.example.com', upstreamReply('a3.example.com', RCODE.NOERROR, [a('a3.example.com', '192.0.2.4')]));
  assert.deepEqual(stats.entries, { success: 10, denial: 10 });
  assert.equal(stats.evictions.success, 0);
  // A name that changed kind leaves the other cache: its old answer cannot be served stale later.
  put('a4.example.com', upstreamReply('a4.example.com', RCODE.NXDOMAIN, [], [soa('example.com', 60, 60)]));
  assert.deepEqual(stats.entries, { success: 9, denial: 10 });
  assert.equal(show('a4.example.com', get('a4.example.com')!.reply).rcode, 'NXDOMAIN');
  const denialOnly = rig({ size: 0, denialSize: 5 });
  denialOnly.put('x.example.com', upstreamReply('x.example.com', RCODE.NOERROR, [a('x.example.com', '192.0.2.1')]));
  denialOnly.put('nx.example.com', upstreamReply('nx.example.com', RCODE.NXDOMAIN, [], [soa('example.com', 60, 60)]));
  assert.equal(denialOnly.get('x.example.com'), null, '--cache-size 0 --cache-denial-size 5: answers not kept');
  assert.ok(denialOnly.get('nx.example.com'));
});

test('an NXDOMAIN flood of thousands of names asked once leaves the names asked often cached', () => {
  // 1,000 entries a cache; 300 popular names (half answers, half AAAA-style NODATA) asked five
  // times each, then 20,000 NXDOMAIN names asked once, a popular name asked after every tenth:
  // each popular name comes round every 3,000 flood names, three times what a cache holds.
  const { put, get, stats } = rig({ size: 1000, denialTtl: 3600, successTtl: 3600 });
  const popular = Array.from({ length: 300 }, (_, i) => `p${i}.example.com`);
  const ask = (name: string, i: number): boolean => {
    if (get(name)) return true;
    const denied = name.startsWith('nx') || i % 2 === 1;
    put(
      name,
      denied
        ? upstreamReply(name, name.startsWith('nx') ? RCODE.NXDOMAIN : RCODE.NOERROR, [], [soa('example.com', 3600, 3600)])
        : upstreamReply(name, RCODE.NOERROR, [a(name, '192.0.2.1', 3600)]),
    );
    return false;
  };
  for (let round = 0; round < 5; round++) popular.forEach((n, i) => ask(n, i));
  let hits = 0;
  let asked = 0;
  for (let f = 0; f < 20_000; f++) {
    ask(`nx${f}-${(f * 2654435761) >>> 0}.flood.example.com`, 0);
    if (f % 10 === 9) {
      const i = asked++ % popular.length;
      if (ask(popular[i]!, i)) hits++;
    }
  }
  assert.equal(asked, 2000);
  assert.ok(hits >= asked * 0.95, `popular names hit ${hits} of ${asked}`);
  assert.equal(stats.entries.success, 150, 'the answers were never touched');
  assert.ok(stats.evictions.denial > 18_000, 'the flood itself came and went');
});

test('remembered failures: SERVFAIL for --cache-servfail-ttl without a miss, the stale answer if one is left, counted; then asked again', () => {
  const { put, get, failed, clock, stats } = rig({ servfailTtl: 5, serveStaleMs: 600_000 });
  failed('dead.example.com');
  const held = get('dead.example.com');
  assert.ok(held);
  assert.equal(held.reply, SERVFAIL_REPLY);
  assert.equal(show('dead.example.com', held.reply).rcode, 'SERVFAIL');
  assert.equal(stats.servfailHits, 1);
  assert.equal(stats.hits.denial, 1, 'a hit as CoreDNS counts the SERVFAILs it caches');
  assert.equal(stats.misses, 0);
  assert.equal(stats.servfailEntries, 1);
  clock.now += 4_900;
  assert.ok(get('dead.example.com'));
  clock.now += 200;
  assert.equal(get('dead.example.com'), null, 'after 5 s the name is asked again');
  assert.equal(stats.servfailEntries, 0);
  // With an expired answer within --serve-stale, the remembered failure serves that.
  put('flaky.example.com', upstreamReply('flaky.example.com', RCODE.NOERROR, [a('flaky.example.com', '192.0.2.7', 60)]));
  clock.now += 61_000;
  failed('flaky.example.com');
  assert.deepEqual(show('flaky.example.com', get('flaky.example.com')!.reply).answer, [`flaky.example.com. ${STALE_TTL} IN A 192.0.2.7`]);
  // An answer that arrives ends it at once.
  put('flaky.example.com', upstreamReply('flaky.example.com', RCODE.NOERROR, [a('flaky.example.com', '192.0.2.8', 60)]));
  assert.deepEqual(show('flaky.example.com', get('flaky.example.com')!.reply).answer, ['flaky.example.com. 60 IN A 192.0.2.8']);
  assert.equal(stats.servfailEntries, 0);

  const off = rig({ servfailTtl: 0 });
  off.failed('dead.example.com');
  assert.equal(off.get('dead.example.com'), null, '--cache-servfail-ttl 0: not remembered');
  const noCache = rig({ size: 0 });
  noCache.failed('dead.example.com');
  assert.equal(noCache.get('dead.example.com'), null, '--cache-size 0: nothing is cached, failures neither');
});

test('a flood of failures evicts no answer and no denial', () => {
  const { put, get, failed, stats } = rig({ size: 50 });
  for (let i = 0; i < 50; i++) {
    put(`a${i}.example.com`, upstreamReply(`a${i}.example.com`, RCODE.NOERROR, [a(`a${i}.example.com`, '192.0.2.1')]));
    put(`nx${i}.example.com`, upstreamReply(`nx${i}.example.com`, RCODE.NXDOMAIN, [], [soa('example.com', 60, 60)]));
  }
  for (let i = 0; i < 5000; i++) failed(`dead${i}.example.com`);
  assert.deepEqual(stats.entries, { success: 50, denial: 50 });
  assert.deepEqual(stats.evictions, { success: 0, denial: 0 });
  assert.equal(stats.servfailEntries, 50, "bounded by the larger cache's size");
  for (let i = 0; i < 50; i++) assert.ok(get(`a${i}.example.com`) && get(`nx${i}.example.com`));
  assert.ok(get('dead4999.example.com'), 'the latest failures are the ones remembered');
});

test('an answer whose TTL has the top bit set is served with TTL 0 and not kept', () => {
  const { put, get } = rig();
  put(
    'top.example.com',
    upstreamReply('top.example.com', RCODE.NOERROR, [{ name: 'top.example.com', type: TYPE.A, ttl: 0x80000001, address: '192.0.2.1' }]),
  );
  assert.equal(get('top.example.com'), null);
});

test('prefetch: asked for once an entry has 3 hits and at most a tenth of its TTL left, and not twice at once', () => {
  const { put, get, clock, cache } = rig();
  const key = keyOfA('hot.example.com');
  put('hot.example.com', upstreamReply('hot.example.com', RCODE.NOERROR, [a('hot.example.com', '192.0.2.1', 100)]));
  clock.now += 95_000;
  assert.equal(get('hot.example.com')!.prefetch, false, 'one hit: not popular yet');
  assert.equal(get('hot.example.com')!.prefetch, false);
  assert.equal(get('hot.example.com')!.prefetch, true, 'third hit, 5 s of 100 left');
  cache.markPrefetching(key, true);
  assert.equal(get('hot.example.com')!.prefetch, false, 'already being refreshed');

  put('warm.example.com', upstreamReply('warm.example.com', RCODE.NOERROR, [a('warm.example.com', '192.0.2.2', 100)]));
  for (let i = 0; i < 5; i++) assert.equal(get('warm.example.com')!.prefetch, false, 'popular, but most of its life left');
});

test('prefetch: --cache-prefetch N hits and the last --cache-prefetch-percent of the TTL; 0 never', () => {
  const rows: { hits: number; percent: number; leftS: number; asks: number; want: boolean; why: string }[] = [
    { hits: 5, percent: 10, leftS: 5, asks: 4, want: false, why: 'four hits of five' },
    { hits: 5, percent: 10, leftS: 5, asks: 5, want: true, why: 'the fifth hit' },
    { hits: 2, percent: 50, leftS: 45, asks: 2, want: true, why: 'half the TTL left, 50 %' },
    { hits: 2, percent: 10, leftS: 45, asks: 2, want: false, why: 'half the TTL left, 10 %' },
    { hits: 0, percent: 10, leftS: 1, asks: 9, want: false, why: '0: never' },
  ];
  for (const row of rows) {
    const clock = { now: 1_800_000_000_000 };
    const cache = new ResponseCache({
      successSize: 10,
      denialSize: 10,
      successTtl: 3600,
      denialTtl: 30,
      servfailTtl: 5,
      serveStaleMs: 0,
      stats: new CacheStats(),
      now: () => clock.now,
      prefetchHits: row.hits,
      prefetchPercent: row.percent,
    });
    const converted = upstreamReply('hot.example.com', RCODE.NOERROR, [a('hot.example.com', '192.0.2.1', 100)]);
    cache.put(keyOfA('hot.example.com'), converted.reply, converted.ttlOffsets, converted.ttls, converted.negativeTtl);
    clock.now += (100 - row.leftS) * 1000;
    let last = false;
    for (let i = 0; i < row.asks; i++) last = cache.get(keyOfA('hot.example.com'))!.prefetch;
    assert.equal(last, row.want, row.why);
  }
});

test('serve-stale: an expired answer with TTL 30 while within --serve-stale, counted; nothing after', () => {
  const { put, cache, clock, stats } = rig({ serveStaleMs: 600_000 });
  const key = keyOfA('old.example.com');
  put('old.example.com', upstreamReply('old.example.com', RCODE.NOERROR, [a('old.example.com', '192.0.2.1', 60)]));
  clock.now += 60_000 + 500_000;
  const stale = cache.stale(key);
  assert.ok(stale);
  assert.deepEqual(show('old.example.com', stale).answer, [`old.example.com. ${STALE_TTL} IN A 192.0.2.1`]);
  assert.equal(stats.servedStale, 1);
  clock.now += 200_000;
  assert.equal(cache.stale(key), null, 'more than 10 min past expiry');
  assert.equal(stats.servedStale, 1);
});

test('forget drops the entries and remembered failures of the names it is told, counting them out; sameShape compares the settings', () => {
  const { cache, stats, put, get, failed } = rig();
  put('a.example.com', upstreamReply('a.example.com', RCODE.NOERROR, [a('a.example.com', '192.0.2.1')]));
  put('b.corp.example', upstreamReply('b.corp.example', RCODE.NOERROR, [a('b.corp.example', '10.0.0.2')]));
  failed('c.corp.example');
  assert.equal(
    cache.forget((name) => name.endsWith('.corp.example')),
    1,
  );
  assert.ok(get('a.example.com'));
  assert.equal(get('b.corp.example'), null);
  assert.equal(get('c.corp.example'), null, 'the remembered failure is gone too: asked again');
  assert.equal(stats.entries.success, 1);
  const shape = { successSize: 100, denialSize: 100, successTtl: 3600, denialTtl: 30, servfailTtl: 5, serveStaleMs: 3_600_000 };
  assert.equal(cache.sameShape(shape), true);
  assert.equal(cache.sameShape({ ...shape, denialTtl: 60 }), false);
});
