// The cache handler in front of the forwarder, as app.ts chains them: hits answered by the cache
// handler, synchronously; misses passed on and asked upstream by the forwarder, which never looks
// the cache up a second time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TYPE } from '../../src/dns/constants.ts';
import { silentLogger } from '../../src/base/log.ts';
import { CacheHandler } from '../../src/upstream/cache-handler.ts';
import { Forwarder } from '../../src/upstream/forward.ts';
import { decodeReply } from '../support/dns.ts';
import { forwardConfig, hostPort, queryOf, rig, upstreamFor } from '../support/forwarder.ts';
import { a } from '../support/upstream.ts';

const context = { protocol: 'udp', remoteAddress: '127.0.0.1' } as const;

test("a hit is the cache handler's, synchronously; a miss passes on to the forwarder, which asks upstream without a second lookup", async (t) => {
  const up = await upstreamFor(t);
  up.set('www.example.com', { kind: 'answer', records: [a('www.example.com', '192.0.2.80', 300)] });
  const { forwarder, ask } = await rig(t, forwardConfig([hostPort(up)]), { cacheHandler: true });
  const cache = new CacheHandler(forwarder);
  assert.equal(cache.serve(queryOf('www.example.com')), null, 'a miss is passed on');
  assert.deepEqual((await ask('www.example.com')).answer, ['www.example.com. 300 IN A 192.0.2.80']);
  // One lookup per query: the direct serve() above and the miss through the chain.
  assert.equal(forwarder.cacheStats.requests, 2);
  assert.equal(forwarder.cacheStats.misses, 2);
  const hit = cache.serve(queryOf('www.example.com'));
  assert.ok(hit !== null && !(hit instanceof Promise), 'a hit is a plain Reply');
  assert.deepEqual(decodeReply('www.example.com', TYPE.A, hit)?.answer, ['www.example.com. 300 IN A 192.0.2.80']);
  assert.deepEqual((await ask('www.example.com')).answer, ['www.example.com. 300 IN A 192.0.2.80']);
  assert.equal(forwarder.cacheStats.requests, 4);
  assert.equal(forwarder.cacheStats.hits.success, 2);
  assert.equal(up.asked('www.example.com').length, 1);
  // The forwarder behind the cache handler asks upstream for whatever reaches it.
  const again = forwarder.serve(queryOf('www.example.com'), context);
  assert.ok(again instanceof Promise, 'no cache lookup in the forwarder');
  await again;
  assert.equal(up.asked('www.example.com').length, 2);
  assert.equal(forwarder.cacheStats.requests, 4);
});

test('names no upstream is for pass on through the cache handler', async (t) => {
  const up = await upstreamFor(t);
  const { forwarder } = await rig(t, forwardConfig([], { stubDomains: [{ domain: 'corp.example', upstreams: [hostPort(up)] }] }), {
    cacheHandler: true,
  });
  assert.equal(new CacheHandler(forwarder).serve(queryOf('www.example.com')), null);
  assert.equal(forwarder.cacheStats.requests, 0, 'not even looked up');
});

test('a CacheHandler refuses a forwarder that looks its cache up itself (each miss would count twice)', (t) => {
  const forwarder = new Forwarder({ config: forwardConfig([{ host: '127.0.0.1', port: 9 }]), logger: silentLogger(), load: null });
  t.after(() => forwarder.close());
  assert.throws(() => new CacheHandler(forwarder), TypeError);
});
