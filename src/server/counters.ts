// Per-query counters in CoreDNS's label space (server, zone, proto, family, type, rcode, plugin),
// kept in typed arrays indexed by small integers: a labelled prom-client inc/observe re-hashes its
// labels (~580 ns), a typed-array slot bump costs ~1 ns. The layout is read back here only, as
// labelled samples (`samples`, `histogramSamples`), for /metrics and the --workers sums.
import { addSlots, Histogram, TIME_BUCKETS, type HistogramJson, type HistogramSample } from '../base/histogram.ts';
import { TYPE } from '../dns/constants.ts';

/** CoreDNS's plugin.SizeBuckets, for request and response sizes in bytes. */
export const SIZE_BUCKETS: readonly number[] = [0, 100, 200, 300, 400, 511, 1023, 2047, 4095, 8291, 16e3, 32e3, 48e3, 64e3];

/**
 * The qtypes CoreDNS gives their own `type` label value (plugin/metrics/vars/monitor.go); every
 * other type is `other`, so a client cycling through 65536 types cannot blow up the series count.
 */
export const TYPE_LABELS: readonly string[] = [
  'A',
  'AAAA',
  'MX',
  'SOA',
  'CNAME',
  'PTR',
  'TXT',
  'NS',
  'SRV',
  'DS',
  'DNSKEY',
  'RRSIG',
  'NSEC',
  'NSEC3',
  'HTTPS',
  'IXFR',
  'AXFR',
  'ANY',
  'other',
];
const TYPE_CODES: Record<string, number> = {
  ...TYPE,
  DS: 43,
  DNSKEY: 48,
  RRSIG: 46,
  NSEC: 47,
  NSEC3: 50,
  HTTPS: 65,
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
  'NOERROR',
  'FORMERR',
  'SERVFAIL',
  'NXDOMAIN',
  'NOTIMP',
  'REFUSED',
  'YXDOMAIN',
  'YXRRSET',
  'NXRRSET',
  'NOTAUTH',
  'NOTZONE',
  'DSOTYPENI',
  '12',
  '13',
  '14',
  '15',
  'BADVERS',
  'BADKEY',
  'BADTIME',
  'BADMODE',
  'BADNAME',
  'BADALG',
  'BADTRUNC',
  'BADCOOKIE',
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

type Labels = Record<string, string>;
/** One series of a counter family: its labels, in CoreDNS's order, and its value. */
export interface Sample {
  readonly labels: Readonly<Labels>;
  readonly value: number;
}
export type CounterFamily = 'requests' | 'responses' | 'doRequests';
export type HistogramFamily = 'duration' | 'requestSize' | 'responseSize';

/** The counters as plain JSON (what crosses the --workers IPC channel). */
export interface QueryCountersJson {
  readonly requests: readonly number[];
  readonly responses: readonly number[];
  readonly doRequests: readonly number[];
  readonly duration: HistogramJson;
  readonly requestSize: HistogramJson;
  readonly responseSize: HistogramJson;
}

/** One index of a slot array: a label and its values, outermost first. */
interface Dimension {
  readonly name: string;
  readonly values: readonly string[];
}

const RCODE_LABELS = Array.from({ length: RCODE_SLOTS }, (_, slot) => rcodeLabel(slot));
const COUNTER_FAMILIES = ['requests', 'responses', 'doRequests'] as const;
const HISTOGRAM_FAMILIES = ['duration', 'requestSize', 'responseSize'] as const;

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
  readonly duration: Histogram;
  /** series [server][zone][proto] */
  readonly requestSize: Histogram;
  readonly responseSize: Histogram;
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
    this.duration = new Histogram(TIME_BUCKETS, this.servers * zones);
    this.requestSize = new Histogram(SIZE_BUCKETS, this.servers * zones * 2);
    this.responseSize = new Histogram(SIZE_BUCKETS, this.servers * zones * 2);
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
    const slot = Math.min(rcode, RCODE_SLOTS - 1);
    this.responses[(sz * RCODE_SLOTS + slot) * this.pluginLabels.length + plugin]!++;
    this.requestSize.observe(requestSize, sz * 2 + proto);
    if (responseSize >= 0) this.responseSize.observe(responseSize, sz * 2 + proto);
  }

  /** Time from reading the request to having its reply. */
  observeDuration(server: number, zone: number, seconds: number): void {
    this.duration.observe(seconds, (server < this.servers ? server : 0) * this.zoneLabels.length + zone);
  }

  /** The non-zero series of a counter family; `servers` names the listeners (the `server` label). */
  *samples(family: CounterFamily, servers: readonly string[]): Generator<Sample> {
    const slots = this[family];
    const dims = this.#layout(family, servers);
    for (let i = 0; i < slots.length; i++) {
      const value = slots[i] as number;
      if (value !== 0) yield { labels: labelsOf(i, dims), value };
    }
  }

  /** The series of a histogram family that observed anything. */
  *histogramSamples(family: HistogramFamily, servers: readonly string[]): Generator<HistogramSample> {
    const histogram = this[family];
    const dims = this.#layout(family, servers);
    for (let series = 0; series < histogram.totals.length; series++) {
      if (histogram.totals[series] !== 0) yield { labels: labelsOf(series, dims), histogram, series };
    }
  }

  /** How count() and observeDuration() index each family's slots (they write it inline, for speed). */
  #layout(family: CounterFamily | HistogramFamily, servers: readonly string[]): readonly Dimension[] {
    const server = { name: 'server', values: Array.from({ length: this.servers }, (_, s) => servers[s] ?? servers[0] ?? '') };
    const zone = { name: 'zone', values: this.zoneLabels };
    const proto = { name: 'proto', values: PROTO_LABELS };
    switch (family) {
      case 'requests':
        return [server, zone, proto, { name: 'family', values: FAMILY_LABELS }, { name: 'type', values: TYPE_LABELS }];
      case 'responses':
        return [server, zone, { name: 'rcode', values: RCODE_LABELS }, { name: 'plugin', values: this.pluginLabels }];
      case 'doRequests':
      case 'duration':
        return [server, zone];
      case 'requestSize':
      case 'responseSize':
        return [server, zone, proto];
    }
  }

  toJSON(): QueryCountersJson {
    return {
      requests: [...this.requests],
      responses: [...this.responses],
      doRequests: [...this.doRequests],
      duration: this.duration.toJSON(),
      requestSize: this.requestSize.toJSON(),
      responseSize: this.responseSize.toJSON(),
    };
  }

  /** Adds another process's counters (same configuration, same layout): the --workers sums. */
  add(from: QueryCountersJson): void {
    for (const key of COUNTER_FAMILIES) addSlots(this[key], from[key]);
    for (const key of HISTOGRAM_FAMILIES) this[key].add(from[key]);
  }

  clear(): void {
    for (const key of COUNTER_FAMILIES) this[key].fill(0);
    for (const key of HISTOGRAM_FAMILIES) this[key].clear();
  }
}

/** Slot `i`'s labels: `i` read as a mixed-radix number over `dims`, with `view` after `zone` as CoreDNS writes it. */
function labelsOf(i: number, dims: readonly Dimension[]): Labels {
  const values: string[] = [];
  let rest = i;
  for (let d = dims.length - 1; d >= 0; d--) {
    const n = (dims[d] as Dimension).values.length;
    const at = rest % n;
    values[d] = (dims[d] as Dimension).values[at] ?? '';
    rest = (rest - at) / n;
  }
  const labels: Labels = {};
  dims.forEach((dim, d) => {
    labels[dim.name] = values[d] as string;
    if (dim.name === 'zone') labels.view = '';
  });
  return labels;
}
