// Per-query counters in CoreDNS's label space (server, zone, proto, family, type, rcode, plugin),
// kept in typed arrays indexed by small integers: a labelled prom-client inc/observe re-hashes its
// labels (~580 ns), a typed-array slot bump costs ~1 ns. src/observe/metrics.ts turns these into
// Prometheus families at scrape time.
import { TYPE } from '../dns/constants.ts';

/** CoreDNS's duration buckets: ExponentialBuckets(0.00025, 2, 16), 0.25 ms … 8.192 s. */
export const TIME_BUCKETS: readonly number[] = Array.from({ length: 16 }, (_, i) => 0.00025 * 2 ** i);
/** CoreDNS's plugin.SizeBuckets, for request and response sizes in bytes. */
export const SIZE_BUCKETS: readonly number[] = [0, 100, 200, 300, 400, 511, 1023, 2047, 4095, 8291, 16e3, 32e3, 48e3, 64e3];

/**
 * The qtypes CoreDNS gives their own `type` label value (plugin/metrics/vars/monitor.go); every
 * other type is `other`, so a client cycling through 65536 types cannot blow up the series count.
 */
export const TYPE_LABELS: readonly string[] = [
  'A', 'AAAA', 'MX', 'SOA', 'CNAME', 'PTR', 'TXT', 'NS', 'SRV', 'DS', 'DNSKEY', 'RRSIG', 'NSEC', 'NSEC3', 'HTTPS',
  'IXFR', 'AXFR', 'ANY', 'other',
];
const TYPE_CODES: Record<string, number> = {
  ...TYPE, DS: 43, DNSKEY: 48, RRSIG: 46, NSEC: 47, NSEC3: 50, HTTPS: 65,
};
const OTHER_TYPE = TYPE_LABELS.length - 1;
/** qtype (all of CoreDNS's are below 256) → index into TYPE_LABELS. */
const TYPE_INDEX = new Uint8Array(256).fill(OTHER_TYPE);
TYPE_LABELS.forEach((name, i) => {
  const code = TYPE_CODES[name];
  if (code !== undefined) TYPE_INDEX[code] = i;
});

/** Byte → its ASCII lower case (length bytes stay as they are, and never equal a letter's code). */
const LOWER = new Uint8Array(256);
for (let c = 0; c < 256; c++) LOWER[c] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;

export function typeIndex(qtype: number): number {
  return qtype < 256 ? (TYPE_INDEX[qtype] as number) : OTHER_TYPE;
}

/** rcodes 0..23 get their own slot (names from RFC 6895's registry); the rest share the last. */
export const RCODE_SLOTS = 25;
const RCODE_NAMES = [
  'NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE',
  'DSOTYPENI', '12', '13', '14', '15', 'BADVERS', 'BADKEY', 'BADTIME', 'BADMODE', 'BADNAME', 'BADALG', 'BADTRUNC', 'BADCOOKIE',
];
export function rcodeLabel(slot: number): string {
  return RCODE_NAMES[slot] ?? 'other';
}

/** `zone` label slots: queries that never entered the chain, the root, then the configured zones. */
export const ZONE_DROPPED = 0;
export const ZONE_ROOT = 1;

export const PROTO_LABELS = ['udp', 'tcp'] as const;
export const FAMILY_LABELS = ['1', '2'] as const;

/** 1 for IPv4 (an IPv4-mapped IPv6 address too, as Go reports it), 2 for IPv6. */
export function familyIndex(address: string): number {
  if (address.indexOf(':') < 0) return 0;
  return address.startsWith('::ffff:') && address.indexOf('.') > 0 ? 0 : 1;
}

export interface QueryCountersOptions {
  /** How many listen addresses (the `server` label); queries name theirs by index. */
  readonly servers: number;
  /** Zones with their own `zone` label value, lower-case, no trailing dot (e.g. cluster.local). */
  readonly zones: readonly string[];
  /** Handler names, in chain order (the `plugin` label); the server itself is plugin "". */
  readonly plugins: readonly string[];
}

/** Histogram slots: one per bucket (non-cumulative), one for +Inf. */
export class BucketCounts {
  readonly bounds: readonly number[];
  readonly counts: Float64Array;
  readonly sums: Float64Array;
  readonly totals: Float64Array;
  readonly #width: number;

  constructor(bounds: readonly number[], series: number) {
    this.bounds = bounds;
    this.#width = bounds.length + 1;
    this.counts = new Float64Array(series * this.#width);
    this.sums = new Float64Array(series);
    this.totals = new Float64Array(series);
  }

  observe(series: number, value: number): void {
    const bounds = this.bounds;
    // Most values fall in the first buckets, so a linear scan beats a binary search here.
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[series * this.#width + i]!++;
    this.sums[series]! += value;
    this.totals[series]!++;
  }

  /** Cumulative counts per bound (and +Inf last) of one series. */
  cumulative(series: number): number[] {
    const out: number[] = [];
    let running = 0;
    for (let i = 0; i < this.#width; i++) {
      running += this.counts[series * this.#width + i] as number;
      out.push(running);
    }
    return out;
  }
}

export class QueryCounters {
  readonly servers: number;
  /** `zone` label values: 'dropped', '.', then 'cluster.local.' and so on. */
  readonly zoneLabels: readonly string[];
  /** `plugin` label values: '' (the server), then the handlers' names. */
  readonly pluginLabels: readonly string[];
  /** [server][zone][proto][family][type] */
  readonly requests: Float64Array;
  /** [server][zone][rcode slot][plugin] */
  readonly responses: Float64Array;
  /** [server][zone] */
  readonly doRequests: Float64Array;
  /** series [server][zone] */
  readonly duration: BucketCounts;
  /** series [server][zone][proto] */
  readonly requestSize: BucketCounts;
  readonly responseSize: BucketCounts;
  readonly #zones: readonly string[];
  /** The zones in wire form (length-prefixed labels, root included), for zoneOfWire. */
  readonly #wireZones: readonly Uint8Array[];

  constructor(options: QueryCountersOptions) {
    this.servers = Math.max(1, options.servers);
    this.#zones = options.zones.map((z) => z.toLowerCase().replace(/\.$/, ''));
    this.#wireZones = this.#zones.map((z) => {
      const labels = z === '' ? [] : z.split('.');
      return Uint8Array.from([...labels.flatMap((l) => [l.length, ...Buffer.from(l, 'latin1')]), 0]);
    });
    this.zoneLabels = ['dropped', '.', ...this.#zones.map((z) => `${z}.`)];
    this.pluginLabels = ['', ...options.plugins];
    const zones = this.zoneLabels.length;
    this.requests = new Float64Array(this.servers * zones * 2 * 2 * TYPE_LABELS.length);
    this.responses = new Float64Array(this.servers * zones * RCODE_SLOTS * this.pluginLabels.length);
    this.doRequests = new Float64Array(this.servers * zones);
    this.duration = new BucketCounts(TIME_BUCKETS, this.servers * zones);
    this.requestSize = new BucketCounts(SIZE_BUCKETS, this.servers * zones * 2);
    this.responseSize = new BucketCounts(SIZE_BUCKETS, this.servers * zones * 2);
  }

  get zoneCount(): number {
    return this.zoneLabels.length;
  }

  /**
   * The `zone` slot of the question in `msg` (ending at `questionEnd`): the longest configured
   * zone it is in. Reads the wire bytes, walking label boundaries so that a label merely ending in
   * the zone's bytes does not match: a string endsWith on the parsed name costs 3-4x as much.
   */
  zoneOfWire(msg: Uint8Array, questionEnd: number): number {
    const zones = this.#wireZones;
    const nameEnd = questionEnd - 4;
    let best = ZONE_ROOT;
    let bestLength = -1;
    for (let z = 0; z < zones.length; z++) {
      const zone = zones[z] as Uint8Array;
      const start = nameEnd - zone.length;
      if (zone.length <= bestLength || start < 12) continue;
      // Bytes first (from the end, where names differ), then whether `start` is a label boundary.
      let i = zone.length - 1;
      while (i >= 0 && LOWER[msg[start + i] as number] === zone[i]) i--;
      if (i >= 0) continue;
      // Bounded: each step moves past one label of a name readQuery already validated.
      let pos = 12;
      while (pos < start) pos += (msg[pos] as number) + 1;
      if (pos === start) {
        best = ZONE_ROOT + 1 + z;
        bestLength = zone.length;
      }
    }
    return best;
  }

  /** One request and its reply. `plugin` is 0 for the server, else 1 + the handler's index. */
  count(
    server: number,
    zone: number,
    proto: number,
    family: number,
    qtype: number,
    dnssecOk: boolean,
    requestSize: number,
    rcode: number,
    plugin: number,
    responseSize: number,
  ): void {
    const zones = this.zoneLabels.length;
    const sz = (server < this.servers ? server : 0) * zones + zone;
    this.requests[((sz * 2 + proto) * 2 + family) * TYPE_LABELS.length + typeIndex(qtype)]!++;
    if (dnssecOk) this.doRequests[sz]!++;
    const slot = rcode < RCODE_SLOTS - 1 ? rcode : RCODE_SLOTS - 1;
    this.responses[(sz * RCODE_SLOTS + slot) * this.pluginLabels.length + plugin]!++;
    this.requestSize.observe(sz * 2 + proto, requestSize);
    if (responseSize >= 0) this.responseSize.observe(sz * 2 + proto, responseSize);
  }

  /** Time from reading the request to having its reply. */
  observeDuration(server: number, zone: number, seconds: number): void {
    this.duration.observe((server < this.servers ? server : 0) * this.zoneLabels.length + zone, seconds);
  }
}
