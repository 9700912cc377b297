// A minimal DNS client for tests: one UDP datagram or a TCP conversation, every wait bounded.
// Only loopback addresses are ever used.
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { execFile } from 'node:child_process';
import type { HostPort } from '../../src/config.ts';

/** Sends one datagram; resolves with the reply, or null when none came within the timeout. */
export function queryUdp(server: HostPort, message: Buffer, timeoutMs = 2_000, from?: string): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(server.host.includes(':') ? 'udp6' : 'udp4');
    // `from`: another loopback source address (127.0.0.2), to be a different client.
    if (from !== undefined) socket.bind(0, from);
    const timer = setTimeout(() => {
      socket.close();
      resolve(null);
    }, timeoutMs);
    socket.once('message', (reply) => {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.close();
      reject(err);
    });
    socket.send(message, server.port, server.host);
  });
}

/** Writes `chunks` as given (so tests control framing) and collects `expected` framed replies. */
export function queryTcpRaw(server: HostPort, chunks: Buffer[], expected: number, timeoutMs = 3_000): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, server.host);
    const replies: Buffer[] = [];
    let pending = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`got ${replies.length} of ${expected} TCP replies within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (data) => {
      pending = Buffer.concat([pending, data]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const len = pending.readUInt16BE(0);
        replies.push(pending.subarray(2, 2 + len));
        pending = pending.subarray(2 + len);
      }
      if (replies.length >= expected) {
        clearTimeout(timer);
        socket.end();
        resolve(replies);
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
    });
  });
}

export function framed(message: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(message.length);
  return Buffer.concat([length, message]);
}

export async function queryTcp(server: HostPort, message: Buffer, timeoutMs = 3_000): Promise<Buffer> {
  const [reply] = await queryTcpRaw(server, [framed(message)], 1, timeoutMs);
  return reply!;
}

export function digPath(): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', 'command -v dig'], (err, stdout) => resolve(err ? null : stdout.trim() || null));
  });
}

/** Runs dig against the server with +short-free output; returns stdout. */
export function dig(server: HostPort, args: string[], timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'dig',
      [`@${server.host}`, '-p', String(server.port), '+time=2', '+tries=1', ...args],
      { timeout: timeoutMs },
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    );
  });
}
