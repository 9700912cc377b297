// Binds UDP and TCP on every listen address. Both transports share one port per address, so with
// port 0 the UDP socket picks it and TCP follows.
import { startTcp } from './tcp.ts';
import type { TcpListener, TcpOptions } from './tcp.ts';
import { DEFAULT_UDP_RECEIVE_BUFFER, startUdp } from './udp.ts';
import type { UdpIo, UdpListener, UdpOptions } from './udp.ts';
import { BusyPoll } from './busy-poll.ts';
import { ConnectionSlots, defaultPerClient } from './slots.ts';
import type { QueryProcessor } from './processor.ts';
import { BindError, isSystemError } from './bind-error.ts';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export interface ListenOptions {
  /** Default 10 000. */
  readonly tcpIdleTimeoutMs?: number;
  /** Across every listen address; default 1000. */
  readonly tcpMaxConnections?: number;
  /** Connections one source address may hold, across every listen address; default a tenth of tcpMaxConnections. */
  readonly tcpMaxConnectionsPerClient?: number;
  /** Per connection; default 100. */
  readonly tcpMaxInFlight?: number;
  /** Bytes of kernel receive queue per UDP socket (capped by net.core.rmem_max). */
  readonly udpReceiveBuffer?: number;
  /** SO_REUSEPORT on every socket, so --workers processes share the ports. */
  readonly reusePort?: boolean;
  /** --busy-poll: µs the event loop keeps polling after a datagram; 0 (default) sleeps at once. */
  readonly busyPollUs?: number;
  /** --udp-io; default 'auto'. */
  readonly udpIo?: UdpIo;
}

export interface Listeners {
  /** What was actually bound, in the order given (port 0 resolved). */
  addresses(): ListenAddress[];
  /** The UDP path the sockets took (--udp-io auto resolves to one of these). */
  readonly udpIo: 'batch' | 'node';
  close(): Promise<void>;
}

/** Attempts at finding a port free for TCP as well, when the UDP socket chose it. */
const EPHEMERAL_ATTEMPTS = 8;

interface Pair {
  readonly address: ListenAddress;
  readonly udp: UdpListener;
  readonly tcp: TcpListener;
}

function isAddressInUse(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'EADDRINUSE';
}

/** '' (as in ':53') means every address; '::' also takes IPv4 where the host has dual stack. */
async function bindPair(host: string, port: number, processor: QueryProcessor, tcp: TcpOptions, udp: UdpOptions): Promise<Pair> {
  if (host === '') {
    try {
      return await bindPair('::', port, processor, tcp, udp);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException | null)?.code;
      if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL') throw err;
      return bindPair('0.0.0.0', port, processor, tcp, udp);
    }
  }
  const attempts = port === 0 ? EPHEMERAL_ATTEMPTS : 1;
  let lastError: unknown = null;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const udpListener = await startUdp(host, port, processor, udp);
    try {
      const tcpListener = await startTcp(host, udpListener.port, processor, tcp);
      return { address: { host, port: udpListener.port }, udp: udpListener, tcp: tcpListener };
    } catch (err) {
      await udpListener.close();
      if (!isAddressInUse(err)) throw err;
      lastError = err;
    }
  }
  throw lastError;
}

export async function startListeners(
  addresses: readonly ListenAddress[],
  processor: QueryProcessor,
  options: ListenOptions = {},
): Promise<Listeners> {
  const maxConnections = options.tcpMaxConnections ?? 1000;
  const maxConnectionsPerClient = options.tcpMaxConnectionsPerClient ?? defaultPerClient(maxConnections);
  const tcp: TcpOptions = {
    idleTimeoutMs: options.tcpIdleTimeoutMs ?? 10_000,
    maxConnections,
    maxConnectionsPerClient,
    maxInFlight: options.tcpMaxInFlight ?? 100,
    reusePort: options.reusePort ?? false,
    slots: new ConnectionSlots(maxConnections, maxConnectionsPerClient),
  };
  const busyPoll = options.busyPollUs ? new BusyPoll(options.busyPollUs) : null;
  const pairs: Pair[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(pairs.flatMap((p) => [p.udp.close(), p.tcp.close()]));
  };
  try {
    for (const [listener, { host, port }] of addresses.entries()) {
      const udp: UdpOptions = {
        listener,
        receiveBuffer: options.udpReceiveBuffer ?? DEFAULT_UDP_RECEIVE_BUFFER,
        reusePort: tcp.reusePort ?? false,
        busyPoll,
        io: options.udpIo ?? 'auto',
      };
      try {
        pairs.push(await bindPair(host, port, processor, { ...tcp, listener }, udp));
      } catch (err) {
        throw isSystemError(err) ? new BindError({ host, port }, err) : err;
      }
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  let closed: Promise<void> | null = null;
  return {
    addresses: () => pairs.map((p) => ({ ...p.address })),
    udpIo: pairs[0]?.udp.io ?? 'node',
    close: () => (closed ??= closeAll()),
  };
}
