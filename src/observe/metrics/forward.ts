// The forwarder's families: coredns_proxy_* (CoreDNS 1.11 on), the coredns_forward_* names before
// it (dashboards still query them), and ours (spoofed, scrubbed, refused, shed, upstreams down).
import type { HistogramSample } from '../../base/histogram.ts';
import type { Sample } from '../../server/counters.ts';
import type { ForwardStats, UpstreamCounters } from '../../upstream/stats.ts';
import { counter, histogram, simpleCounter, type Registers } from './families.ts';

/** What the forwarder's families read, at every scrape. */
export interface ForwardMetricsInput {
  /** The forwarder's counters, once it exists. */
  readonly forward?: ForwardStats | null;
}

export function forwardFamilies(registers: Registers, o: ForwardMetricsInput): void {
  const upstreams = (): Iterable<UpstreamCounters> => o.forward?.upstreams.values() ?? [];
  /** One sample per upstream, labelled `to` (and proxy_name="forward" under the 1.11 names). */
  const perUpstream = (read: (u: UpstreamCounters) => number, proxy = false) =>
    function* (): Generator<Sample> {
      for (const u of upstreams()) yield { labels: proxy ? { proxy_name: 'forward', to: u.to } : { to: u.to }, value: read(u) };
    };
  const durations = (proxy: boolean) =>
    function* (): Generator<HistogramSample> {
      for (const u of upstreams()) {
        for (const [rcode, h] of u.durations) {
          yield { labels: proxy ? { proxy_name: 'forward', to: u.to, rcode } : { to: u.to, rcode }, histogram: h, series: 0 };
        }
      }
    };
  histogram(registers, 'coredns_proxy_request_duration_seconds', 'Histogram of the time each request took.', durations(true));
  histogram(
    registers,
    'coredns_forward_request_duration_seconds',
    'Histogram of the time each request took (the name before CoreDNS 1.11).',
    durations(false),
  );
  const failures = (u: UpstreamCounters) => u.healthcheckFailures;
  counter(
    registers,
    'coredns_proxy_healthcheck_failures_total',
    'Counter of the number of failed healthchecks.',
    ['proxy_name', 'to'],
    perUpstream(failures, true),
  );
  counter(
    registers,
    'coredns_forward_healthcheck_failures_total',
    'Counter of the number of failed healthchecks (the name before CoreDNS 1.11).',
    ['to'],
    perUpstream(failures),
  );
  counter(
    registers,
    'coredns_forward_requests_total',
    'Counter of requests made per upstream (the name before CoreDNS 1.11).',
    ['to'],
    perUpstream((u) => u.requests),
  );
  counter(
    registers,
    'coredns_forward_responses_total',
    'Counter of responses received per upstream (the name before CoreDNS 1.11).',
    ['to', 'rcode'],
    function* (): Generator<Sample> {
      for (const u of upstreams()) for (const [rcode, value] of u.responses) yield { labels: { to: u.to, rcode }, value };
    },
  );
  const total = (name: string, help: string, read: (f: ForwardStats) => number) =>
    simpleCounter(registers, name, help, () => (o.forward ? read(o.forward) : 0));
  total(
    'coredns_forward_max_concurrent_rejects_total',
    'Counter of the number of queries rejected because the concurrent queries were at maximum.',
    (f) => f.maxConcurrentRejects,
  );
  // As CoreDNS counts it: once per question that found every upstream down (and tried one anyway).
  total(
    'coredns_forward_healthcheck_broken_total',
    'Counter of the number of complete failures of the healthchecks.',
    (f) => f.healthcheckBroken,
  );

  // ---- ours: cluster_dns_* ----
  total(
    'cluster_dns_spoofed_replies_total',
    'Upstream replies dropped for a wrong ID, question or source address.',
    (f) => f.spoofedReplies,
  );
  total(
    'cluster_dns_upstream_scrubbed_records_total',
    'Records dropped from upstream replies: out of bailiwick, off the CNAME chain, or not allowed in their section.',
    (f) => f.scrubbedRecords,
  );
  total(
    'cluster_dns_forward_client_rejects_total',
    'Upstream questions refused (REFUSED) because their client held its fair share of --max-concurrent.',
    (f) => f.clientRejects,
  );
  total(
    'cluster_dns_forward_shed_total',
    'New upstream questions refused (REFUSED) while the event loop was behind, so cluster names kept being answered.',
    (f) => f.shed,
  );
  counter(
    registers,
    'cluster_dns_forward_upstream_down_total',
    'Times an upstream was marked down after --max-fails failed health probes in a row.',
    ['to'],
    perUpstream((u) => u.downs),
  );
}
