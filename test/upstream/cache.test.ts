// The upstream-answer cache on its own, with a hand-driven clock: upstream replies are built as
// whole messages, converted as the forwarder converts them, kept, and read back with dns2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLASS, FLAG, HEADER_SIZE, RCODE, TYPE } from '../../src/dns/constants.ts';
import type { Reply } from '../../src/dns/message.ts';
import { readMessage } from '../../src/dns/reader.ts';
import { ReplyWriter, type WireRecord } from '../../src/dns/writer.ts';
import { cacheKey, ResponseCache, STALE_TTL } from '../../src/upstream/cache.ts';
import { convertReply } from '../../src/upstream/forward.ts';
import { CacheStats } from '../../src/upstream/stats.ts';
import { buildQuery, decode, replyMessage } from '../support/dns.ts';
import { a } from '../support/upstream.ts';

function soa(zone: string, ttl: number, minimum: number): WireRecord {
  return { name: zone, type: TYPE.SOA, ttl, mname: `ns1.${zone}`, rname: `hostmaster.${zone}`, serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum };
}

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

function rig(options: { size?: number; successTtl?: number; denialTtl?: number; serveStaleMs?: number } = {}) {
  const clock = { now: 1_800_000_000_000 };
  const stats = new CacheStats();
  const cache = new ResponseCache({
    size: options.size ?? 100,
    successTtl: options.successTtl ?? 3600,
    denialTtl: options.denialTtl ?? 30,
    serveStaleMs: options.serveStaleMs ?? 3_600_000,
    stats,
    now: () => clock.now,
  });
  const put = (name: string, converted: ReturnType<typeof upstreamReply>, dnssecOk = false) =>
    cache.put(cacheKey(name, TYPE.A, CLASS.IN, dnssecOk), converted.reply, converted.ttlOffsets, converted.ttls, converted.negativeTtl);
  const get = (name: string, dnssecOk = false) => cache.get(cacheKey(name, TYPE.A, CLASS.IN, dnssecOk));
  return { cache, stats, clock, put, get };
}

const show = (name: string, reply: Reply) => decode(replyMessage(name, TYPE.A, reply));

test('a hit counts every TTL down (answer, authority, additional), never past the entry\'s own expiry', () => {
  const { put, get, clock, stats } = rig();
  put('www.example.com', upstreamReply('www.example.com', RCODE.NOERROR, [a('www.example.com', '192.0.2.1', 100), a('www.example.com', '192.0.2.2', 300)], [{ name: 'example.com', type: TYPE.NS, ttl: 86400, target: 'ns1.example.com' }], [a('ns1.example.com', '192.0.2.53', 86400)]));
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
  assert.equal(get('www.example.com'), null, 'the smallest answer TTL (100 s) is the entry\'s life');
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
  assert.notEqual(cacheKey('x.example', TYPE.A, CLASS.IN, false), cacheKey('x.example', TYPE.A, CLASS.CH, false));
  assert.notEqual(cacheKey('x.example', TYPE.A, CLASS.IN, false), cacheKey('x.example', TYPE.AAAA, CLASS.IN, false));
  assert.notEqual(cacheKey('x.example', TYPE.A, CLASS.IN, false), cacheKey('x.example', TYPE.A, CLASS.IN, false, true), 'CD');
  assert.notEqual(cacheKey('x.example', TYPE.A, CLASS.IN, true), cacheKey('x.example', TYPE.A, CLASS.IN, false, true), 'DO is not CD');
});

test('caps: success by --cache-success-ttl; NXDOMAIN and NODATA by the SOA (min of its TTL and MINIMUM) and --cache-denial-ttl', () => {
  const { put, get, clock, stats } = rig({ successTtl: 60, denialTtl: 30 });
  put('long.example.com', upstreamReply('long.example.com', RCODE.NOERROR, [a('long.example.com', '192.0.2.1', 86400)]));
  assert.deepEqual(show('long.example.com', get('long.example.com')!.reply).answer, ['long.example.com. 60 IN A 192.0.2.1'], 'served TTL capped too');
  // RFC 2308 §5: the negative TTL is min(SOA TTL, SOA MINIMUM): 10 here, under the 30 s cap.
  put('nx.example.com', upstreamReply('nx.example.com', RCODE.NXDOMAIN, [], [soa('example.com', 10, 900)]));
  put('nodata.example.com', upstreamReply('nodata.example.com', RCODE.NOERROR, [], [soa('example.com', 3600, 900)]));
  assert.equal(stats.entries.denial, 2);
  clock.now += 9_000;
  assert.equal(show('nx.example.com', get('nx.example.com')!.reply).rcode, 'NXDOMAIN');
  clock.now += 2_000;
  assert.equal(get('nx.example.com'), null, 'gone after the SOA\'s 10 s');
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

test('LRU: the least recently used entry goes at --cache-size, counted by kind; replacing an entry is not an eviction', () => {
  const { put, get, stats, cache } = rig({ size: 2 });
  put('one.example.com', upstreamReply('one.example.com', RCODE.NOERROR, [a('one.example.com', '192.0.2.1')]));
  put('two.example.com', upstreamReply('two.example.com', RCODE.NXDOMAIN, [], [soa('example.com', 60, 60)]));
  assert.ok(get('one.example.com'), 'one is now the most recently used');
  put('three.example.com', upstreamReply('three.example.com', RCODE.NOERROR, [a('three.example.com', '192.0.2.3')]));
  assert.equal(get('two.example.com'), null, 'two was the least recently used');
  assert.deepEqual(stats.evictions, { success: 0, denial: 1 });
  assert.deepEqual(stats.entries, { success: 2, denial: 0 });
  put('three.example.com', upstreamReply('three.example.com', RCODE.NOERROR, [a('three.example.com', '192.0.2.4')]));
  assert.deepEqual(stats.entries, { success: 2, denial: 0 });
  assert.deepEqual(stats.evictions, { success: 0, denial: 1 });
  assert.equal(cache.size, 2);
});

test('prefetch: asked for once an entry has 3 hits and at most a tenth of its TTL left, and not twice at once', () => {
  const { put, get, clock, cache } = rig();
  const key = cacheKey('hot.example.com', TYPE.A, CLASS.IN, false);
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

test('serve-stale: an expired answer with TTL 30 while within --serve-stale, counted; nothing after', () => {
  const { put, cache, clock, stats } = rig({ serveStaleMs: 600_000 });
  const key = cacheKey('old.example.com', TYPE.A, CLASS.IN, false);
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
