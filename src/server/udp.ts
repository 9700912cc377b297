// DNS over UDP: one datagram in, at most one datagram back to where it came from. Through the
// batching addon (udp-batch.ts) when it is built, else through node:dgram.
import dgram from 'node:dgram';
import net from 'node:net';
import type { RemoteInfo } from 'node:dgram';
import type { QueryProcessor } from './processor.ts';
import type { BusyPoll } from './busy-poll.ts';
import { openUdpBatch, udpBatchAddon, type UdpBatchAddon, type UdpBatchOptions } from './udp-batch.ts';
import { ClusterDnsError } from '../base/errors.ts';

/** --udp-io: `batch` needs native/udp-batch.node; `auto` uses it when it loads. */
export type UdpIo = 'auto' | 'batch' | 'node';
export const UDP_IO_VALUES: readonly UdpIo[] = ['auto', 'batch', 'node'];

/** --udp-io batch without the addon: a start-up error, not a silent fallback. */
export class UdpIoUnavailableError extends ClusterDnsError {
  readonly code = 'CDNS_ERR_UDP_IO_UNAVAILABLE';
  constructor() {
    super('--udp-io batch: native/udp-batch.node is not built (npm run build needs a C compiler)');
    this.name = 'UdpIoUnavailableError';
  }
}

/** Which UDP path `io` means here: null addon for node:dgram. Throws UdpIoUnavailableError. */
export function resolveUdpIo(io: UdpIo, addon: UdpBatchAddon | null = udpBatchAddon()): UdpBatchAddon | null {
  if (io === 'node') return null;
  if (addon === null && io === 'batch') throw new UdpIoUnavailableError();
  return addon;
}

/**
 * The kernel receive queue: deep enough for a burst one event-loop turn cannot drain, shallow
 * enough that under a flood the queries we do answer have not waited long (the rest are dropped
 * by the kernel, and counted). 256 KiB is about Linux's default; a deep one
 * queues answers long past the client's timeout (bench/RESULTS.md). --udp-recv-buffer changes it.
 */
export const DEFAULT_UDP_RECEIVE_BUFFER = 256 * 1024;

export interface UdpOptions {
  /** This address's index among the listen addresses (the metrics' `server` label). Default 0. */
  readonly listener?: number;
  /** Bytes of kernel receive queue. Default DEFAULT_UDP_RECEIVE_BUFFER. */
  readonly receiveBuffer?: number;
  /** SO_REUSEPORT (--workers): every process binds its own socket to the port. */
  readonly reusePort?: boolean;
  /** --busy-poll: told of every datagram, shared by every listener of the process. */
  readonly busyPoll?: BusyPoll | null;
  /** --udp-io. Default 'auto'. */
  readonly io?: UdpIo;
}

export interface UdpListener {
  readonly port: number;
  /** The path this socket took: recvmmsg/sendmmsg batches or node:dgram. */
  readonly io: 'batch' | 'node';
  close(): Promise<void>;
}

/** Binds `host:port` (port 0: any free port) and answers every datagram through `processor`. */
export async function startUdp(host: string, port: number, processor: QueryProcessor, options: UdpOptions = {}): Promise<UdpListener> {
  const { listener = 0, receiveBuffer = DEFAULT_UDP_RECEIVE_BUFFER, reusePort = false, busyPoll = null, io = 'auto' } = options;
  const resolved: UdpBatchOptions = { listener, receiveBuffer, reusePort, busyPoll };
  const addon = resolveUdpIo(io);
  if (addon !== null) {
    const socket = openUdpBatch(addon, host, port, processor, resolved);
    return { port: socket.port, io: 'batch', close: () => socket.close() };
  }
  return startDgram(host, port, processor, resolved);
}

function startDgram(host: string, port: number, processor: QueryProcessor, options: UdpBatchOptions): Promise<UdpListener> {
  const { listener, receiveBuffer, reusePort, busyPoll } = options;
  const stats = processor.stats;
  // reusePort (--workers): every process binds its own socket to the port and the kernel spreads
  // the datagrams over them.
  //
  // Replies go to the address a datagram came from, always an IP literal of the socket's family,
  // so once bound the address "lookup" is the identity, done synchronously: Node's default
  // defers every send by a process.nextTick for it.
  let bound = false;
  const lookup = (address: string, family: number, callback: (err: Error | null, address: string, family: number) => void): void => {
    if (bound) callback(null, address, family);
    else process.nextTick(callback, null, address, family); // bind(): host is a validated literal
  };
  const socket = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: false, reusePort, lookup: lookup as never });

  // One callback for every send, so the hot path allocates no closure for it. (Without one, Node
  // would drop a failed send silently instead of reporting it.)
  const onSent = (err: Error | null): void => {
    if (err) stats.udpSendErrors++;
  };
  const send = (reply: Buffer, rinfo: RemoteInfo): void => {
    try {
      socket.send(reply, rinfo.port, rinfo.address, onSent);
    } catch {
      // The socket closed while an asynchronous answer was pending.
      stats.udpSendErrors++;
    }
  };

  socket.on('message', (msg, rinfo) => {
    if (busyPoll !== null) busyPoll.touch();
    const out = processor.process(msg, { protocol: 'udp', remoteAddress: rinfo.address, remotePort: rinfo.port, listener });
    if (out === null) return;
    if (!(out instanceof Promise)) {
      send(out, rinfo);
      return;
    }
    // process() never rejects; the handler only keeps a broken promise from going unhandled.
    out.then(
      (reply) => {
        if (reply !== null) send(reply, rinfo);
      },
      () => {
        stats.udpSendErrors++;
      },
    );
  });

  return new Promise((resolve, reject) => {
    const onBindError = (err: Error): void => {
      try {
        socket.close();
      } catch {
        // Already closed by the failed bind; nothing left to release.
      }
      reject(err);
    };
    socket.once('error', onBindError);
    socket.bind({ address: host, port, exclusive: true }, () => {
      socket.off('error', onBindError);
      bound = true;
      // After binding, errors are per-datagram receives (a send's comes to onSent): count, go on.
      socket.on('error', () => {
        stats.udpReceiveErrors++;
      });
      try {
        socket.setRecvBufferSize(receiveBuffer);
      } catch {
        // Capped by net.core.rmem_max or refused; the default buffer still works.
      }
      let closed: Promise<void> | null = null;
      resolve({
        port: socket.address().port,
        io: 'node',
        close: () => {
          closed ??= new Promise((done) => {
            socket.close(() => done());
          });
          return closed;
        },
      });
    });
  });
}
