// The transport's options: where it listens, the UDP and TCP limits, the processes it runs in.
import type { HostPort } from '../base/address.ts';
import { formatBytes } from '../base/bytes.ts';
import { bytes, hostPortNamed, integer, integerIn, oneOf, optionTable, parseMicroseconds, type OptionValues } from '../base/options.ts';
import { DEFAULT_MAX_UDP_SIZE } from '../dns/constants.ts';
import { MAX_BUSY_POLL_US } from './busy-poll.ts';
import { defaultPerClient } from './slots.ts';
import { DEFAULT_UDP_RECEIVE_BUFFER, UDP_IO_VALUES } from './udp.ts';

export const SERVER_OPTIONS = optionTable({
  listen: {
    flag: 'listen',
    group: 'dns',
    arg: 'ADDR:PORT',
    repeatable: true,
    default: '0.0.0.0:53',
    parse: (text: string, name: string): readonly HostPort[] => [hostPortNamed(name, text, undefined, true)],
    help: 'UDP and TCP listen address; repeatable; IPv6 as [::1]:53; ports of --listen, --health, --ready, --metrics: 1-65535, or 0 for any free port',
    doc: 'UDP and TCP; repeatable; IPv6 as `[::1]:53`. Ports here and in `--health`, `--ready`, `--metrics` are 1-65535, or `0` for any free port (the `serving` line names it); upstream ports are 1-65535',
  },
  maxUdpSize: {
    flag: 'max-udp-size',
    group: 'dns',
    arg: 'BYTES',
    default: String(DEFAULT_MAX_UDP_SIZE),
    parse: integerIn(512, 65535),
    help: 'cap on the EDNS UDP size a client may ask for, 512-65535',
    doc: 'cap on the EDNS buffer a client may ask for (DNS Flag Day 2020)',
  },
  tcpIdleTimeoutMs: {
    flag: 'tcp-idle-timeout',
    group: 'dns',
    arg: 'SEC',
    default: '10',
    parse: (text: string, name: string) => integer(name, text, 1, 3600) * 1000,
    help: 'close idle TCP connections after this long',
    doc: 'idle TCP connections are closed after this',
  },
  tcpMaxConnections: {
    flag: 'tcp-max-conns',
    group: 'dns',
    arg: 'N',
    default: '1000',
    parse: integerIn(1, 1_000_000),
    help: 'most concurrent TCP connections; when all are taken the longest-idle one is closed for a newcomer',
    doc: 'concurrent TCP connections, over all `--listen` addresses; when all are taken, the longest-idle connection (none with a query in flight) is closed to admit a new one (RFC 7766 §6.2.3), and only with none idle is the newcomer refused',
  },
  /** null: serverOptions() makes it a tenth of tcpMaxConnections. */
  tcpMaxConnectionsPerClient: {
    flag: 'tcp-max-conns-per-client',
    group: 'dns',
    arg: 'N',
    default: {
      value: null,
      text: `a tenth of --tcp-max-conns, ${defaultPerClient(1000)}`,
      doc: `a tenth of \`--tcp-max-conns\` (\`${defaultPerClient(1000)}\`)`,
    },
    parse: integerIn(1, 1_000_000) as (text: string, name: string) => number | null,
    help: 'most concurrent TCP connections from one source address',
    doc: 'concurrent TCP connections from one source address; more are refused (RFC 7766 §6.2.2), so one pod cannot take the slots every truncated answer needs. Loose on purpose: behind NodeLocal DNSCache (`force_tcp`) or a NAT one address is many clients; raise it there. Per process with `--workers`',
  },
  udpReceiveBuffer: {
    flag: 'udp-recv-buffer',
    group: 'dns',
    arg: 'BYTES',
    default: formatBytes(DEFAULT_UDP_RECEIVE_BUFFER),
    parse: (text: string, name: string) => bytes(name, text, 65_536, 64 * 1024 * 1024),
    help: 'kernel receive queue per UDP socket, 64Ki-64Mi; bigger absorbs bursts, smaller keeps latency low under a flood; capped by net.core.rmem_max',
    doc: 'kernel receive queue per UDP socket (`262144`, `512Ki`, `4Mi`; capped by `net.core.rmem_max`): bigger absorbs bursts, smaller keeps the latency of answered queries low under a flood',
  },
  busyPollUs: {
    flag: 'busy-poll',
    group: 'dns',
    arg: 'DURATION',
    default: { value: 0, text: '0, off', doc: '`0` (off)' },
    parse: (text: string, name: string) => parseMicroseconds(name, text, MAX_BUSY_POLL_US),
    help: `after a UDP query keep polling this long instead of sleeping, up to ${MAX_BUSY_POLL_US / 1000}ms, e.g. 200us; cuts the wake-up from answer latency, keeps a core busy under load`,
    doc: "after a UDP query keep the event loop polling this long instead of sleeping (`200us`, `1ms`; up to `10ms`): the next query skips the CPU's wake-up (figures in bench/RESULTS.md), at the price of a core kept busy while queries keep coming. Give the pod a whole-core CPU request and no lower limit, or the throttling costs more than the polling saves",
  },
  udpIo: {
    flag: 'udp-io',
    group: 'dns',
    arg: 'MODE',
    default: 'auto',
    parse: oneOf(UDP_IO_VALUES),
    help: 'auto | batch | node: batch reads and answers UDP queries in batches (recvmmsg/sendmmsg, native/udp-batch.node); node is node:dgram; auto: batch when built',
    doc: 'how UDP is read and answered: `batch` (the addon `native/udp-batch.node`, built by `npm run build`, `npm start` and `npm test` when a C compiler is there: one `recvmmsg` takes up to 32 queries, one call answers them, one `sendmmsg` sends the replies; about twice the QPS of `node:dgram`), `node` (`node:dgram`, one datagram at a time), `auto` (`batch` when the addon loads, else `node`). The `serving` log line says which one runs; `batch` without the addon is a start-up error',
  },
});

/** Its own table: --help lists it with the operations, after the endpoints and logs. */
export const WORKERS_OPTIONS = optionTable({
  /** Processes answering queries; one of them watches the cluster and feeds the others. */
  workers: {
    flag: 'workers',
    group: 'operations',
    arg: 'N',
    default: '1',
    parse: integerIn(1, 64),
    help: 'processes answering queries on the same ports (SO_REUSEPORT), 1-64; one watches the cluster and streams the index to the others',
    doc: 'processes answering on the same ports (`SO_REUSEPORT`), 1-64; one watches the cluster and streams the index to the others (see Performance)',
  },
});

export interface ServerOptions extends Omit<OptionValues<typeof SERVER_OPTIONS>, 'tcpMaxConnectionsPerClient'> {
  /** Concurrent TCP connections one source address may hold. */
  readonly tcpMaxConnectionsPerClient: number;
}

/** The part's own rule: per client, a tenth of the pool unless given. */
export function serverOptions(values: OptionValues<typeof SERVER_OPTIONS>): ServerOptions {
  return { ...values, tcpMaxConnectionsPerClient: values.tcpMaxConnectionsPerClient ?? defaultPerClient(values.tcpMaxConnections) };
}
