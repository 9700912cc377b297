// The one Config, parsed from the command line and validated once at start-up. A bad flag or value
// becomes a ConfigError naming the flag; main prints it as one line and exits 2 before any socket
// is bound.
import { existsSync, readFileSync } from 'node:fs';
import { isIP, isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_MAX_UDP_SIZE } from './dns/constants.ts';
import { DEFAULT_UDP_RECEIVE_BUFFER, UDP_IO_VALUES, type UdpIo } from './server/udp.ts';
import { MAX_BUSY_POLL_US } from './server/busy-poll.ts';
import { defaultPerClient } from './server/slots.ts';
import { parseResolvConf, type ResolvConf } from './upstream/resolvconf.ts';
import { DEFAULT_MANIFESTS_MAX_BYTES } from './index/manifests.ts';
import { DEFAULT_SNAPSHOT_MAX_AGE_MS, DEFAULT_SNAPSHOT_MAX_BYTES } from './index/snapshot.ts';
import { parseBytes } from './launch.ts';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './observe/log.ts';
import { POD_MODES, type PodMode } from './zone/kubernetes.ts';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export type Source =
  | { readonly kind: 'kubernetes'; /** null: $KUBECONFIG or the in-cluster service account */ readonly kubeconfig: string | null }
  | {
      readonly kind: 'manifests';
      readonly path: string;
      /** Files that add up to more than this are refused before they are read. */
      readonly maxBytes: number;
    };

export interface Config {
  readonly source: Source;
  readonly listen: readonly HostPort[];
  readonly zone: string;
  readonly ttl: number;
  readonly pods: PodMode;
  readonly upstream: readonly HostPort[];
  readonly metrics: HostPort | null;
  readonly health: HostPort | null;
  readonly ready: HostPort | null;
  /** /debug/resolve, on its own loopback listener; off (null) by default. */
  readonly debugEndpoints: HostPort | null;
  readonly logLevel: LogLevel;
  /** JSON lines for collectors, or text lines for people. */
  readonly logFormat: LogFormat;
  readonly maxUdpSize: number;
  readonly tcpIdleTimeoutMs: number;
  readonly tcpMaxConnections: number;
  /** Concurrent TCP connections one source address may hold. */
  readonly tcpMaxConnectionsPerClient: number;
  /** Kernel receive queue per UDP socket: bursts it absorbs versus how long queries wait in a flood. */
  readonly udpReceiveBuffer: number;
  /** After a datagram, µs the event loop keeps polling instead of sleeping (0: off). Latency for CPU. */
  readonly busyPollUs: number;
  /** UDP through the recvmmsg/sendmmsg addon (`batch`), node:dgram (`node`), or the addon when built. */
  readonly udpIo: UdpIo;
  /** After SIGTERM: /ready says 503 and DNS keeps answering this long, then the sockets close. */
  readonly lameduckMs: number;
  /** One log line per answered query (sampled by logQueriesSample). */
  readonly logQueries: boolean;
  /** Fraction of queries logged when logQueries is on, 0 < x <= 1. */
  readonly logQueriesSample: number;
  /** Names outside the cluster zone: where they go, and what is kept of the answers. */
  readonly forward: ForwardConfig;
  /** Processes answering queries; one of them watches the cluster and feeds the others. */
  readonly workers: number;
  /** Where the slim index is kept on disk for restarts during an API outage (live clusters only). */
  readonly snapshot: {
    readonly path: string;
    readonly intervalMs: number;
    /** A file written longer ago than this is not restored. */
    readonly maxAgeMs: number;
    /** A bigger file is not read at all. */
    readonly maxBytes: number;
  } | null;
  /** --memory-limit (bytes): main.ts sizes the V8 heap to it; null for the cgroup's limit, or none. */
  readonly memoryLimit: number | null;
}

export type UpstreamPolicy = 'random' | 'round_robin' | 'sequential';
export const UPSTREAM_POLICIES: readonly UpstreamPolicy[] = ['random', 'round_robin', 'sequential'];

export interface ForwardConfig {
  /** Default upstreams: --upstream, else the nameservers of --resolv-conf; never our own listeners. */
  readonly upstreams: readonly HostPort[];
  /** Where the default upstreams came from, for the start-up log. */
  readonly upstreamsFrom: string;
  /** --stub-domain: the longest matching domain picks its own upstreams. */
  readonly stubDomains: readonly { readonly domain: string; readonly upstreams: readonly HostPort[] }[];
  readonly policy: UpstreamPolicy;
  readonly forceTcp: boolean;
  /** --forward-timeout: the whole budget of one upstream question; past it SERVFAIL or stale. */
  readonly timeoutMs: number;
  /** --max-fails: failed health probes in a row that mark an upstream down; 0: never down. */
  readonly maxFails: number;
  readonly maxConcurrent: number;
  /** Entries of the success cache (upstream answers); 0 with no --cache-denial-size turns caching off. */
  readonly cacheSize: number;
  readonly cacheSuccessTtl: number;
  readonly cacheDenialTtl: number;
  /** Entries of the denial cache (NXDOMAIN, NODATA): --cache-denial-size, else --cache-size. */
  readonly cacheDenialSize: number;
  /** Seconds a failed resolution is answered SERVFAIL without asking upstream again (RFC 9520); 0 off. */
  readonly cacheServfailTtl: number;
  readonly serveStaleMs: number;
  readonly autopath: boolean;
  /**
   * With --autopath: the search domains of --resolv-conf, tried after the cluster's own (CoreDNS's
   * `autopath @kubernetes` does the same: the kubelet gives pods the node's search list too).
   */
  readonly autopathSearch: readonly string[];
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly code = 'CDNS_ERR_CONFIG';
  readonly flag: string;
  constructor(flag: string, message: string) {
    super(`${flag}: ${message}`);
    this.flag = flag;
  }
}

/** What the command line asked for besides running: --help or --version. */
export type ParseResult = { readonly kind: 'run'; readonly config: Config } | { readonly kind: 'help' } | { readonly kind: 'version' };

export const BUNDLED_EXAMPLE = fileURLToPath(new URL('../examples/cluster.yaml', import.meta.url));
export const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export const USAGE = `Usage: cluster-dns [flags]

Answers the Kubernetes cluster zone from a watch-driven in-memory index.

Cluster source (first that applies): --manifests, --kubeconfig, $KUBECONFIG, the in-cluster
service account; with none of them it exits 2 (the example cluster: --manifests examples/cluster.yaml).
  --kubeconfig PATH       watch the cluster this kubeconfig names
  --manifests PATH        serve Kubernetes objects from a YAML/JSON file or folder (reloaded on change)
  --manifests-max-size B  refuse manifests that add up to more than this, e.g. 64Mi (default 16Mi)

DNS:
  --listen ADDR:PORT      UDP and TCP listen address; repeatable; IPv6 as [::1]:53 (default 0.0.0.0:53)
                          ports of --listen, --health, --ready, --metrics: 1-65535, or 0 for any free port
  --zone NAME             cluster domain (default cluster.local)
  --ttl SECONDS           TTL of cluster answers, 0-3600 (default 5)
  --pods MODE             disabled | insecure | verified (default verified): a-b-c-d.<ns>.pod.<zone> records
  --max-udp-size BYTES    cap on the EDNS UDP size a client may ask for, 512-65535 (default ${DEFAULT_MAX_UDP_SIZE})
  --tcp-idle-timeout SEC  close idle TCP connections after this long (default 10)
  --tcp-max-conns N       most concurrent TCP connections; when all are taken the longest-idle one is
                          closed for a newcomer (default 1000)
  --tcp-max-conns-per-client N  most concurrent TCP connections from one source address
                          (default: a tenth of --tcp-max-conns, 100)
  --udp-recv-buffer BYTES kernel receive queue per UDP socket, 64Ki-64Mi (default 256Ki); bigger absorbs
                          bursts, smaller keeps latency low under a flood (capped by net.core.rmem_max)
  --busy-poll DURATION    after a UDP query keep polling this long instead of sleeping, up to 10ms, e.g. 200us
                          (default 0: off); cuts the wake-up from answer latency, keeps a core busy under load
  --udp-io MODE           auto | batch | node (default auto): batch reads and answers UDP queries in batches
                          (recvmmsg/sendmmsg, native/udp-batch.node); node is node:dgram; auto: batch when built
  --upstream IP[:PORT],.. upstream resolvers for names outside the zone (default: the nameservers of --resolv-conf)
  --resolv-conf PATH      where the default upstreams come from (default /etc/resolv.conf)
  --upstream-policy P     random | round_robin | sequential (default random)
  --stub-domain D=IP[:PORT],..  names under D go to these upstreams instead; repeatable, longest match wins
  --force-tcp             ask upstreams over TCP only
  --forward-timeout D     how long an upstream question may take, retransmits included, 100ms-60s
                          (default 5s, CoreDNS's); past it SERVFAIL, or a stale answer
  --max-fails N           failed health probes (". IN NS") in a row that mark an upstream down, 0-100
                          (default 2; 0: never down, no probes)
  --max-concurrent N      most upstream queries in flight, each client a fair share; more get REFUSED
                          (default 1000)
  --cache-size N          upstream answers kept, in entries (default 10000; 0 turns the cache off)
  --cache-success-ttl SEC longest an upstream answer is kept (default 3600)
  --cache-denial-ttl SEC  longest an NXDOMAIN/NODATA is kept (default 30)
  --cache-denial-size N   NXDOMAIN/NODATA kept, in entries, apart from the answers (default: --cache-size)
  --cache-servfail-ttl SEC a name whose resolution failed gets SERVFAIL this long, not asked again; 0-300 (default 5)
  --serve-stale DURATION  how long past expiry an answer may be served while every upstream fails (default 1h; 0 off)
  --autopath              answer a pod's first search-path expansion with the first name that exists (CNAME);
                          after the cluster's search domains it tries those of --resolv-conf

Operations:
  --health ADDR:PORT      /health endpoint (default :8080; "off" disables)
  --ready ADDR:PORT       /ready endpoint, 200 once the index has synced (default :8181; "off" disables)
  --metrics ADDR:PORT     Prometheus /metrics (default :9153; "off" disables)
  --debug-endpoints ADDR:PORT  /debug/resolve (which index objects answer a name) on this loopback
                          address, e.g. 127.0.0.1:9154 (default off); reach it with kubectl port-forward
  --log-level LEVEL       ${LOG_LEVELS.join(' | ')} (default info)
  --log-format F           json | text (default json): JSON lines for collectors, text lines for people
  --log-queries           log every answered query with its duration (one line each; off by default)
  --log-queries-sample F  with --log-queries, log this fraction of queries, 0-1 (default 1)
  --lameduck DURATION     after SIGTERM keep answering this long with /ready at 503, e.g. 5s (default 5s)
  --workers N             processes answering queries on the same ports (SO_REUSEPORT), 1-64 (default 1);
                          one watches the cluster and streams the index to the others
  --snapshot PATH         keep the index in this file (atomically, every --snapshot-interval and at
                          shutdown); a restart while the API server is down serves from it
  --snapshot-interval D   how often the snapshot is rewritten when the index changed (default 60s)
  --snapshot-max-age D    at start, ignore a snapshot written longer ago than this, e.g. 6h (default 24h)
  --snapshot-max-size B   at start, ignore a snapshot file bigger than this, e.g. 128Mi (default 64Mi)
  --memory-limit BYTES    the memory the server may use, e.g. 384Mi; the V8 heap is sized to fit it
                          (default: the container's cgroup limit, if any)
  --help, --version
`;

const OPTIONS = {
  kubeconfig: { type: 'string' },
  manifests: { type: 'string' },
  'manifests-max-size': { type: 'string' },
  listen: { type: 'string', multiple: true },
  zone: { type: 'string' },
  ttl: { type: 'string' },
  pods: { type: 'string' },
  'max-udp-size': { type: 'string' },
  'tcp-idle-timeout': { type: 'string' },
  'tcp-max-conns': { type: 'string' },
  'tcp-max-conns-per-client': { type: 'string' },
  'udp-recv-buffer': { type: 'string' },
  'busy-poll': { type: 'string' },
  'udp-io': { type: 'string' },
  upstream: { type: 'string', multiple: true },
  'resolv-conf': { type: 'string' },
  'upstream-policy': { type: 'string' },
  'stub-domain': { type: 'string', multiple: true },
  'force-tcp': { type: 'boolean' },
  'forward-timeout': { type: 'string' },
  'max-fails': { type: 'string' },
  'max-concurrent': { type: 'string' },
  'cache-size': { type: 'string' },
  'cache-success-ttl': { type: 'string' },
  'cache-denial-ttl': { type: 'string' },
  'cache-denial-size': { type: 'string' },
  'cache-servfail-ttl': { type: 'string' },
  'serve-stale': { type: 'string' },
  autopath: { type: 'boolean' },
  metrics: { type: 'string' },
  'debug-endpoints': { type: 'string' },
  health: { type: 'string' },
  ready: { type: 'string' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  'log-queries': { type: 'boolean' },
  'log-queries-sample': { type: 'string' },
  lameduck: { type: 'string' },
  snapshot: { type: 'string' },
  workers: { type: 'string' },
  'snapshot-interval': { type: 'string' },
  'snapshot-max-age': { type: 'string' },
  'snapshot-max-size': { type: 'string' },
  'memory-limit': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

/** An upstream that can be asked: an address of one host (not 0.0.0.0, broadcast or multicast); parseHostPort refuses port 0. */
function upstreamHostPort(flag: string, text: string): HostPort {
  const hp = parseHostPort(flag, text, 53);
  const why = unaskableAddress(hp.host);
  if (why !== null) throw new ConfigError(`--${flag}`, `"${text}": ${hp.host} is ${why}, not a resolver's address`);
  return hp;
}

/** Why `ip` cannot be one resolver's address (unspecified, broadcast, multicast), or null. */
export function unaskableAddress(ip: string): string | null {
  const lower = ip.toLowerCase();
  // An IPv4-mapped IPv6 address is its IPv4 address.
  const v4 = isIPv6(lower) ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower)?.[1] : lower;
  if (v4 !== undefined && !isIPv6(v4)) {
    const first = Number(v4.split('.')[0]);
    if (v4 === '0.0.0.0') return 'the unspecified address';
    if (v4 === '255.255.255.255') return 'the broadcast address';
    if (first >= 224 && first <= 239) return 'a multicast address';
    return null;
  }
  const words = expandIPv6(lower);
  if (words.every((w) => w === 0)) return 'the unspecified address';
  if ((words[0]! & 0xff00) === 0xff00) return 'a multicast address';
  return null;
}

/** The eight 16-bit words of an IPv6 address (no zone suffix). */
function expandIPv6(ip: string): number[] {
  let text = ip;
  // A dotted IPv4 tail is two words.
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (tail) {
    const [a, b, c, d] = tail.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = rest === undefined || rest === '' ? [] : rest.split(':');
  const fill = rest === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((w) => Number.parseInt(w, 16));
}

function hostPortList(flag: string, list: string): HostPort[] {
  const out = list
    .split(',')
    .filter((s) => s !== '')
    .map((text) => upstreamHostPort(flag, text));
  if (out.length === 0) throw new ConfigError(`--${flag}`, 'needs at least one IP[:PORT]');
  return out;
}

/** This machine's interface addresses: a wildcard listener answers on every one of them. */
function interfaceAddresses(): ReadonlySet<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(a.address);
  return out;
}

/**
 * Whether sending to `to` would reach one of our own listeners (a loop, never a forward): the
 * same address and port, or a loopback or local interface address behind a wildcard listener
 * (`0.0.0.0:53` also answers on the pod's own IP, which a resolv.conf may name).
 */
export function isOwnListener(to: HostPort, listen: readonly HostPort[], local: ReadonlySet<string> = interfaceAddresses()): boolean {
  const v6 = isIPv6(to.host);
  const loopback = to.host.startsWith('127.') || to.host === '::1';
  const ours = loopback || local.has(to.host);
  return listen.some(
    (l) =>
      l.port === to.port &&
      (l.host === to.host || (l.host === '0.0.0.0' && !v6 && ours) || ((l.host === '' || l.host === '::') && ours)),
  );
}

/** Node search domains autopath tries at most (glibc's classic limit): each may cost an upstream query. */
const MAX_AUTOPATH_SEARCH = 6;

function forwardConfig(
  values: {
    'resolv-conf'?: string | undefined;
    'upstream-policy'?: string | undefined;
    'stub-domain'?: string[] | undefined;
    'force-tcp'?: boolean | undefined;
    'forward-timeout'?: string | undefined;
    'max-fails'?: string | undefined;
    'max-concurrent'?: string | undefined;
    'cache-size'?: string | undefined;
    'cache-success-ttl'?: string | undefined;
    'cache-denial-ttl'?: string | undefined;
    'cache-denial-size'?: string | undefined;
    'cache-servfail-ttl'?: string | undefined;
    'serve-stale'?: string | undefined;
    autopath?: boolean | undefined;
  },
  upstream: readonly HostPort[],
  listen: readonly HostPort[],
  zone: string,
  readText: (path: string) => string,
): ForwardConfig {
  const resolvPath = values['resolv-conf'] ?? '/etc/resolv.conf';
  let resolv: ResolvConf | null = null;
  // Read only when something needs it: the default upstreams, or autopath's search list.
  const resolvConf = (): ResolvConf => {
    if (resolv) return resolv;
    let text: string;
    try {
      text = readText(resolvPath);
    } catch (err) {
      // No resolv.conf (a bare container) only means no default upstreams; one given on purpose must exist.
      if (values['resolv-conf'] !== undefined) throw new ConfigError('--resolv-conf', `cannot read ${resolvPath}: ${(err as Error).message.split('\n')[0]}`);
      text = '';
    }
    resolv = parseResolvConf(text);
    return resolv;
  };
  let upstreams = upstream;
  let upstreamsFrom = '--upstream';
  if (upstreams.length === 0) {
    // Nameservers that cannot be asked (0.0.0.0, broadcast, multicast) are left out, as link-local ones are.
    upstreams = resolvConf()
      .nameservers.filter((ip) => unaskableAddress(ip) === null)
      .map((ip) => ({ host: ip, port: 53 }));
    upstreamsFrom = resolvPath;
  }
  const local = interfaceAddresses();
  const own = upstreams.filter((u) => isOwnListener(u, listen, local));
  upstreams = upstreams.filter((u) => !isOwnListener(u, listen, local));
  if (own.length > 0 && upstreamsFrom === '--upstream') {
    throw new ConfigError('--upstream', `${own.map((u) => `${u.host}:${u.port}`).join(', ')} is one of our own --listen addresses: that would be a forwarding loop`);
  }
  const stubDomains = (values['stub-domain'] ?? []).map((text) => {
    const eq = text.indexOf('=');
    if (eq <= 0) throw new ConfigError('--stub-domain', `expected DOMAIN=IP[:PORT][,IP[:PORT]...] (got "${text}")`);
    const domain = text.slice(0, eq).toLowerCase().replace(/\.$/, '');
    if (!/^([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/.test(domain)) {
      throw new ConfigError('--stub-domain', `"${text.slice(0, eq)}" is not a domain name`);
    }
    if (domain === zone || domain.endsWith(`.${zone}`)) {
      throw new ConfigError('--stub-domain', `${domain} is inside the cluster zone ${zone}: its names are answered from the cluster, never forwarded`);
    }
    const list = hostPortList('stub-domain', text.slice(eq + 1));
    const loop = list.find((u) => isOwnListener(u, listen, local));
    if (loop) throw new ConfigError('--stub-domain', `${loop.host}:${loop.port} is one of our own --listen addresses`);
    return { domain, upstreams: list };
  });
  const serveStale = values['serve-stale'] === undefined ? 3_600_000 : parseLongDuration('--serve-stale', values['serve-stale']);
  const cacheSize = values['cache-size'] === undefined ? 10_000 : integer('--cache-size', values['cache-size'], 0, 10_000_000);
  return {
    upstreams,
    upstreamsFrom,
    stubDomains,
    policy: oneOf('--upstream-policy', values['upstream-policy'], UPSTREAM_POLICIES, 'random'),
    forceTcp: values['force-tcp'] ?? false,
    timeoutMs: values['forward-timeout'] === undefined ? 5_000 : forwardTimeout(values['forward-timeout']),
    maxFails: values['max-fails'] === undefined ? 2 : integer('--max-fails', values['max-fails'], 0, 100),
    maxConcurrent: values['max-concurrent'] === undefined ? 1000 : integer('--max-concurrent', values['max-concurrent'], 1, 100_000),
    cacheSize,
    cacheSuccessTtl: values['cache-success-ttl'] === undefined ? 3600 : integer('--cache-success-ttl', values['cache-success-ttl'], 1, 604_800),
    cacheDenialTtl: values['cache-denial-ttl'] === undefined ? 30 : integer('--cache-denial-ttl', values['cache-denial-ttl'], 1, 86_400),
    cacheDenialSize: values['cache-denial-size'] === undefined ? cacheSize : integer('--cache-denial-size', values['cache-denial-size'], 0, 10_000_000),
    cacheServfailTtl: values['cache-servfail-ttl'] === undefined ? 5 : integer('--cache-servfail-ttl', values['cache-servfail-ttl'], 0, 300),
    serveStaleMs: serveStale,
    autopath: values.autopath ?? false,
    autopathSearch: values.autopath ? resolvConf().search.filter((d) => d !== zone && !d.endsWith(`.${zone}`)).slice(0, MAX_AUTOPATH_SEARCH) : [],
  };
}

/** --forward-timeout: 100ms to 60s. */
function forwardTimeout(text: string): number {
  const ms = parseDuration('--forward-timeout', text);
  if (ms < 100 || ms > 60_000) throw new ConfigError('--forward-timeout', `must be from 100ms to 60s, e.g. 5s or 1500ms (got "${text}")`);
  return ms;
}

/** Like parseDuration, up to a week, with `h` too: `1h`, `30m`, `0`. */
function parseLongDuration(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  const unit = m?.[2] === 'ms' ? 1 : m?.[2] === 'm' ? 60_000 : m?.[2] === 'h' ? 3_600_000 : 1000;
  const ms = m ? Math.round(Number(m[1]) * unit) : Number.NaN;
  if (!Number.isFinite(ms) || ms > 7 * 86_400_000) throw new ConfigError(flag, `must be a duration up to 168h such as 1h, 30m or 0 (got "${text}")`);
  return ms;
}

/** `262144`, `256Ki`, `4Mi`, `1Gi`: a byte count within [min, max]. */
function bytes(flag: string, text: string, min: number, max: number): number {
  const value = parseBytes(text);
  if (!(value >= min && value <= max)) throw new ConfigError(flag, `must be a size from ${min} to ${max} bytes, e.g. 262144, 256Ki, 4Mi or 1Gi (got "${text}")`);
  return value;
}

function snapshotConfig(
  values: { snapshot?: string | undefined; 'snapshot-interval'?: string | undefined; 'snapshot-max-age'?: string | undefined; 'snapshot-max-size'?: string | undefined },
  source: Source | null,
  fileExists: (path: string) => boolean,
): Config['snapshot'] {
  const path = values.snapshot;
  const interval = values['snapshot-interval'];
  if (path === undefined) {
    for (const flag of ['snapshot-interval', 'snapshot-max-age', 'snapshot-max-size'] as const) {
      if (values[flag] !== undefined) throw new ConfigError(`--${flag}`, 'needs --snapshot PATH');
    }
    return null;
  }
  if (source?.kind !== 'kubernetes') {
    throw new ConfigError('--snapshot', 'needs a live cluster (--kubeconfig, $KUBECONFIG or in-cluster): manifests are their own snapshot');
  }
  if (path === '' || path.endsWith('/')) throw new ConfigError('--snapshot', `must name a file (got "${path}")`);
  const folder = dirname(path);
  if (!fileExists(folder)) throw new ConfigError('--snapshot', `no such folder: ${folder}`);
  const intervalMs = interval === undefined ? 60_000 : parseDuration('--snapshot-interval', interval);
  if (intervalMs < 1000) throw new ConfigError('--snapshot-interval', `must be at least 1s (got "${interval}")`);
  const age = values['snapshot-max-age'];
  const maxAgeMs = age === undefined ? DEFAULT_SNAPSHOT_MAX_AGE_MS : parseLongDuration('--snapshot-max-age', age);
  if (maxAgeMs < 60_000) throw new ConfigError('--snapshot-max-age', `must be at least 1m (got "${age}")`);
  const size = values['snapshot-max-size'];
  const maxBytes = size === undefined ? DEFAULT_SNAPSHOT_MAX_BYTES : bytes('--snapshot-max-size', size, 1024 * 1024, 16 * 1024 ** 3);
  return { path, intervalMs, maxAgeMs, maxBytes };
}

/**
 * `127.0.0.1:53`, `[::1]:53`, `:53` (all IPv4 interfaces). Host names are refused: bind to addresses.
 * Ports are 1-65535; `listening` (an address we bind) also takes 0: any free port, which the
 * `serving` line names (what the tests use).
 */
export function parseHostPort(flag: string, text: string, defaultPort?: number, listening = false): HostPort {
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1] ?? '';
    portText = bracketed[2];
  } else if (isIP(text) === 6) {
    host = text; // a bare IPv6 address: no port
  } else {
    const colon = text.lastIndexOf(':');
    host = colon < 0 ? text : text.slice(0, colon);
    portText = colon < 0 ? undefined : text.slice(colon + 1);
  }
  if (host === '') host = '0.0.0.0';
  if (isIP(host) === 0) throw new ConfigError(`--${flag}`, `"${text}" is not IP:PORT (an IP address is needed, e.g. 127.0.0.1:53 or [::1]:53)`);
  if (portText === undefined) {
    if (defaultPort === undefined) throw new ConfigError(`--${flag}`, `"${text}" has no port (e.g. ${host}:53)`);
    return { host, port: defaultPort };
  }
  const port = integer(`--${flag}`, portText, listening ? 0 : 1, 65535, `"${text}": the port`);
  return { host, port };
}

/** `127.0.0.1:53`, `[::1]:53`: as the flags take it. */
export function formatHostPort({ host, port }: HostPort): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

function integer(flag: string, text: string, min: number, max: number, subject = ''): number {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(value) || value < min || value > max) {
    const what = subject ? `${subject} must be` : 'must be';
    throw new ConfigError(flag, `${what} an integer from ${min} to ${max} (got "${text}")`);
  }
  return value;
}

/** `5`, `5s`, `1.5s`, `500ms`, `1m`: a duration in milliseconds, 0 to 10 minutes. */
export function parseDuration(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  const unit = m?.[2] === 'ms' ? 1 : m?.[2] === 'm' ? 60_000 : 1000;
  const ms = m ? Math.round(Number(m[1]) * unit) : Number.NaN;
  if (!Number.isFinite(ms) || ms > 600_000) {
    throw new ConfigError(flag, `must be a duration from 0 to 10m such as 5s, 500ms or 5 (seconds) (got "${text}")`);
  }
  return ms;
}

/** `200us`, `200µs`, `1ms`, `0`: a short duration in whole microseconds, 0 to `max`. A unit is required (but for 0). */
function parseMicroseconds(flag: string, text: string, max: number): number {
  const m = /^(\d+(?:\.\d+)?)(us|µs|ms)$|^0$/.exec(text.trim());
  const us = m === null ? Number.NaN : m[1] === undefined ? 0 : Math.round(Number(m[1]) * (m[2] === 'ms' ? 1000 : 1));
  if (!Number.isFinite(us) || us > max) {
    throw new ConfigError(flag, `must be a duration from 0 to ${max / 1000}ms such as 200us or 1ms, or 0 for off (got "${text}")`);
  }
  return us;
}

function fraction(flag: string, text: string): number {
  const value = /^(0|1|0?\.\d+|1\.0*)$/.test(text) ? Number(text) : Number.NaN;
  if (!(value > 0 && value <= 1)) throw new ConfigError(flag, `must be a number above 0 and at most 1, e.g. 0.01 (got "${text}")`);
  return value;
}

function optionalEndpoint(flag: string, text: string | undefined, fallback: string): HostPort | null {
  const value = text ?? fallback;
  return value === 'off' ? null : parseHostPort(flag, value, undefined, true);
}

/**
 * --debug-endpoints shows index objects that DNS answers do not reveal, so it is served on
 * loopback only, as CoreDNS's pprof is by default (`kubectl port-forward` reaches it).
 */
function loopbackEndpoint(flag: string, text: string | undefined): HostPort | null {
  if (text === undefined || text === 'off') return null;
  const at = parseHostPort(flag, text, undefined, true);
  if (!at.host.startsWith('127.') && at.host !== '::1') {
    throw new ConfigError(`--${flag}`, `"${text}" is not a loopback address: use 127.0.0.1:PORT or [::1]:PORT and kubectl port-forward`);
  }
  return at;
}

function oneOf<T extends string>(flag: string, text: string | undefined, allowed: readonly T[], fallback: T): T {
  if (text === undefined) return fallback;
  if ((allowed as readonly string[]).includes(text)) return text as T;
  throw new ConfigError(flag, `must be one of ${allowed.join(', ')} (got "${text}")`);
}

/** A cluster domain: lower-case, no trailing dot, valid labels. */
function zoneName(text: string): string {
  const zone = text.toLowerCase().replace(/\.$/, '');
  const label = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
  if (zone === '' || zone.length > 253 || !zone.split('.').every((l) => label.test(l))) {
    throw new ConfigError('--zone', `"${text}" is not a domain name (e.g. cluster.local)`);
  }
  return zone;
}

function noSource(): never {
  throw new ConfigError(
    'cluster source',
    `none found (looked for --manifests, --kubeconfig, $KUBECONFIG and the service account token ${IN_CLUSTER_TOKEN}); for the example cluster give --manifests examples/cluster.yaml`,
  );
}

export interface Environment {
  readonly KUBECONFIG?: string | undefined;
}

export function parseConfig(
  argv: readonly string[],
  env: Environment = process.env,
  fileExists: (path: string) => boolean = existsSync,
  readText: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): ParseResult {
  let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true; allowPositionals: false }>>['values'];
  try {
    ({ values } = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    // node:util's messages name the flag; keep them to one line.
    const message = (err as Error).message.split('\n')[0] ?? 'invalid arguments';
    // "Option '-h, --help' …" names the short form first; the long one is the flag users know.
    const named = /'(-{1,2}[\w-]+)(?:, (--[\w-]+))?/.exec(message);
    const flag = named?.[2] ?? named?.[1] ?? 'arguments';
    if (/argument is ambiguous/.test(message)) {
      // `--ttl -5`: node:util will not take a value that starts with a dash.
      const at = argv.indexOf(flag);
      const value = at < 0 ? '' : (argv[at + 1] ?? '');
      throw new ConfigError(flag, `the value ${JSON.stringify(value)} starts with "-" (write ${flag}=${value} if you mean it)`);
    }
    throw new ConfigError(flag, message.replace(/^Unknown option '[^']+'/, 'unknown flag').replace(/\. To specify.*$/, ''));
  }
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };

  if (values.kubeconfig !== undefined && values.manifests !== undefined) {
    throw new ConfigError('--manifests', 'cannot be combined with --kubeconfig: choose one cluster source');
  }
  // None found is refused once every flag has been checked: a pod without its service account
  // token must not come up serving no cluster (or, as before, the example) and say it is ready.
  let source: Source | null = null;
  const manifestsMax = values['manifests-max-size'];
  const maxBytes = manifestsMax === undefined ? DEFAULT_MANIFESTS_MAX_BYTES : bytes('--manifests-max-size', manifestsMax, 1024, 16 * 1024 ** 3);
  if (values.manifests !== undefined) {
    if (!fileExists(values.manifests)) throw new ConfigError('--manifests', `no such file or folder: ${values.manifests}`);
    source = { kind: 'manifests', path: values.manifests, maxBytes };
  } else if (values.kubeconfig !== undefined) {
    if (!fileExists(values.kubeconfig)) throw new ConfigError('--kubeconfig', `no such file: ${values.kubeconfig}`);
    source = { kind: 'kubernetes', kubeconfig: values.kubeconfig };
  } else if (env.KUBECONFIG || fileExists(IN_CLUSTER_TOKEN)) {
    source = { kind: 'kubernetes', kubeconfig: null };
  }
  if (manifestsMax !== undefined && source?.kind !== 'manifests') throw new ConfigError('--manifests-max-size', 'needs --manifests PATH');

  const listen = (values.listen ?? ['0.0.0.0:53']).map((text) => parseHostPort('listen', text, undefined, true));
  const upstream = (values.upstream ?? []).flatMap((list) => hostPortList('upstream', list));
  const zone = zoneName(values.zone ?? 'cluster.local');
  const forward = forwardConfig(values, upstream, listen, zone, readText);
  const tcpMaxConnections = values['tcp-max-conns'] === undefined ? 1000 : integer('--tcp-max-conns', values['tcp-max-conns'], 1, 1_000_000);

  return {
    kind: 'run',
    config: Object.freeze({
      listen,
      zone,
      ttl: values.ttl === undefined ? 5 : integer('--ttl', values.ttl, 0, 3600),
      pods: oneOf('--pods', values.pods, POD_MODES, 'verified'),
      upstream: forward.upstreams,
      forward,
      metrics: optionalEndpoint('metrics', values.metrics, ':9153'),
      health: optionalEndpoint('health', values.health, ':8080'),
      ready: optionalEndpoint('ready', values.ready, ':8181'),
      debugEndpoints: loopbackEndpoint('debug-endpoints', values['debug-endpoints']),
      logLevel: oneOf('--log-level', values['log-level'], LOG_LEVELS, 'info'),
      logFormat: oneOf('--log-format', values['log-format'], LOG_FORMATS, 'json'),
      maxUdpSize:
        values['max-udp-size'] === undefined ? DEFAULT_MAX_UDP_SIZE : integer('--max-udp-size', values['max-udp-size'], 512, 65535),
      tcpIdleTimeoutMs:
        values['tcp-idle-timeout'] === undefined ? 10_000 : integer('--tcp-idle-timeout', values['tcp-idle-timeout'], 1, 3600) * 1000,
      tcpMaxConnections,
      tcpMaxConnectionsPerClient:
        values['tcp-max-conns-per-client'] === undefined
          ? defaultPerClient(tcpMaxConnections)
          : integer('--tcp-max-conns-per-client', values['tcp-max-conns-per-client'], 1, 1_000_000),
      udpReceiveBuffer: values['udp-recv-buffer'] === undefined ? DEFAULT_UDP_RECEIVE_BUFFER : bytes('--udp-recv-buffer', values['udp-recv-buffer'], 65_536, 64 * 1024 * 1024),
      busyPollUs: values['busy-poll'] === undefined ? 0 : parseMicroseconds('--busy-poll', values['busy-poll'], MAX_BUSY_POLL_US),
      udpIo: oneOf('--udp-io', values['udp-io'], UDP_IO_VALUES, 'auto'),
      lameduckMs: values.lameduck === undefined ? 5000 : parseDuration('--lameduck', values.lameduck),
      logQueries: values['log-queries'] ?? false,
      logQueriesSample: values['log-queries-sample'] === undefined ? 1 : fraction('--log-queries-sample', values['log-queries-sample']),
      workers: values.workers === undefined ? 1 : integer('--workers', values.workers, 1, 64),
      snapshot: snapshotConfig(values, source, fileExists),
      memoryLimit: values['memory-limit'] === undefined ? null : bytes('--memory-limit', values['memory-limit'], 64 * 1024 * 1024, 1024 ** 4),
      // Last, so that every flag is checked first.
      source: source ?? noSource(),
    }),
  };
}
