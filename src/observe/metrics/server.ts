// The server's families: CoreDNS's coredns_dns_* per query, decoded from the typed-array slots by
// the counters themselves, and ours for the transports (drops, truncation, UDP and TCP).
import type { CounterFamily, HistogramFamily, QueryCounters } from '../../server/counters.ts';
import type { ServerStats } from '../../server/processor.ts';
import { counter, histogram, simpleCounter, simpleGauge, type Registers } from './families.ts';

/** What the server's families read, at every scrape. */
export interface ServerMetricsInput {
  readonly stats: ServerStats;
  readonly counters: QueryCounters;
  /** The kernel's drop and queue figures for our UDP sockets (Linux), read at scrape time. */
  readonly udpKernel?: () => { readonly drops: number; readonly queuedBytes: number } | null;
}

/** `servers()` names the listen addresses (the `server` label), in the counters' order. */
export function serverFamilies(registers: Registers, o: ServerMetricsInput, servers: () => readonly string[]): void {
  const samples = (family: CounterFamily) => () => o.counters.samples(family, servers());
  const histogramSamples = (family: HistogramFamily) => () => o.counters.histogramSamples(family, servers());
  counter(
    registers,
    'coredns_dns_requests_total',
    'Counter of DNS requests made per zone, protocol and family.',
    ['server', 'zone', 'view', 'proto', 'family', 'type'],
    samples('requests'),
  );
  counter(
    registers,
    'coredns_dns_responses_total',
    'Counter of response status codes.',
    ['server', 'zone', 'view', 'rcode', 'plugin'],
    samples('responses'),
  );
  counter(
    registers,
    'coredns_dns_do_requests_total',
    'Counter of DNS requests with DO bit set per zone.',
    ['server', 'zone', 'view'],
    samples('doRequests'),
  );
  histogram(
    registers,
    'coredns_dns_request_duration_seconds',
    'Histogram of the time (in seconds) each request took per zone.',
    histogramSamples('duration'),
  );
  histogram(
    registers,
    'coredns_dns_request_size_bytes',
    'Size of the request in bytes per zone and protocol.',
    histogramSamples('requestSize'),
  );
  histogram(
    registers,
    'coredns_dns_response_size_bytes',
    'Size of the returned response in bytes per zone and protocol.',
    histogramSamples('responseSize'),
  );

  // ---- ours: cluster_dns_* ----
  counter(
    registers,
    'cluster_dns_dropped_packets_total',
    'Packets dropped without an answer: too short to be DNS, responses (QR=1), unreadable TCP frames, acl drop.',
    ['reason'],
    () => [
      { labels: { reason: 'short' }, value: o.stats.droppedShort },
      { labels: { reason: 'response' }, value: o.stats.droppedResponse },
      { labels: { reason: 'tcp_bad_frame' }, value: o.stats.tcpBadFrames },
      { labels: { reason: 'acl_drop' }, value: o.stats.unanswered },
    ],
  );
  const stat = (name: string, help: string, key: keyof ServerStats & string) =>
    simpleCounter(registers, name, help, () => o.stats[key] as number);
  stat('cluster_dns_truncated_responses_total', 'Replies sent with TC set because they did not fit.', 'truncated');
  simpleCounter(
    registers,
    'cluster_dns_udp_receive_drops_total',
    'Queries the kernel dropped because our UDP receive queue was full (load shed under a flood).',
    () => o.udpKernel?.()?.drops ?? 0,
  );
  simpleGauge(
    registers,
    'cluster_dns_udp_receive_queue_bytes',
    'Bytes of queries waiting in our UDP receive queues at scrape time.',
    () => o.udpKernel?.()?.queuedBytes ?? 0,
  );
  stat('cluster_dns_udp_send_errors_total', 'UDP replies the kernel refused to send.', 'udpSendErrors');
  stat(
    'cluster_dns_udp_receive_errors_total',
    'Failed UDP receives (socket errors other than a send), and datagrams lost with them.',
    'udpReceiveErrors',
  );
  stat('cluster_dns_tcp_connections_total', 'TCP connections accepted.', 'tcpConnections');
  stat(
    'cluster_dns_tcp_rejected_total',
    'TCP connections refused at --tcp-max-conns with no idle connection to close for them.',
    'tcpRejected',
  );
  stat('cluster_dns_tcp_idle_evictions_total', 'Idle TCP connections closed to admit a new one at --tcp-max-conns.', 'tcpIdleEvictions');
  stat(
    'cluster_dns_tcp_client_limit_total',
    'TCP connections refused because their source address held --tcp-max-conns-per-client already.',
    'tcpClientLimited',
  );
  stat(
    'cluster_dns_tcp_read_timeouts_total',
    'TCP connections closed because a query frame did not arrive whole in time (slow senders).',
    'tcpReadTimeouts',
  );
  stat('cluster_dns_tcp_idle_timeouts_total', 'TCP connections closed after --tcp-idle-timeout.', 'tcpIdleTimeouts');
}
