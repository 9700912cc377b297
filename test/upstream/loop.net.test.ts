// Loop detection (src/upstream/loop.ts): our own probe coming back through an upstream marks that
// upstream, once, with one log line; another server's probe passing through is forwarded as any name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { TYPE } from '../../src/dns/constants.ts';
import { startListeners } from '../../src/server/listen.ts';
import { QueryProcessor } from '../../src/server/processor.ts';
import { silentLogger } from '../../src/base/log.ts';
import { Forwarder } from '../../src/upstream/forward.ts';
import { buildQuery, decode } from '../support/dns.ts';
import { FAST, forwardConfig, hostPort, rig, upstreamFor } from '../support/forwarder.ts';

test('a forwarding loop is found with a probe, logged, and that upstream dropped, without exiting', async (t) => {
  // The "upstream" relays everything to our own server, as a node resolv.conf pointing at the
  // cluster DNS would.
  const relay = createSocket('udp4');
  t.after(() => relay.close());
  await new Promise<void>((resolve) => relay.bind(0, '127.0.0.1', resolve));
  const lines: string[] = [];
  const logger = silentLogger();
  const forwarder = new Forwarder({
    config: forwardConfig([{ host: '127.0.0.1', port: relay.address().port }]),
    logger: Object.assign(Object.create(logger), {
      child: () => ({ ...logger, error: (_: unknown, msg: string) => lines.push(msg), warn: () => {}, info: () => {} }),
    }),
    timing: FAST,
  });
  t.after(() => forwarder.close());
  const processor = new QueryProcessor({ handlers: [forwarder] });
  const listeners = await startListeners([{ host: '127.0.0.1', port: 0 }], processor);
  t.after(() => listeners.close());
  const ours = listeners.addresses()[0]!;
  relay.on('message', (msg) => relay.send(msg, ours.port, '127.0.0.1'));
  forwarder.start();
  const deadline = Date.now() + 2_000;
  while (lines.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 100)); // the probe may come round more than once: one line
  assert.equal(lines.filter((l) => /forwarding loop/.test(l)).length, 1, lines.join(' | '));
  // The looping upstream is no longer asked: SERVFAIL (nothing left), and we are still here.
  const out = await processor.process(buildQuery('example.com', TYPE.A), { protocol: 'udp', remoteAddress: '127.0.0.1' });
  assert.equal(decode(out!).rcode, 'SERVFAIL');
  assert.ok(lines.some((l) => /every upstream is down/.test(l)));
});

test("another server's loop probe (another token) passing through is forwarded, not refused", async (t) => {
  const up = await upstreamFor(t);
  up.fallback = { kind: 'answer', records: [] };
  const { ask, forwarder } = await rig(t, forwardConfig([hostPort(up)]));
  forwarder.start();
  const r = await ask('0123456789abcdef.0-0.cluster-dns-loop', TYPE.HINFO);
  assert.equal(r.rcode, 'NOERROR');
  assert.equal(up.asked('0123456789abcdef.0-0.cluster-dns-loop').length, 1);
  // Still asked: nothing was marked as looping.
  assert.equal((await ask('www.example.com')).rcode, 'NOERROR');
});
