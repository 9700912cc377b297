// Fuzzed traffic at a live server over the wire, loopback only, bounded in packets and time. Every
// reply is matched to its request and checked (fuzz-check.ts); what is missing or wrong is
// reported, not thrown, so callers can both assert (tests) and count (npm run fuzz).
import { createSocket } from 'node:dgram';
import net from 'node:net';
import type { HostPort } from '../../src/config.ts';
import { readQuery } from '../../src/dns/query.ts';
import { checkReply } from './fuzz-check.ts';
import { generate } from './fuzz.ts';

/** The largest UDP payload IPv4 can carry; bigger inputs are cut to it (TCP takes them whole). */
export const MAX_DATAGRAM = 65_507;

export interface UdpFuzzResult {
  sent: number;
  repliesDue: number;
  arrived: number;
  dropsDue: number;
  /** Requests (hex) whose due reply never came. */
  lost: string[];
  /** Replies that broke a rule, or answered nothing we sent. */
  problems: string[];
  outcomes: Record<string, number>;
}

/**
 * Sends `packets` generated inputs in windows of `window` (each packet of a window gets its own
 * ID, so replies match), waiting up to `waitMs` for a window's due replies: slow enough that
 * loopback loses nothing, so a missing reply is the server's doing.
 */
export async function fuzzUdp(
  target: HostPort,
  random: () => number,
  options: { packets: number; window?: number; waitMs?: number; deadline?: number },
): Promise<UdpFuzzResult> {
  const size = Math.min(options.window ?? 50, 65536);
  const result: UdpFuzzResult = { sent: 0, repliesDue: 0, arrived: 0, dropsDue: 0, lost: [], problems: [], outcomes: {} };
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  let window = new Map<number, Buffer>();
  socket.on('message', (reply) => {
    const request = reply.length >= 2 ? window.get(reply.readUInt16BE(0)) : undefined;
    if (request === undefined) {
      result.problems.push(`a reply to nothing in flight: ${reply.toString('hex')}`);
      return;
    }
    window.delete(reply.readUInt16BE(0));
    result.arrived++;
    try {
      const outcome = checkReply(request, readQuery(request), reply, 'udp');
      result.outcomes[outcome] = (result.outcomes[outcome] ?? 0) + 1;
    } catch (err) {
      result.problems.push(`${(err as Error).message.split('\n')[0]}: ${request.toString('hex')}`);
    }
  });
  socket.on('error', () => {});
  try {
    while (result.sent < options.packets && Date.now() < (options.deadline ?? Infinity)) {
      window = new Map();
      for (let i = 0; i < size && result.sent < options.packets; i++, result.sent++) {
        const { packet: generated } = generate(random);
        const packet = generated.length > MAX_DATAGRAM ? generated.subarray(0, MAX_DATAGRAM) : generated;
        if (packet.length >= 2) packet.writeUInt16BE(i, 0);
        const read = readQuery(packet);
        if (read.kind === 'drop') {
          result.dropsDue++;
          result.outcomes[`drop:${read.reason}`] = (result.outcomes[`drop:${read.reason}`] ?? 0) + 1;
        } else {
          result.repliesDue++;
          window.set(i, packet);
        }
        socket.send(packet, target.port, target.host);
      }
      // Bounded wait for this window's replies.
      const until = Date.now() + (options.waitMs ?? 1_000);
      while (window.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 1));
      for (const request of window.values()) result.lost.push(request.toString('hex'));
    }
  } finally {
    socket.close();
  }
  return result;
}

/**
 * The frames a server reads from `bytes` (RFC 7766 framing): a length prefix that lies makes the
 * following bytes, or part of the message, the next frames. By ID, for matching replies.
 */
function framesOf(bytes: Buffer): Map<number, Buffer[]> {
  const byId = new Map<number, Buffer[]>();
  let at = 0;
  // Bounded: each turn consumes at least 3 bytes or stops.
  while (at + 2 <= bytes.length) {
    const size = bytes.readUInt16BE(at);
    if (size === 0 || at + 2 + size > bytes.length) break;
    const frame = bytes.subarray(at + 2, at + 2 + size);
    at += 2 + size;
    if (frame.length < 2) continue;
    const list = byId.get(frame.readUInt16BE(0)) ?? [];
    list.push(frame);
    byId.set(frame.readUInt16BE(0), list);
  }
  return byId;
}

export interface TcpFuzzResult {
  conversations: number;
  replies: number;
  problems: string[];
}

/**
 * Conversations of 1-4 generated frames, one in ten with a lying length prefix, written in
 * random pieces with 1 ms pauses, then FIN. Replies must each answer a frame of their
 * conversation; the server may close a conversation at its first bad frame.
 */
export async function fuzzTcp(
  target: HostPort,
  random: () => number,
  options: { conversations: number; parallel?: number; deadline?: number },
): Promise<TcpFuzzResult> {
  const result: TcpFuzzResult = { conversations: 0, replies: 0, problems: [] };
  const running: Promise<void>[] = [];
  while (result.conversations < options.conversations && Date.now() < (options.deadline ?? Infinity)) {
    result.conversations++;
    const frames: Buffer[] = [];
    for (let f = 0; f < 1 + Math.floor(random() * 4); f++) {
      const { packet } = generate(random);
      if (packet.length >= 2) packet.writeUInt16BE(f, 0);
      const length = Buffer.alloc(2);
      length.writeUInt16BE(random() < 0.1 ? Math.floor(random() * 0x10000) : packet.length);
      frames.push(length, packet);
    }
    const bytes = Buffer.concat(frames);
    const requests = framesOf(bytes);
    const cuts = Array.from({ length: Math.floor(random() * 4) }, () => Math.floor(random() * bytes.length)).sort((a, b) => a - b);
    running.push(
      new Promise<void>((resolve) => {
        let buffered = Buffer.alloc(0);
        const socket = net.connect(target.port, target.host, async () => {
          let at = 0;
          for (const cut of [...cuts, bytes.length]) {
            if (socket.destroyed) break;
            socket.write(bytes.subarray(at, cut));
            at = cut;
            await new Promise((r) => setTimeout(r, 1));
          }
          socket.end();
        });
        socket.on('data', (d) => {
          buffered = Buffer.concat([buffered, d]);
          // Bounded: each turn removes one whole frame.
          while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
            const reply = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
            buffered = buffered.subarray(2 + reply.length);
            result.replies++;
            const candidates = requests.get(reply.readUInt16BE(0)) ?? [];
            if (candidates.length === 0) {
              result.problems.push(`TCP: a reply to no frame: ${reply.toString('hex')}`);
              continue;
            }
            // IDs may repeat (a lying prefix makes frames of random bytes): one of them must fit.
            const failures: string[] = [];
            for (const request of candidates) {
              try {
                checkReply(request, readQuery(request), reply, 'tcp');
                break;
              } catch (err) {
                failures.push(`TCP: ${(err as Error).message.split('\n')[0]}: ${request.toString('hex')}`);
              }
            }
            if (failures.length === candidates.length) result.problems.push(...failures);
          }
        });
        socket.on('error', () => resolve());
        socket.on('close', () => resolve());
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 3_000).unref();
      }),
    );
    if (running.length >= (options.parallel ?? 25)) await Promise.all(running.splice(0));
  }
  await Promise.all(running);
  return result;
}
