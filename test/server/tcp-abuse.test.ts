// TCP abuse against the real listeners: slow senders, lying length prefixes, 64 KiB messages,
// a thousand pipelined queries, and every connection slot taken; through all of it UDP answers.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { TYPE } from '../../src/dns/constants.ts';
import { startListeners } from '../../src/server/listen.ts';
import { QueryProcessor } from '../../src/server/processor.ts';
import { KubernetesZone } from '../../src/zone/kubernetes.ts';
import { framed, queryUdp } from '../support/client.ts';
import { indexOf, testCluster } from '../support/cluster.ts';
import { buildQuery, decode } from '../support/dns.ts';

async function serve(t: TestContext, options: { idle?: number; read?: number; maxConnections?: number } = {}) {
  const zone = new KubernetesZone({ index: indexOf(testCluster()), zone: 'cluster.local', ttl: 5, pods: 'verified' });
  const processor = new QueryProcessor({ handlers: [zone] });
  const listeners = await startListeners([{ host: '127.0.0.1', port: 0 }], processor, {
    tcpIdleTimeoutMs: options.idle ?? 2_000,
    tcpMaxConnections: options.maxConnections ?? 1000,
  });
  t.after(() => listeners.close());
  return { processor, address: listeners.addresses()[0]! };
}

function open(address: { host: string; port: number }): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(address.port, address.host, () => resolve(s));
    s.once('error', reject);
  });
}

function closed(socket: net.Socket, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(true);
    const timer = setTimeout(() => resolve(false), timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function udpStillAnswers(address: { host: string; port: number }): Promise<void> {
  const reply = await queryUdp(address, buildQuery('svc1.testns.svc.cluster.local', TYPE.A), 1_000);
  assert.ok(reply, 'UDP answered');
  assert.deepEqual(decode(reply).answer, ['svc1.testns.svc.cluster.local. 5 IN A 10.96.1.1']);
}

test('slowloris: a frame trickled byte by byte is cut off at the read timeout, though bytes keep coming', async (t) => {
  const { processor, address } = await serve(t, { idle: 400 });
  const socket = await open(address);
  socket.on('error', () => {});
  const query = framed(buildQuery('svc1.testns.svc.cluster.local', TYPE.A));
  let sent = 0;
  const trickle = setInterval(() => {
    if (sent < query.length && !socket.destroyed) socket.write(query.subarray(sent, ++sent));
  }, 60); // far more often than the idle timeout: only a frame deadline stops this
  t.after(() => clearInterval(trickle));
  assert.equal(await closed(socket, 2_000), true, 'closed');
  assert.ok(sent < query.length, `cut off after ${sent} of ${query.length} bytes`);
  assert.equal(processor.stats.tcpReadTimeouts, 1);
  await udpStillAnswers(address);
});

test('a length prefix larger than what follows: no reply, closed at the read timeout, or at once after FIN', async (t) => {
  const { address } = await serve(t, { idle: 300 });
  const liar = await open(address);
  liar.on('error', () => {});
  const replies: Buffer[] = [];
  liar.on('data', (d) => replies.push(d));
  const prefix = Buffer.from([0x04, 0x00]); // says 1024 bytes
  liar.write(Buffer.concat([prefix, buildQuery('svc1.testns.svc.cluster.local', TYPE.A)]));
  assert.equal(await closed(liar, 2_000), true);
  assert.equal(replies.length, 0);

  const finisher = await open(address);
  finisher.on('error', () => {});
  finisher.end(Buffer.concat([prefix, buildQuery('svc1.testns.svc.cluster.local', TYPE.A)]));
  assert.equal(await closed(finisher, 250), true, 'FIN with a frame that can never complete: closed without waiting');
});

test('a 64 KiB message is answered (FORMERR for its junk) and the connection keeps working', async (t) => {
  const { address } = await serve(t);
  const socket = await open(address);
  const big = Buffer.alloc(65_535, 0x41);
  buildQuery('svc1.testns.svc.cluster.local', TYPE.A).copy(big);
  big.writeUInt16BE(1, 10); // one additional record that is 65 KB of junk
  const replies: Buffer[] = [];
  let buffered = Buffer.alloc(0);
  socket.on('data', (d) => {
    buffered = Buffer.concat([buffered, d]);
    while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
      replies.push(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
      buffered = buffered.subarray(2 + buffered.readUInt16BE(0));
    }
  });
  socket.write(framed(big));
  socket.write(framed(buildQuery('svc1.testns.svc.cluster.local', TYPE.A, { id: 99 })));
  const deadline = Date.now() + 2_000;
  while (replies.length < 2 && Date.now() < deadline) await sleep(10);
  socket.destroy();
  assert.equal(replies.length, 2);
  assert.equal(decode(replies[0]!).rcode, 'FORMERR');
  assert.equal(decode(replies[1]!).id, 99);
  assert.equal(decode(replies[1]!).rcode, 'NOERROR');
});

test('a thousand pipelined queries in one write get a thousand answers', async (t) => {
  const { address } = await serve(t);
  const socket = await open(address);
  const queries = Array.from({ length: 1000 }, (_, i) => buildQuery(i % 2 ? 'svc1.testns.svc.cluster.local' : 'nope.testns.svc.cluster.local', TYPE.A, { id: i }));
  const ids = new Set<number>();
  let buffered = Buffer.alloc(0);
  socket.on('data', (d) => {
    buffered = Buffer.concat([buffered, d]);
    while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
      ids.add(buffered.readUInt16BE(2));
      buffered = buffered.subarray(2 + buffered.readUInt16BE(0));
    }
  });
  socket.write(Buffer.concat(queries.map(framed)));
  const deadline = Date.now() + 5_000;
  while (ids.size < 1000 && Date.now() < deadline) await sleep(10);
  socket.destroy();
  assert.equal(ids.size, 1000);
});

test('every connection slot held by slow clients: new ones are refused and counted, UDP answers throughout', async (t) => {
  const { processor, address } = await serve(t, { idle: 1_500, maxConnections: 50 });
  const held: net.Socket[] = [];
  t.after(() => held.forEach((s) => s.destroy()));
  for (let i = 0; i < 50; i++) {
    const s = await open(address);
    s.on('error', () => {});
    s.write(Buffer.from([0x00])); // half a length prefix, then nothing
    held.push(s);
  }
  const extra = await open(address).catch(() => null);
  if (extra) {
    extra.on('error', () => {});
    assert.equal(await closed(extra, 1_000), true, 'over the limit: closed');
  }
  assert.ok(processor.stats.tcpRejected >= 1);
  for (let i = 0; i < 20; i++) await udpStillAnswers(address);
  // The slots come back once the read timeout frees them.
  const freed = await Promise.all(held.map((s) => closed(s, 3_000)));
  assert.ok(freed.every(Boolean));
  const again = await open(address);
  again.write(framed(buildQuery('svc1.testns.svc.cluster.local', TYPE.A, { id: 7 })));
  const reply = await new Promise<Buffer>((resolve) => again.once('data', resolve));
  again.destroy();
  assert.equal(reply.readUInt16BE(2), 7);
});
