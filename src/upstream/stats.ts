// Counters the forwarder and the cache keep as plain numbers (cheap on the query path); the
// metrics module turns them into CoreDNS's Prometheus families at scrape time.
import { Histogram, TIME_BUCKETS } from '../base/histogram.ts';

export interface UpstreamCounters {
  /** `ip:port` as CoreDNS's `to` label writes it. */
  readonly to: string;
  requests: number;
  /** rcode name (NOERROR, NXDOMAIN, …) → replies. */
  readonly responses: Map<string, number>;
  /** rcode name → request duration histogram (coredns_proxy_request_duration_seconds{to,rcode}). */
  readonly durations: Map<string, Histogram>;
  healthcheckFailures: number;
  /** Times failed probes marked it down (cluster_dns_forward_upstream_down_total). */
  downs: number;
}

export class ForwardStats {
  readonly upstreams = new Map<string, UpstreamCounters>();
  /** Over --max-concurrent: REFUSED (coredns_forward_max_concurrent_rejects_total). */
  maxConcurrentRejects = 0;
  /** Over the client's fair share of --max-concurrent: REFUSED (cluster_dns_forward_client_rejects_total). */
  clientRejects = 0;
  /** New upstream questions refused while the event loop was behind (cluster_dns_forward_shed_total). */
  shed = 0;
  /** Replies dropped for a wrong ID, question, or source (cluster_dns_spoofed_replies_total). */
  spoofedReplies = 0;
  /** Questions that found every upstream down and tried them anyway (coredns_forward_healthcheck_broken_total). */
  healthcheckBroken = 0;
  /** Records dropped from upstream replies by the scrubber (cluster_dns_upstream_scrubbed_records_total). */
  scrubbedRecords = 0;

  upstream(to: string): UpstreamCounters {
    let c = this.upstreams.get(to);
    if (!c) {
      c = { to, requests: 0, responses: new Map(), durations: new Map(), healthcheckFailures: 0, downs: 0 };
      this.upstreams.set(to, c);
    }
    return c;
  }

  /** One upstream exchange finished with `rcode` (a name) after `seconds`. */
  observe(to: string, rcode: string, seconds: number): void {
    const c = this.upstream(to);
    c.responses.set(rcode, (c.responses.get(rcode) ?? 0) + 1);
    this.duration(to, rcode).observe(seconds);
  }

  /** The request duration histogram of `to`'s replies with `rcode`. */
  duration(to: string, rcode: string): Histogram {
    const c = this.upstream(to);
    let h = c.durations.get(rcode);
    if (!h) {
      h = new Histogram(TIME_BUCKETS);
      c.durations.set(rcode, h);
    }
    return h;
  }
}

export type CacheKind = 'success' | 'denial';

export class CacheStats {
  /** Current entries by kind (coredns_cache_entries{type}). */
  readonly entries = { success: 0, denial: 0 };
  readonly hits = { success: 0, denial: 0 };
  misses = 0;
  requests = 0;
  prefetches = 0;
  servedStale = 0;
  readonly evictions = { success: 0, denial: 0 };
  /** Lookups answered from a remembered failure (cluster_dns_cache_servfail_hits_total; also in hits.denial). */
  servfailHits = 0;
  /** Failures remembered now (cluster_dns_cache_servfail_entries). */
  servfailEntries = 0;
}
