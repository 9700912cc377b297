// TCP connection slots: a cap per source address, and a full pool that closes its longest-idle
// connection for a newcomer (RFC 7766 §6.2.2, §6.2.3). First the bookkeeping alone, then on the
// wire with clients on different loopback addresses.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { RCODE, TYPE } from '../../src/dns/constants.ts';
import { emptyReply, type Handler } from '../../src/dns/message.ts';
import { startListeners } from '../../src/server/listen.ts';
import { QueryProcessor } from '../../src/server/processor.ts';
import { ConnectionSlots, defaultPerClient, type Slot } from '../../src/server/slots.ts';
import { KubernetesZone } from '../../src/zone/kubernetes.ts';
import { connectFrom, holdTcp, until, victimTcp } from '../support/abuse.ts';
import { framed } from '../support/client.ts';
import { indexOf, testCluster } from '../support/cluster.ts';
import { buildQuery } from '../support/dns.ts';

function owned(slots: ConnectionSlots, address: string, evicted: string[], name: string): Slot {
  const slot = slots.take(address);
  assert.ok(typeof slot === 'object', `${name} admitted`);
  slot.owner = { evict: () => evicted.push(name) };
  return slot;
}

test('slots: a cap per address, the longest-idle evicted when full, busy ones never', () => {
  const slots = new ConnectionSlots(3, 2);
  const evicted: string[] = [];
  const a1 = owned(slots, '10.0.0.1', evicted, 'a1');
  owned(slots, '10.0.0.1', evicted, 'a2');
  assert.equal(slots.take('10.0.0.1'), 'client_limit', 'a third from the same address');
  const b1 = owned(slots, '10.0.0.2', evicted, 'b1');
  assert.equal(slots.size, 3);
  // a1 is the oldest; a query on it makes a2 the longest idle.
  slots.touch(a1);
  owned(slots, '10.0.0.3', evicted, 'c1');
  assert.deepEqual(evicted, ['a2']);
  assert.equal(slots.heldBy('10.0.0.1'), 1, 'the evicted slot is free again for its address');
  assert.equal(slots.size, 3);
  // b1 has a query in flight, a1 is next: a1 goes, then c1, then nothing is idle but b1 (busy).
  slots.busy(b1);
  owned(slots, '10.0.0.4', evicted, 'd1');
  assert.deepEqual(evicted, ['a2', 'a1']);
  slots.touch(a1); // a released slot stays released
  assert.equal(slots.size, 3);
  assert.equal(slots.heldBy('10.0.0.1'), 0);
});

test('slots: full of busy connections refuses; release is idempotent; the default is a tenth', () => {
  const slots = new ConnectionSlots(2, 2);
  const evicted: string[] = [];
  const x = owned(slots, '::1', evicted, 'x');
  const y = owned(slots, '::ffff:10.0.0.9', evicted, 'y');
  slots.busy(x);
  slots.busy(y);
  assert.equal(slots.take('10.0.0.5'), 'full');
  slots.release(x);
  slots.release(x);
  assert.equal(slots.size, 1);
  slots.touch(y); // its answer went out: idle again, so it can make room
  owned(slots, '10.0.0.5', evicted, 'z');
  owned(slots, '10.0.0.6', evicted, 'w');
  assert.deepEqual(evicted, ['y']);
  assert.equal(slots.size, 2);
  assert.equal(defaultPerClient(1000), 100);
  assert.equal(defaultPerClient(5), 1);
});

/** The test cluster's zone, and slow.testns.svc.cluster.local answered (empty) once the gate opens. */
async function serve(t: TestContext, options: { max?: number; perClient?: number; idle?: number } = {}) {
  const zone = new KubernetesZone({ index: indexOf(testCluster()), zone: 'cluster.local', ttl: 5, pods: 'verified' });
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  const slow: Handler = {
    name: 'slow',
    serve: (q) => (q.name === 'slow.testns.svc.cluster.local' ? gate.then(() => emptyReply(RCODE.NOERROR, true)) : null),
  };
  const processor = new QueryProcessor({ handlers: [slow, zone] });
  const listeners = await startListeners([{ host: '127.0.0.1', port: 0 }], processor, {
    tcpIdleTimeoutMs: options.idle ?? 20_000,
    ...(options.max !== undefined ? { tcpMaxConnections: options.max } : {}),
    ...(options.perClient !== undefined ? { tcpMaxConnectionsPerClient: options.perClient } : {}),
  });
  t.after(() => {
    open();
    return listeners.close();
  });
  return { stats: processor.stats, address: listeners.addresses()[0]!, openGate: () => open() };
}

function closed(socket: net.Socket): Promise<void> {
  return socket.destroyed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));
}

/** One framed reply's ID on `socket`, or null within `timeoutMs`. */
function replyId(socket: net.Socket, timeoutMs = 3_000): Promise<number | null> {
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => done(null), timeoutMs);
    const onData = (d: Buffer): void => {
      got = Buffer.concat([got, d]);
      if (got.length >= 4 && got.length >= 2 + got.readUInt16BE(0)) done(got.readUInt16BE(2));
    };
    const done = (id: number | null): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      resolve(id);
    };
    socket.on('data', onData);
    socket.once('close', () => done(null));
  });
}

test('one client holding 1,000 connections (a query every 3 s on each) leaves another its connections', { timeout: 60_000 }, async (t) => {
  // The defaults: 1000 connections, 100 per address.
  const { stats, address } = await serve(t);
  const holder = await holdTcp(address, '127.0.0.2', 1000, { intervalMs: 3_000 });
  t.after(() => holder.stop());
  assert.ok(await until(() => stats.tcpClientLimited >= 900, 10_000), `refused for the per-client cap: ${stats.tcpClientLimited}`);
  await sleep(1_000);
  const answered = await victimTcp(address, '127.0.0.3', 299, { concurrency: 10 });
  t.diagnostic(
    `holder sees ${holder.open()} open (some only in the kernel's accept queue), ${holder.closedByServer()} closed on it; victim answered on ${answered} of 299 connections; ` +
      `client limit ${stats.tcpClientLimited}, idle evictions ${stats.tcpIdleEvictions}, rejected ${stats.tcpRejected}`,
  );
  assert.equal(answered, 299);
  assert.equal(stats.tcpRejected, 0, 'the pool never filled: the holder stopped at its cap');
  assert.equal(stats.tcpIdleEvictions, 0);
});

test('a full pool closes its longest-idle connection for a newcomer, never one with a query in flight', async (t) => {
  const { stats, address, openGate } = await serve(t, { max: 4, perClient: 2 });
  const sockets: net.Socket[] = [];
  t.after(() => sockets.forEach((s) => s.destroy()));
  const open = async (from: string): Promise<net.Socket> => {
    const s = await connectFrom(address, from);
    assert.ok(s, `connected from ${from}`);
    s.on('error', () => {});
    sockets.push(s);
    await until(() => stats.tcpConnections >= sockets.length, 2_000);
    return s;
  };
  const ask = async (s: net.Socket, name: string, id: number): Promise<void> => {
    s.write(framed(buildQuery(name, TYPE.A, { id })));
  };
  const [a, b, c, d] = [await open('127.0.0.2'), await open('127.0.0.2'), await open('127.0.0.3'), await open('127.0.0.3')];
  // a asks a slow question (in flight until the gate opens); c and d ask and are answered, b never asks.
  await ask(a!, 'slow.testns.svc.cluster.local', 1);
  await ask(c!, 'svc1.testns.svc.cluster.local', 3);
  assert.equal(await replyId(c!), 3);
  await ask(d!, 'svc1.testns.svc.cluster.local', 4);
  assert.equal(await replyId(d!), 4);
  // Idle order now: b (since it connected), c, d; a is busy.
  const e = await open('127.0.0.4');
  await closed(b!);
  assert.equal(stats.tcpIdleEvictions, 1);
  await ask(e, 'svc1.testns.svc.cluster.local', 5);
  assert.equal(await replyId(e), 5, 'the newcomer is answered');
  // Next: c. Then d, then e... but first the newcomers from one address stop at its cap.
  const f = await open('127.0.0.5');
  await closed(c!);
  const g = await open('127.0.0.5');
  await closed(d!);
  const h = await connectFrom(address, '127.0.0.5');
  assert.ok(h);
  await closed(h);
  assert.equal(stats.tcpClientLimited, 1);
  assert.equal(stats.tcpIdleEvictions, 3);
  // The pool: a (busy), e, f, g. Make e, f and g busy too: nothing is idle, so a newcomer is refused.
  for (const [s, id] of [
    [e, 6],
    [f, 7],
    [g, 8],
  ] as const)
    await ask(s, 'slow.testns.svc.cluster.local', id);
  await sleep(100);
  const refused = await connectFrom(address, '127.0.0.6');
  assert.ok(refused);
  await closed(refused);
  assert.equal(stats.tcpRejected, 1);
  // The slow answers all arrive: none of the busy connections was closed.
  const waiting = [a!, e, f, g].map((s) => replyId(s));
  openGate();
  assert.deepEqual(await Promise.all(waiting), [1, 6, 7, 8]);
});
