// Clients that take what others need, for tests and bench/shared-resources.ts: a TCP holder that
// keeps many connections open and alive, a victim that needs a few, and slow-header HTTP
// clients. Loopback only; every count and wait is bounded.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HostPort } from '../../src/config.ts';
import { TYPE } from '../../src/dns/constants.ts';
import { framed } from './client.ts';
import { buildQuery } from './dns.ts';

/** Connects from `from` (another loopback address, to be another client); null if refused. */
export function connectFrom(server: HostPort, from: string, timeoutMs = 2_000): Promise<net.Socket | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: server.host, port: server.port, localAddress: from });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(null);
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
}

export interface Holder {
  /** Connections open right now. */
  open(): number;
  /** Connections the server closed on us (refused at once, or later). */
  closedByServer(): number;
  stop(): void;
}

/**
 * Holds up to `count` TCP connections from `from`, each asking `name` every `intervalMs` (so none
 * is idle for long), and reopens what the server closes.
 */
export async function holdTcp(
  server: HostPort,
  from: string,
  count: number,
  options: { intervalMs: number; name?: string },
): Promise<Holder> {
  const sockets = new Set<net.Socket>();
  let closed = 0;
  let stopped = false;
  const query = framed(buildQuery(options.name ?? 'svc1.testns.svc.cluster.local', TYPE.A));
  const keep = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.on('data', () => {});
    socket.on('error', () => {});
    socket.once('close', () => {
      sockets.delete(socket);
      if (!stopped) closed++;
    });
    // Spread the queries over the interval, each connection on its own clock.
    const first = setTimeout(() => {
      if (!socket.destroyed) socket.write(query);
      const every = setInterval(() => {
        if (socket.destroyed) clearInterval(every);
        else socket.write(query);
      }, options.intervalMs);
      socket.once('close', () => clearInterval(every));
    }, Math.random() * options.intervalMs);
    socket.once('close', () => clearTimeout(first));
  };
  let filling = false;
  const fill = async (most: number): Promise<void> => {
    filling = true;
    const wanted = Math.min(most, count - sockets.size);
    const opened = await Promise.all(Array.from({ length: wanted }, () => connectFrom(server, from)));
    for (const s of opened) {
      if (s !== null && !stopped) keep(s);
      else s?.destroy();
    }
    filling = false;
  };
  await fill(count);
  // What the server closed is reopened, a tenth of `count` a second.
  const refill = setInterval(() => {
    if (!stopped && !filling && sockets.size < count) void fill(Math.ceil(count / 10));
  }, 1_000);
  return {
    open: () => sockets.size,
    closedByServer: () => closed,
    stop: () => {
      stopped = true;
      clearInterval(refill);
      for (const s of sockets) s.destroy();
    },
  };
}

/**
 * `connections` TCP connections from `from`, `concurrency` at a time, each asking one question
 * and waiting for its answer: how many got one.
 */
export async function victimTcp(
  server: HostPort,
  from: string,
  connections: number,
  options: { concurrency?: number; timeoutMs?: number; name?: string } = {},
): Promise<number> {
  const query = framed(buildQuery(options.name ?? 'svc1.testns.svc.cluster.local', TYPE.A, { id: 4242 }));
  let next = 0;
  let answered = 0;
  const one = async (): Promise<boolean> => {
    const socket = await connectFrom(server, from, options.timeoutMs ?? 3_000);
    if (socket === null) return false;
    return new Promise((resolve) => {
      let got = Buffer.alloc(0);
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        socket.destroy();
        resolve(ok);
      };
      const timer = setTimeout(() => done(false), options.timeoutMs ?? 3_000);
      socket.on('error', () => done(false));
      socket.on('close', () => done(false));
      socket.on('data', (d: Buffer) => {
        got = Buffer.concat([got, d]);
        if (got.length >= 4 && got.length >= 2 + got.readUInt16BE(0)) done(got.readUInt16BE(2) === 4242);
      });
      socket.write(query);
    });
  };
  const worker = async (): Promise<void> => {
    // Bounded: each turn takes one of `connections`.
    while (next < connections) {
      next++;
      if (await one()) answered++;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 10) }, worker));
  return answered;
}

export interface SlowHeaders {
  /** Connections still open. */
  open(): number;
  /** Connections made so far. */
  opened(): number;
  /** Connections the server closed. */
  closed(): number;
  /** Closes everything and stops reopening. */
  stop(): Promise<void>;
}

/**
 * `count` HTTP connections that send a request line and then one header byte every `trickleMs`,
 * never finishing the headers (slowloris); `from` spreads them over loopback source addresses.
 * With `reopen`, whatever the server closes is reopened at once (500 at a time) until stop().
 */
export async function slowHeaders(
  target: HostPort,
  count: number,
  options: { trickleMs: number; from?: (i: number) => string; path?: string; reopen?: boolean },
): Promise<SlowHeaders> {
  const sockets = new Set<net.Socket>();
  let opened = 0;
  let closed = 0;
  let stopped = false;
  let next = 0;
  const openOne = async (): Promise<void> => {
    const socket = await connectFrom(target, options.from?.(next++) ?? '127.0.0.1', 3_000);
    if (socket === null) {
      closed++;
      return;
    }
    opened++;
    if (stopped) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('data', () => {});
    socket.once('close', () => {
      sockets.delete(socket);
      if (!stopped) closed++;
    });
    socket.write(`GET ${options.path ?? '/health'} HTTP/1.1\r\nHost: x\r\nX-Slow: `);
  };
  /** Opens up to `most` (at most `count` open), 200 or 500 at a time. */
  const topUp = async (batch: number): Promise<number> => {
    const want = Math.min(batch, count - sockets.size);
    await Promise.all(Array.from({ length: Math.max(0, want) }, openOne));
    return want;
  };
  // Bounded: each turn opens up to 200 of `count`.
  for (let started = 0; started < count && !stopped; started += 200) await topUp(Math.min(200, count - started));
  // One timer for all: a byte to every open connection per tick.
  const trickle = setInterval(() => {
    for (const s of sockets) s.write('a');
  }, options.trickleMs);
  // Bounded by stop().
  const reopening = (async () => {
    while (options.reopen && !stopped) {
      if ((await topUp(500)) <= 0) await sleep(100);
    }
  })();
  return {
    open: () => sockets.size,
    opened: () => opened,
    closed: () => closed,
    stop: async () => {
      stopped = true;
      clearInterval(trickle);
      await reopening;
      for (const s of sockets) s.destroy();
    },
  };
}

/** Waits until `check` holds or `timeoutMs` passes (polling every 20 ms); whether it held. */
export async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}
