// Real sockets on 127.0.0.1 only, ephemeral ports. Every wait has a timeout.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import dns2 from 'dns2';
import { QueryProcessor } from '../../src/server/processor.ts';
import { startListeners } from '../../src/server/listen.ts';
import type { ListenOptions, Listeners } from '../../src/server/listen.ts';
import type { Handler, Reply } from '../../src/dns/message.ts';
import { CLASS, RCODE, TYPE } from '../../src/dns/constants.ts';
import { buildQuery } from '../support/dns.ts';
import type { UdpIo } from '../../src/server/udp.ts';
import { udpBatchAddon } from '../../src/server/udp-batch.ts';
import { sendFromPortZero } from '../support/raw-udp.ts';

const { Packet } = dns2;
const HOST = '127.0.0.1';

type RequestOptions = { id?: number; type?: number; qclass?: number; flags?: number; udpSize?: number; ednsVersion?: number; qd?: number };
const request = (name: string, o: RequestOptions = {}): Buffer => buildQuery(name, o.type ?? TYPE.A, o);

function framed(...messages: Buffer[]): Buffer {
  return Buffer.concat(
    messages.flatMap((m) => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(m.length);
      return [len, m];
    }),
  );
}

function aRecords(count: number): Reply {
  const body = Buffer.alloc(16 * count);
  for (let i = 0; i < count; i++) {
    Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 10, 0, i >> 8, i & 255]).copy(body, i * 16);
  }
  return { rcode: RCODE.NOERROR, authoritative: true, ancount: count, nscount: 0, arcount: 0, body };
}

/** slow.* answers after 40 ms; mid.* has 50 records (819 octets), big.* 100; the rest one. */
const fake: Handler = {
  name: 'fake',
  serve(query) {
    const first = query.name.split('.')[0];
    if (first === 'slow') return sleep(40).then(() => aRecords(1));
    if (first === 'mid') return aRecords(50);
    if (first === 'big') return aRecords(100);
    return aRecords(1);
  },
};

async function serve(
  t: TestContext,
  options: ListenOptions = {},
): Promise<{ processor: QueryProcessor; listeners: Listeners; port: number }> {
  const processor = new QueryProcessor({ handlers: [fake] });
  const listeners = await startListeners([{ host: HOST, port: 0 }], processor, options);
  t.after(() => listeners.close());
  const [bound] = listeners.addresses();
  assert.ok(bound);
  assert.equal(bound.host, HOST);
  assert.ok(bound.port > 0);
  return { processor, listeners, port: bound.port };
}

/** One datagram out, the first datagram back, or null after `timeoutMs`. */
function udpExchange(port: number, msg: Buffer, timeoutMs = 2000): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    const done = (value: Buffer | null): void => {
      clearTimeout(timer);
      socket.close();
      resolve(value);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    socket.once('message', (reply) => done(reply));
    socket.once('error', () => done(null));
    socket.send(msg, port, HOST);
  });
}

async function udpAnswer(port: number, msg: Buffer): Promise<Buffer> {
  const reply = await udpExchange(port, msg);
  assert.ok(reply, 'no UDP reply');
  return reply;
}

type Step = Buffer | number;

interface Session {
  replies: Buffer[];
  /** The server closed (or reset) the connection. */
  closed: boolean;
}

/**
 * Writes `steps` (buffers, or numbers as pauses in ms) to a fresh connection and collects framed
 * replies until `until` says stop, the server closes, or `timeoutMs` passes.
 */
function tcpSession(port: number, steps: Step[], until: (s: Session) => boolean, timeoutMs = 3000): Promise<Session> {
  return new Promise((resolve) => {
    const session: Session = { replies: [], closed: false };
    const socket = net.connect({ host: HOST, port });
    let buffered = Buffer.alloc(0);
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(session);
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      // Bounded: each turn removes one whole frame.
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const size = buffered.readUInt16BE(0);
        session.replies.push(buffered.subarray(2, 2 + size));
        buffered = buffered.subarray(2 + size);
      }
      if (until(session)) finish();
    });
    socket.on('close', () => {
      session.closed = true;
      finish();
    });
    socket.on('error', () => {
      // A reset shows up as 'close' right after.
    });
    socket.once('connect', async () => {
      for (const step of steps) {
        if (finished) return;
        if (typeof step === 'number') await sleep(step);
        else socket.write(step);
      }
    });
  });
}

const decode = (b: Buffer) => Packet.parse(b);

/** A UDP test, run on both paths: the batching addon (when built) and node:dgram. */
function udpTest(name: string, body: (t: TestContext, io: UdpIo) => Promise<void>): void {
  for (const io of ['batch', 'node'] as const) {
    const skip = io === 'batch' && udpBatchAddon() === null ? 'native/udp-batch.node is not built (no C compiler)' : false;
    test(`${name} [${io}]`, { skip }, (t) => body(t, io));
  }
}

udpTest('UDP: answers a query, echoing ID and question case', async (t, io) => {
  const { port, processor } = await serve(t, { udpIo: io });
  const reply = decode(await udpAnswer(port, request('Web.Default.SVC.cluster.local', { id: 4321 })));
  assert.equal(reply.header.id, 4321);
  assert.equal(reply.header.qr, 1);
  assert.equal(reply.questions[0]?.name, 'Web.Default.SVC.cluster.local');
  assert.deepEqual(
    reply.answers.map((a) => a.address),
    ['10.0.0.0'],
  );
  assert.equal(processor.stats.udp, 1);
});

udpTest('UDP with --busy-poll: answers synchronous and asynchronous handlers alike', async (t, io) => {
  const { port, processor } = await serve(t, { busyPollUs: 1000, udpIo: io });
  for (const name of ['a.example', 'slow.example', 'b.example']) {
    const reply = decode(await udpAnswer(port, request(name, { id: 77 })));
    assert.equal(reply.header.id, 77);
    assert.equal(reply.answers.length, 1, name);
  }
  assert.equal(processor.stats.udp, 3);
});

udpTest('UDP: 512 octets without EDNS, the EDNS size when asked, TC with the records that fit and OPT kept', async (t, io) => {
  const { port } = await serve(t, { udpIo: io });
  const plain = await udpAnswer(port, request('mid.example'));
  assert.ok(plain.length <= 512);
  assert.equal(decode(plain).header.tc, 1);
  assert.equal(decode(plain).header.arcount, 0);
  // 12 + 17 (question): 30 whole records of 16 octets fit in 512.
  assert.equal(decode(plain).answers.length, 30);

  const roomy = decode(await udpAnswer(port, request('mid.example', { udpSize: 1232 })));
  assert.equal(roomy.header.tc, 0);
  assert.equal(roomy.answers.length, 50);
  assert.equal(roomy.additionals.find((r) => r.type === TYPE.OPT)?.class, 1232);

  const tight = decode(await udpAnswer(port, request('mid.example', { udpSize: 600 })));
  assert.equal(tight.header.tc, 1);

  // Asks for 4096 but the server's cap (1232) holds.
  const capped = decode(await udpAnswer(port, request('big.example', { udpSize: 4096 })));
  assert.equal(capped.header.tc, 1);
  assert.equal(capped.header.ancount, Math.floor((1232 - 12 - 17 - 11) / 16), 'the records that fit beside the OPT');
  assert.equal(capped.additionals.find((r) => r.type === TYPE.OPT)?.class, 1232);
});

udpTest('UDP: drops responses and runts, counting them', async (t, io) => {
  const { port, processor } = await serve(t, { udpIo: io });
  assert.equal(await udpExchange(port, request('a.b', { flags: 0x8100 }), 200), null);
  assert.equal(await udpExchange(port, Buffer.from([0xde, 0xad, 0xbe, 0xef, 0, 0]), 200), null);
  assert.equal(processor.stats.droppedResponse, 1);
  assert.equal(processor.stats.droppedShort, 1);
  // Still answering.
  assert.equal(decode(await udpAnswer(port, request('a.b'))).header.rcode, RCODE.NOERROR);
});

udpTest('UDP: FORMERR, NOTIMP, REFUSED and BADVERS, then business as usual', async (t, io) => {
  const { port, processor } = await serve(t, { udpIo: io });
  const twoQuestions = request('a.b', { qd: 2, id: 1 });
  const formerr = decode(await udpAnswer(port, twoQuestions));
  assert.equal(formerr.header.rcode, RCODE.FORMERR);
  assert.equal(formerr.header.id, 1);
  assert.equal(formerr.header.qdcount, 0);

  const notimp = decode(await udpAnswer(port, request('a.b', { flags: 4 << 11, id: 2 })));
  assert.equal(notimp.header.rcode, RCODE.NOTIMP);
  assert.equal(notimp.header.opcode, 4);

  const chaos = decode(await udpAnswer(port, request('version.bind', { type: TYPE.TXT, qclass: CLASS.CH, id: 3 })));
  assert.equal(chaos.header.rcode, RCODE.REFUSED);

  const badvers = decode(await udpAnswer(port, request('a.b', { udpSize: 1232, ednsVersion: 1, id: 4 })));
  assert.equal(badvers.header.rcode, RCODE.BADVERS);
  assert.ok(badvers.additionals.some((r) => r.type === TYPE.OPT));

  const ok = decode(await udpAnswer(port, request('a.b', { id: 5 })));
  assert.equal(ok.header.rcode, RCODE.NOERROR);
  assert.equal(ok.answers.length, 1);
  assert.equal(processor.stats.formerr, 1);
  assert.equal(processor.stats.notimp, 1);
  assert.equal(processor.stats.refused, 1);
  assert.equal(processor.stats.badvers, 1);
});

udpTest('UDP: replies the kernel refuses are counted, and read as soon as they happen; the socket goes on', async (t, io) => {
  const { port, processor } = await serve(t, { udpIo: io });
  const stats = processor.stats;
  // A sender at port 0, answered at once and later: neither reply can go out.
  for (const [i, name] of ['slow.example', 'a.example'].entries()) {
    const why = sendFromPortZero(port, request(name, { id: 200 + i }));
    if (why !== null) return t.skip(why);
  }
  const deadline = Date.now() + 2000;
  while (stats.udpSendErrors < 2 && Date.now() < deadline) {
    // What a scrape does first: a count the addon still holds would be missed without it.
    stats.settle();
    await sleep(5);
  }
  assert.equal(stats.udp, 2);
  assert.equal(stats.udpSendErrors, 2);
  assert.equal(decode(await udpAnswer(port, request('b.example', { id: 202 }))).header.id, 202);
  stats.settle();
  assert.equal(stats.udpSendErrors, 2);
  assert.equal(stats.udpReceiveErrors, 0);
});

udpTest('UDP: answers an asynchronous handler', async (t, io) => {
  const { port } = await serve(t, { udpIo: io });
  assert.equal(decode(await udpAnswer(port, request('slow.example', { id: 99 }))).header.id, 99);
});

test('TCP: pipelined queries in one write, replies as each completes', async (t) => {
  const { port, processor } = await serve(t);
  const s = await tcpSession(
    port,
    [framed(request('slow.example', { id: 1 }), request('a.example', { id: 2 }), request('big.example', { id: 3, udpSize: 512 }))],
    (x) => x.replies.length >= 3,
  );
  assert.equal(s.replies.length, 3);
  const byId = new Map(s.replies.map((r) => [decode(r).header.id, decode(r)]));
  assert.deepEqual([...byId.keys()].sort(), [1, 2, 3]);
  // The slow one finishes last even though it was asked first.
  assert.equal(decode(s.replies[2]!).header.id, 1);
  assert.equal(byId.get(3)?.header.tc, 0, 'no UDP limit over TCP');
  assert.equal(byId.get(3)?.answers.length, 100);
  assert.equal(processor.stats.tcp, 3);
});

test('TCP: one query split across three writes', async (t) => {
  const { port } = await serve(t);
  const whole = framed(request('Split.Example', { id: 7 }));
  const s = await tcpSession(port, [whole.subarray(0, 1), 20, whole.subarray(1, 9), 20, whole.subarray(9)], (x) => x.replies.length >= 1);
  assert.equal(s.replies.length, 1);
  const d = decode(s.replies[0]!);
  assert.equal(d.header.id, 7);
  assert.equal(d.questions[0]?.name, 'Split.Example');
});

test('TCP: a zero-length frame closes the connection after pending replies', async (t) => {
  const { port, processor } = await serve(t);
  const s = await tcpSession(
    port,
    [
      Buffer.concat([
        framed(request('slow.example', { id: 1 }), request('a.example', { id: 2 })),
        Buffer.from([0, 0]),
        framed(request('never.example', { id: 3 })),
      ]),
    ],
    () => false,
  );
  assert.equal(s.closed, true);
  assert.deepEqual(s.replies.map((r) => decode(r).header.id).sort(), [1, 2]);
  assert.equal(processor.stats.tcpBadFrames, 1);
});

test('TCP: a response frame is not answered and closes the connection', async (t) => {
  const { port } = await serve(t);
  const s = await tcpSession(port, [framed(request('a.b', { flags: 0x8000 }))], () => false);
  assert.equal(s.closed, true);
  assert.equal(s.replies.length, 0);
});

test('TCP: answers still in flight reach a client that half-closed', async (t) => {
  const { port } = await serve(t);
  const s = await new Promise<Session>((resolve) => {
    const session: Session = { replies: [], closed: false };
    const socket = net.connect({ host: HOST, port }, () => {
      socket.end(framed(request('slow.example', { id: 11 })));
    });
    const timer = setTimeout(() => socket.destroy(), 3000);
    let data = Buffer.alloc(0);
    socket.on('data', (c) => (data = Buffer.concat([data, c])));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      session.closed = true;
      if (data.length >= 2) session.replies.push(data.subarray(2, 2 + data.readUInt16BE(0)));
      resolve(session);
    });
  });
  assert.equal(s.replies.length, 1);
  assert.equal(decode(s.replies[0]!).header.id, 11);
});

test('TCP: the in-flight limit delays queries but answers them all', async (t) => {
  const { port } = await serve(t, { tcpMaxInFlight: 2 });
  const queries = [1, 2, 3, 4, 5].map((id) => request('slow.example', { id }));
  const s = await tcpSession(port, [framed(...queries)], (x) => x.replies.length >= 5, 5000);
  assert.deepEqual(s.replies.map((r) => decode(r).header.id).sort(), [1, 2, 3, 4, 5]);
});

test('TCP: idle connections are closed', async (t) => {
  const { port, processor } = await serve(t, { tcpIdleTimeoutMs: 150 });
  const started = Date.now();
  const s = await tcpSession(port, [framed(request('a.b'))], () => false, 3000);
  assert.equal(s.closed, true);
  assert.equal(s.replies.length, 1);
  assert.ok(Date.now() - started < 2500);
  assert.equal(processor.stats.tcpIdleTimeouts, 1);
});

test('TCP: at the limit the longest-idle connection is closed for a newcomer, and counted', async (t) => {
  const { port, processor } = await serve(t, { tcpMaxConnections: 1, tcpMaxConnectionsPerClient: 2 });
  const first = net.connect({ host: HOST, port });
  first.on('error', () => {});
  t.after(() => first.destroy());
  await new Promise<void>((resolve, reject) => {
    first.once('connect', () => resolve());
    setTimeout(() => reject(new Error('connect timeout')), 2000).unref();
  });
  // Let the server register the first connection before the second arrives.
  for (let i = 0; i < 50 && processor.stats.tcpConnections < 1; i++) await sleep(10);
  const firstClosed = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 2000);
    first.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  const second = await tcpSession(port, [framed(request('a.b', { id: 42 }))], (s) => s.replies.length === 1, 2000);
  assert.equal(second.replies.length, 1);
  assert.equal(decode(second.replies[0]!).header.id, 42);
  assert.equal(await firstClosed, true, 'the idle first connection made room');
  assert.equal(processor.stats.tcpIdleEvictions, 1);
  assert.equal(processor.stats.tcpRejected, 0);
});

test('listeners: UDP and TCP share the port; close() ends open connections', async (t) => {
  const { port, listeners } = await serve(t);
  assert.deepEqual(listeners.addresses(), [{ host: HOST, port }]);
  const open = net.connect({ host: HOST, port });
  open.on('error', () => {});
  t.after(() => open.destroy());
  await new Promise<void>((resolve, reject) => {
    open.once('connect', () => resolve());
    setTimeout(() => reject(new Error('connect timeout')), 2000).unref();
  });
  const closedByServer = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 2000);
    open.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  await listeners.close();
  assert.equal(await closedByServer, true);
  await listeners.close(); // idempotent
  assert.equal(await udpExchange(port, request('a.b'), 200), null);
});

udpTest('listeners: a port in use is reported, and nothing stays bound', async (t, io) => {
  const { port } = await serve(t, { udpIo: io });
  const processor = new QueryProcessor({ handlers: [fake] });
  await assert.rejects(startListeners([{ host: HOST, port }], processor, { udpIo: io }), {
    name: 'BindError',
    errno: 'EADDRINUSE',
    message: `${HOST}:${port}: address already in use`,
  });
});

udpTest('listeners: IPv6 loopback picks udp6 and serves both transports', async (t, io) => {
  const processor = new QueryProcessor({ handlers: [fake] });
  let listeners: Listeners;
  try {
    listeners = await startListeners([{ host: '::1', port: 0 }], processor, { udpIo: io });
  } catch (err) {
    t.skip(`no IPv6 loopback here (${(err as NodeJS.ErrnoException).code})`);
    return;
  }
  t.after(() => listeners.close());
  const [bound] = listeners.addresses();
  assert.ok(bound && bound.port > 0);
  const udpReply = await new Promise<Buffer | null>((resolve) => {
    const socket = dgram.createSocket('udp6');
    const timer = setTimeout(() => {
      socket.close();
      resolve(null);
    }, 2000);
    socket.once('message', (m) => {
      clearTimeout(timer);
      socket.close();
      resolve(m);
    });
    socket.send(request('six.example', { id: 6 }), bound.port, '::1');
  });
  assert.ok(udpReply);
  assert.equal(decode(udpReply).header.id, 6);
  const tcpReply = await new Promise<Buffer | null>((resolve) => {
    const socket = net.connect({ host: '::1', port: bound.port }, () => socket.write(framed(request('six.example', { id: 66 }))));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(null);
    }, 2000);
    socket.on('error', () => {});
    socket.once('data', (c) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(c);
    });
  });
  assert.ok(tcpReply);
  assert.equal(decode(tcpReply.subarray(2)).header.id, 66);
});
