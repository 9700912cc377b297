// The batching UDP path (native/udp-batch.node) on its own: bursts answered in batches, replies
// that do not fit the outbox, answers that come later, oversize datagrams, close and rebind.
// Real sockets on loopback only; every wait has a timeout.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServerStats, type QueryProcessor, type ServerContext } from '../../src/server/processor.ts';
import { BATCH, loadUdpBatch, openUdpBatch, udpBatchAddon, type UdpBatchAddon } from '../../src/server/udp-batch.ts';
import { resolveUdpIo, UdpIoUnavailableError } from '../../src/server/udp.ts';

const addon = udpBatchAddon();
const skip = addon === null ? 'native/udp-batch.node is not built (no C compiler)' : false;

/**
 * A processor double: these tests are about the transport, so the "answer" is the query with QR
 * set, padded to `replySize(query)` octets; queries whose first label is `later` answer after
 * 30 ms. Every context is kept for the assertions.
 */
function echoProcessor(replySize: (msg: Buffer) => number = (m) => m.length) {
  const stats = new ServerStats();
  const contexts: ServerContext[] = [];
  /** [query ID, sender] of every query. */
  const senders: [number, string][] = [];
  const answer = (msg: Buffer): Buffer => {
    const reply = Buffer.alloc(Math.max(msg.length, replySize(msg)));
    msg.copy(reply);
    reply[2] = (reply[2] as number) | 0x80;
    return reply;
  };
  const processor = {
    stats,
    process(msg: Buffer, context: ServerContext): Buffer | Promise<Buffer> {
      stats.received++;
      contexts.push(context);
      senders.push([msg.readUInt16BE(0), context.remoteAddress]);
      if (msg.toString('latin1', 13, 18) === 'later') return sleep(30).then(() => answer(msg));
      return answer(msg);
    },
  };
  // The transport only calls process() and reads stats; the double has exactly those.
  return { processor: processor as unknown as QueryProcessor, stats, contexts, senders };
}

function query(id: number, first = 'q'): Buffer {
  const name = Buffer.concat([
    Buffer.from([first.length]),
    Buffer.from(first, 'latin1'),
    Buffer.from([7]),
    Buffer.from('example'),
    Buffer.from([0]),
  ]);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2);
  header.writeUInt16BE(1, 4);
  return Buffer.concat([header, name, Buffer.from([0, 1, 0, 1])]);
}

/** Records the size of every batch the addon hands to JavaScript. */
function countingAddon(inner: UdpBatchAddon, batches: number[]): UdpBatchAddon {
  return {
    SLOT: inner.SLOT,
    MAX_BATCH: inner.MAX_BATCH,
    open: (host, port, reusePort, receiveBuffer, batch, inbox, meta, addrText, addrRaw, outbox, outMeta, onBatch) =>
      inner.open(host, port, reusePort, receiveBuffer, batch, inbox, meta, addrText, addrRaw, outbox, outMeta, (count) => {
        batches.push(count);
        onBatch(count);
      }),
    port: (handle) => inner.port(handle),
    send: (handle, reply, address, offset) => inner.send(handle, reply, address, offset),
    close: (handle, onClosed) => inner.close(handle, onClosed),
  };
}

const OPTIONS = { listener: 0, receiveBuffer: 1 << 20, reusePort: false, busyPoll: null };

/**
 * Sends every message at once, spread over 8 client sockets (one client's receive queue, 208 KiB
 * by default, would overflow with the replies of a burst); resolves with the replies by ID once
 * `expect` arrived or after 3 s.
 */
async function burst(t: TestContext, port: number, messages: Buffer[], expect = messages.length, host = '127.0.0.1') {
  const replies = new Map<number, Buffer>();
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  const timer = setTimeout(resolveDone, 3000);
  const clients = Array.from({ length: 8 }, () => dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4'));
  t.after(() => clients.forEach((c) => c.close()));
  for (const client of clients) {
    client.on('message', (reply) => {
      replies.set(reply.readUInt16BE(0), reply);
      if (replies.size >= expect) {
        clearTimeout(timer);
        resolveDone();
      }
    });
    await new Promise<void>((resolve) => client.bind(0, host, resolve));
  }
  messages.forEach((message, i) => (clients[i % clients.length] as dgram.Socket).send(message, port, host));
  await done;
  return replies;
}

test('loadUdpBatch: null for a missing file; the built addon loads', () => {
  assert.equal(loadUdpBatch('/nonexistent/udp-batch.node'), null);
  if (addon !== null) {
    assert.equal(typeof addon.open, 'function');
    assert.ok(addon.SLOT >= 65_507 && BATCH <= addon.MAX_BATCH);
  }
});

test('resolveUdpIo: node is node:dgram; batch without the addon is an error; auto falls back', () => {
  const fake = {} as UdpBatchAddon;
  assert.equal(resolveUdpIo('node', fake), null);
  assert.equal(resolveUdpIo('auto', fake), fake);
  assert.equal(resolveUdpIo('batch', fake), fake);
  assert.equal(resolveUdpIo('auto', null), null);
  assert.throws(() => resolveUdpIo('batch', null), UdpIoUnavailableError);
  assert.throws(() => resolveUdpIo('batch', null), /--udp-io batch/);
});

test('a burst is answered in batches, every reply to its query', { skip }, async (t) => {
  const batches: number[] = [];
  const { processor, stats, contexts } = echoProcessor();
  const socket = openUdpBatch(countingAddon(addon!, batches), '127.0.0.1', 0, processor, OPTIONS);
  t.after(() => socket.close());
  const messages = Array.from({ length: 300 }, (_, i) => query(i));
  const replies = await burst(t, socket.port, messages);
  assert.equal(replies.size, 300);
  for (const [id, reply] of replies) {
    assert.equal(reply.length, (messages[id] as Buffer).length);
    assert.ok(((reply[2] as number) & 0x80) !== 0);
    assert.deepEqual(reply.subarray(3), (messages[id] as Buffer).subarray(3));
  }
  assert.equal(stats.received, 300);
  assert.ok(Math.max(...batches) > 1, `some batch held more than one datagram (${batches.length} batches)`);
  assert.ok(Math.max(...batches) <= BATCH);
  assert.equal(contexts[0]?.remoteAddress, '127.0.0.1');
  assert.equal(contexts[0]?.protocol, 'udp');
  assert.equal(stats.udpSendErrors, 0);
});

test('each sender is named by its own address, across batches (127.0.0.1-5)', { skip }, async (t) => {
  const { processor, senders } = echoProcessor();
  const socket = openUdpBatch(addon!, '0.0.0.0', 0, processor, OPTIONS);
  t.after(() => socket.close());
  const clients = await Promise.all(
    [1, 2, 3, 4, 5].map(async (n) => {
      const client = dgram.createSocket('udp4');
      t.after(() => client.close());
      await new Promise<void>((resolve) => client.bind(0, `127.0.0.${n}`, resolve));
      return client;
    }),
  );
  let replies = 0;
  const all = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 3000);
    for (const client of clients) {
      client.on('message', () => {
        if (++replies === 50) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  });
  // Two rounds, so the second finds every sender's text already kept.
  for (let round = 0; round < 2; round++) {
    for (let k = 0; k < 5; k++)
      for (const [n, client] of clients.entries()) client.send(query(round * 100 + k * 10 + n + 1), socket.port, '127.0.0.1');
    await sleep(20);
  }
  await all;
  assert.equal(replies, 50);
  for (const [id, sender] of senders) assert.equal(sender, `127.0.0.${id % 10}`, `query ${id}`);
});

test('replies that overflow the outbox go out one by one; none is lost', { skip }, async (t) => {
  // 32 replies of 3000 octets are ~94 KiB, more than the 64 KiB outbox of one batch.
  const { processor, stats } = echoProcessor(() => 3000);
  const socket = openUdpBatch(addon!, '127.0.0.1', 0, processor, OPTIONS);
  t.after(() => socket.close());
  const replies = await burst(
    t,
    socket.port,
    Array.from({ length: 200 }, (_, i) => query(i)),
  );
  assert.equal(replies.size, 200);
  for (const reply of replies.values()) assert.equal(reply.length, 3000);
  assert.equal(stats.udpSendErrors, 0);
});

test('answers that come later reach their senders; one due after close is counted, not sent', { skip }, async (t) => {
  const { processor, stats } = echoProcessor();
  const socket = openUdpBatch(addon!, '127.0.0.1', 0, processor, OPTIONS);
  t.after(() => socket.close());
  const messages = Array.from({ length: 40 }, (_, i) => query(i, i % 2 === 0 ? 'later' : 'now'));
  const replies = await burst(t, socket.port, messages);
  assert.equal(replies.size, 40);
  for (const [id, reply] of replies) assert.deepEqual(reply.subarray(3), (messages[id] as Buffer).subarray(3));

  const client = dgram.createSocket('udp4');
  t.after(() => client.close());
  let late = 0;
  client.on('message', () => late++);
  client.send(query(7, 'later'), socket.port, '127.0.0.1');
  const deadline = Date.now() + 2000;
  while (stats.received < 41 && Date.now() < deadline) await sleep(2);
  await socket.close();
  await sleep(80);
  assert.equal(late, 0);
  assert.equal(stats.udpSendErrors, 1);
});

test('datagrams up to the largest UDP payload are read whole', { skip }, async (t) => {
  const { processor, contexts } = echoProcessor(() => 100);
  const socket = openUdpBatch(addon!, '127.0.0.1', 0, processor, OPTIONS);
  t.after(() => socket.close());
  const big = Buffer.concat([query(1), Buffer.alloc(65_507 - query(1).length, 0xab)]);
  const replies = await burst(t, socket.port, [big, query(2)]);
  assert.equal(replies.size, 2);
  // The echo double answers with the whole query: every octet arrived.
  assert.deepEqual(replies.get(1)?.subarray(3), big.subarray(3));
  assert.equal(contexts.length, 2);
});

test('bind errors look like node:dgram; close() frees the port for the next bind', { skip }, async (t) => {
  const { processor } = echoProcessor();
  const first = openUdpBatch(addon!, '127.0.0.1', 0, processor, OPTIONS);
  assert.throws(
    () => openUdpBatch(addon!, '127.0.0.1', first.port, processor, OPTIONS),
    (err: NodeJS.ErrnoException) => {
      assert.equal(err.code, 'EADDRINUSE');
      assert.equal(err.syscall, 'bind');
      assert.match(err.message, /^bind EADDRINUSE 127\.0\.0\.1:\d+$/);
      return true;
    },
  );
  const closing = first.close();
  assert.equal(first.close(), closing, 'one promise for every close()');
  await closing;
  const again = openUdpBatch(addon!, '127.0.0.1', first.port, processor, OPTIONS);
  t.after(() => again.close());
  assert.equal(again.port, first.port);
  assert.equal((await burst(t, again.port, [query(9)])).size, 1);
  assert.throws(() => openUdpBatch(addon!, 'not-an-ip', 0, processor, OPTIONS), TypeError);
});

test('IPv6: the sender as text, and IPv4 senders of a dual-stack socket as ::ffff:a.b.c.d', { skip }, async (t) => {
  const { processor, contexts } = echoProcessor();
  let any;
  try {
    any = openUdpBatch(addon!, '::', 0, processor, OPTIONS);
  } catch (err) {
    t.skip(`no IPv6 here (${(err as NodeJS.ErrnoException).code})`);
    return;
  }
  t.after(() => any.close());
  assert.equal((await burst(t, any.port, [query(1)], 1, '127.0.0.1')).size, 1);
  assert.equal(contexts.at(-1)?.remoteAddress, '::ffff:127.0.0.1');
  let six;
  try {
    six = await burst(t, any.port, [query(2)], 1, '::1');
  } catch {
    six = null;
  }
  if (six === null || six.size === 0) return t.skip('no IPv6 loopback');
  assert.equal(contexts.at(-1)?.remoteAddress, '::1');
});

test('SO_REUSEPORT: two sockets share a port when both ask for it', { skip }, async (t) => {
  const { processor, stats } = echoProcessor();
  const shared = { ...OPTIONS, reusePort: true };
  const a = openUdpBatch(addon!, '127.0.0.1', 0, processor, shared);
  t.after(() => a.close());
  const b = openUdpBatch(addon!, '127.0.0.1', a.port, processor, shared);
  t.after(() => b.close());
  assert.equal(b.port, a.port);
  assert.equal(
    (
      await burst(
        t,
        a.port,
        Array.from({ length: 50 }, (_, i) => query(i)),
      )
    ).size,
    50,
  );
  assert.equal(stats.received, 50);
});
