// Names outside the cluster zone: where they are forwarded (FORWARD_OPTIONS), and what is kept of
// the answers (CACHE_OPTIONS). forwardOptions() is this part's setup: the default upstreams come
// from resolv.conf, and neither they nor a stub domain may be one of our own listeners.
import { networkInterfaces } from 'node:os';
import { isIPv6 } from 'node:net';
import { unaskableAddress, type HostPort } from '../base/address.ts';
import {
  anyText,
  ConfigError,
  hostPortNamed,
  integer,
  integerIn,
  oneOf,
  optionTable,
  parseDuration,
  parseLongDuration,
  switchOption,
  type OptionValues,
} from '../base/options.ts';
import { parseResolvConf, type ResolvConf } from './resolvconf.ts';

export type UpstreamPolicy = 'random' | 'round_robin' | 'sequential';
export const UPSTREAM_POLICIES: readonly UpstreamPolicy[] = ['random', 'round_robin', 'sequential'];

export interface StubDomain {
  readonly domain: string;
  readonly upstreams: readonly HostPort[];
  /** Its own --upstream-policy, --force-tcp, --max-fails (a Corefile stub block's forward options); absent: the default upstreams'. */
  readonly policy?: UpstreamPolicy;
  readonly forceTcp?: boolean;
  readonly maxFails?: number;
  readonly healthCheckMs?: number;
}

/** An upstream that can be asked: an address of one host (not 0.0.0.0, broadcast or multicast); port 0 is refused. */
function upstreamHostPort(name: string, text: string): HostPort {
  const hp = hostPortNamed(name, text, 53);
  const why = unaskableAddress(hp.host);
  if (why !== null) throw new ConfigError(name, `"${text}": ${hp.host} is ${why}, not a resolver's address`);
  return hp;
}

function hostPortList(text: string, name: string): readonly HostPort[] {
  const out = text
    .split(',')
    .filter((s) => s !== '')
    .map((t) => upstreamHostPort(name, t));
  if (out.length === 0) throw new ConfigError(name, 'needs at least one IP[:PORT]');
  return out;
}

/**
 * `DOMAIN=IP[:PORT][,IP[:PORT]...][;policy=P][;force-tcp][;max-fails=N]`; the checks against the
 * zone and our listeners are forwardOptions'.
 */
function stubDomain(text: string, name: string): readonly StubDomain[] {
  const [target = '', ...options] = text.split(';');
  const eq = target.indexOf('=');
  if (eq <= 0) throw new ConfigError(name, `expected DOMAIN=IP[:PORT][,IP[:PORT]...] (got "${text}")`);
  const domain = target.slice(0, eq).toLowerCase().replace(/\.$/, '');
  if (!/^([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/.test(domain)) {
    throw new ConfigError(name, `"${target.slice(0, eq)}" is not a domain name`);
  }
  let stub: StubDomain = { domain, upstreams: hostPortList(target.slice(eq + 1), name) };
  for (const option of options) {
    const [key, value] = option.split('=', 2);
    if (key === 'policy' && (UPSTREAM_POLICIES as readonly string[]).includes(value ?? ''))
      stub = { ...stub, policy: value as UpstreamPolicy };
    else if (key === 'force-tcp' && value === undefined) stub = { ...stub, forceTcp: true };
    else if (key === 'max-fails' && value !== undefined) stub = { ...stub, maxFails: integer(name, value, 0, 100, 'max-fails') };
    else if (key === 'health-check' && value !== undefined) stub = { ...stub, healthCheckMs: parseDuration(name, value) };
    else
      throw new ConfigError(
        name,
        `"${option}" is not a stub domain option (policy=${UPSTREAM_POLICIES.join('|')}, force-tcp, max-fails=N, health-check=DURATION)`,
      );
  }
  return [stub];
}

/** `corp.example` or `a.example,b.example`: domains, lower-case, no trailing dot. */
function domainList(text: string, name: string): readonly string[] {
  return text.split(',').map((d) => {
    const domain = d.trim().toLowerCase().replace(/\.$/, '');
    if (!/^([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/.test(domain)) {
      throw new ConfigError(name, `"${d}" is not a domain name`);
    }
    return domain;
  });
}

/** A duration from `min` to `max` ms, `range` saying so in the error. */
const durationIn =
  (min: number, max: number, range: string) =>
  (text: string, name: string): number => {
    const ms = parseDuration(name, text);
    if (ms < min || ms > max) throw new ConfigError(name, `must be from ${range} (got "${text}")`);
    return ms;
  };

/** --forward-timeout: 100ms to 60s. */
function forwardTimeout(text: string, name: string): number {
  const ms = parseDuration(name, text);
  if (ms < 100 || ms > 60_000) throw new ConfigError(name, `must be from 100ms to 60s, e.g. 5s or 1500ms (got "${text}")`);
  return ms;
}

export const FORWARD_OPTIONS = optionTable({
  upstream: {
    flag: 'upstream',
    group: 'forward',
    arg: 'IP[:PORT],…',
    repeatable: true,
    default: { value: [] as readonly HostPort[], text: 'the nameservers of --resolv-conf', doc: 'the nameservers of `--resolv-conf`' },
    parse: hostPortList,
    help: 'upstream resolvers for names outside the zone',
    doc: 'resolvers for names outside the cluster zone (our own `--listen` addresses are refused: a loop)',
  },
  resolvConf: {
    flag: 'resolv-conf',
    group: 'forward',
    arg: 'PATH',
    default: '/etc/resolv.conf',
    parse: anyText,
    help: 'where the default upstreams come from',
    doc: 'where the default upstreams come from (a missing default file means no upstreams: such names get REFUSED; link-local `fe80::…%if` nameservers and our own addresses are skipped)',
  },
  policy: {
    flag: 'upstream-policy',
    group: 'forward',
    arg: 'P',
    default: 'random',
    parse: oneOf(UPSTREAM_POLICIES),
    help: UPSTREAM_POLICIES.join(' | '),
    doc: '`random`, `round_robin` or `sequential`',
  },
  stubDomains: {
    flag: 'stub-domain',
    group: 'forward',
    arg: 'D=IP[:PORT],…',
    repeatable: true,
    default: { value: [] as readonly StubDomain[], text: '' },
    parse: stubDomain,
    help: 'names under D go to these upstreams instead; repeatable, longest match wins; ;policy=P ;force-tcp ;max-fails=N ;health-check=D give it its own',
    doc: "names under `D` go to these upstreams (kube-dns's stubDomains); repeatable, the longest matching domain wins; `;policy=P`, `;force-tcp`, `;max-fails=N`, `;health-check=DURATION` after the list give it its own (a Corefile stub block's `forward` options)",
  },
  forwardExcept: {
    flag: 'forward-except',
    group: 'forward',
    arg: 'DOMAIN',
    repeatable: true,
    default: { value: [] as readonly string[], text: '' },
    parse: domainList,
    help: 'names under DOMAIN never go to the default upstreams (SERVFAIL unless a stub domain takes them); repeatable',
    doc: "names under `DOMAIN` never go to the default upstreams: SERVFAIL, unless a `--stub-domain` takes them (CoreDNS's `forward { except }`); repeatable, or `D,D`",
  },
  forceTcp: switchOption({
    flag: 'force-tcp',
    group: 'forward',
    help: 'ask upstreams over TCP only',
    doc: 'ask upstreams over TCP only (connections are kept and pipelined)',
  }),
  timeoutMs: {
    flag: 'forward-timeout',
    group: 'forward',
    arg: 'DURATION',
    default: '5s',
    parse: forwardTimeout,
    help: "how long an upstream question may take, retransmits included (CoreDNS's budget), 100ms-60s; past it SERVFAIL, or a stale answer",
    doc: "how long one upstream question may take, retransmits included (CoreDNS's budget), `100ms` to `60s`; past it SERVFAIL, or a stale answer",
  },
  healthCheckMs: {
    flag: 'forward-health-check',
    group: 'forward',
    arg: 'DURATION',
    default: '500ms',
    parse: durationIn(100, 600_000, '100ms to 10m'),
    help: "how often a failing upstream is probed (CoreDNS forward's health_check), 100ms-10m",
    doc: "how often an upstream that failed is probed (`. IN NS`), doubling while it stays down (CoreDNS forward's `health_check`), `100ms` to `10m`",
  },
  expireMs: {
    flag: 'forward-expire',
    group: 'forward',
    arg: 'DURATION',
    default: '10s',
    parse: durationIn(1_000, 3_600_000, '1s to 1h'),
    help: "kept TCP connections to upstreams close after this long idle (CoreDNS forward's expire), 1s-1h",
    doc: "kept TCP connections to upstreams close after this long idle (CoreDNS forward's `expire`), `1s` to `1h`",
  },
  maxFails: {
    flag: 'max-fails',
    group: 'forward',
    arg: 'N',
    default: '2',
    parse: integerIn(0, 100),
    help: 'failed health probes (". IN NS") in a row that mark an upstream down, 0-100; 0: never down, no probes',
    doc: "failed health probes (`. IN NS`) in a row that mark an upstream down (CoreDNS forward's `max_fails`), 0-100; `0`: never down, no probes",
  },
  maxConcurrent: {
    flag: 'max-concurrent',
    group: 'forward',
    arg: 'N',
    default: '1000',
    parse: integerIn(1, 100_000),
    help: 'most upstream queries in flight, each client a fair share; more get REFUSED',
    doc: 'distinct upstream queries in flight, each client address a fair share; more are REFUSED and counted',
  },
  autopath: switchOption({
    flag: 'autopath',
    group: 'forward',
    help: "answer a pod's first search-path expansion with the first name that exists (CNAME); after the cluster's search domains it tries those of --resolv-conf",
    doc: "resolve a pod's whole search list (the cluster's, then the search domains of `--resolv-conf`) on its first expansion and answer with a CNAME (see below)",
  }),
});

export const CACHE_OPTIONS = optionTable({
  cacheSize: {
    flag: 'cache-size',
    group: 'cache',
    arg: 'N',
    default: '10000',
    parse: integerIn(0, 10_000_000),
    help: 'upstream answers kept, in entries; 0 turns the cache off',
    doc: "upstream answers kept, in entries (CoreDNS's `success` capacity); with no `--cache-denial-size`, also the denial cache's; `0` turns the cache off",
  },
  cacheSuccessTtl: {
    flag: 'cache-success-ttl',
    group: 'cache',
    arg: 'SEC',
    default: '3600',
    parse: integerIn(1, 604_800),
    help: 'longest an upstream answer is kept',
    doc: 'longest an answer is kept, and the most any TTL of a forwarded answer says',
  },
  cacheDenialTtl: {
    flag: 'cache-denial-ttl',
    group: 'cache',
    arg: 'SEC',
    default: '30',
    parse: integerIn(1, 86_400),
    help: 'longest an NXDOMAIN/NODATA is kept',
    doc: "longest an NXDOMAIN or NODATA is kept (RFC 2308: the SOA's minimum, capped), and the most its TTLs say when served",
  },
  /** null: as big as the success cache (forwardOptions). */
  cacheDenialSize: {
    flag: 'cache-denial-size',
    group: 'cache',
    arg: 'N',
    default: { value: null, text: '--cache-size', doc: '`--cache-size`' },
    parse: integerIn(0, 10_000_000) as (text: string, name: string) => number | null,
    help: 'NXDOMAIN/NODATA kept, in entries, apart from the answers',
    doc: "NXDOMAIN and NODATA kept, in entries, in a cache of their own (CoreDNS's `denial` capacity); `0` keeps none",
  },
  cacheServfailTtl: {
    flag: 'cache-servfail-ttl',
    group: 'cache',
    arg: 'SEC',
    default: '5',
    parse: integerIn(0, 300),
    help: 'a name whose resolution failed gets SERVFAIL this long, not asked again; 0-300',
    doc: "a name whose resolution failed (SERVFAIL, or no usable answer) is answered SERVFAIL, or stale, this long without asking upstream again (RFC 9520; CoreDNS's `servfail`); `0`-`300`, `0` off",
  },
  cachePrefetch: {
    flag: 'cache-prefetch',
    group: 'cache',
    arg: 'N',
    default: '3',
    parse: integerIn(0, 1_000_000),
    help: 'an answer hit N times is refreshed from upstream before it expires; 0 never',
    doc: "an answer hit `N` times is refreshed from upstream in the background before it expires, once its TTL is in the last `--cache-prefetch-percent` (CoreDNS's `prefetch`; answers of TTL under 10 s never); `0` never",
  },
  cachePrefetchPercent: {
    flag: 'cache-prefetch-percent',
    group: 'cache',
    arg: 'PCT',
    default: '10',
    parse: integerIn(10, 90),
    help: 'with --cache-prefetch, refresh in the last PCT % of the TTL; 10-90',
    doc: 'with `--cache-prefetch`, the refresh starts in the last `PCT` % of the TTL; `10`-`90`',
  },
  serveStaleMs: {
    flag: 'serve-stale',
    group: 'cache',
    arg: 'DURATION',
    default: '1h',
    parse: (text: string, name: string) => parseLongDuration(name, text),
    help: 'how long past expiry an answer may be served while every upstream fails; 0 off',
    doc: 'while every upstream fails, answers up to this long past expiry are served with TTL 30 (RFC 8767); `0` off',
  },
});

export interface ForwardConfig
  extends Omit<OptionValues<typeof FORWARD_OPTIONS>, 'upstream' | 'resolvConf'>,
    Omit<OptionValues<typeof CACHE_OPTIONS>, 'cacheDenialSize'> {
  /** Default upstreams: --upstream, else the nameservers of --resolv-conf; never our own listeners. */
  readonly upstreams: readonly HostPort[];
  /** Where the default upstreams came from, for the start-up log. */
  readonly upstreamsFrom: string;
  /** Entries of the denial cache (NXDOMAIN, NODATA): --cache-denial-size, else --cache-size. */
  readonly cacheDenialSize: number;
  /**
   * With --autopath: the search domains of --resolv-conf, tried after the cluster's own (CoreDNS's
   * `autopath @kubernetes` does the same: the kubelet gives pods the node's search list too).
   */
  readonly autopathSearch: readonly string[];
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
      l.port === to.port && (l.host === to.host || (l.host === '0.0.0.0' && !v6 && ours) || ((l.host === '' || l.host === '::') && ours)),
  );
}

/** Node search domains autopath tries at most (glibc's classic limit): each may cost an upstream query. */
const MAX_AUTOPATH_SEARCH = 6;

export interface ForwardContext {
  readonly listen: readonly HostPort[];
  readonly zone: string;
  /** Whether resolv-conf was given (a given file must exist; the default may be missing). */
  readonly resolvConfGiven: boolean;
  readonly readText: (path: string) => string;
  /** This machine's addresses (tests pass their own). */
  readonly local?: ReadonlySet<string>;
  /** How an error names an option: `--upstream`, or where another source set it. */
  readonly nameOf?: (flag: string) => string;
}

export function forwardOptions(
  forward: OptionValues<typeof FORWARD_OPTIONS>,
  cache: OptionValues<typeof CACHE_OPTIONS>,
  context: ForwardContext,
): ForwardConfig {
  const { listen, zone, readText, nameOf = (flag: string) => `--${flag}` } = context;
  const { upstream, resolvConf: resolvPath, ...rest } = forward;
  let resolv: ResolvConf | null = null;
  // Read only when something needs it: the default upstreams, or autopath's search list.
  const resolvConf = (): ResolvConf => {
    if (resolv) return resolv;
    let text: string;
    try {
      text = readText(resolvPath);
    } catch (err) {
      // No resolv.conf (a bare container) only means no default upstreams; one given on purpose must exist.
      if (context.resolvConfGiven)
        throw new ConfigError(nameOf('resolv-conf'), `cannot read ${resolvPath}: ${(err as Error).message.split('\n')[0]}`);
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
  const local = context.local ?? interfaceAddresses();
  const own = upstreams.filter((u) => isOwnListener(u, listen, local));
  upstreams = upstreams.filter((u) => !isOwnListener(u, listen, local));
  if (own.length > 0 && upstreamsFrom === '--upstream') {
    throw new ConfigError(
      nameOf('upstream'),
      `${own.map((u) => `${u.host}:${u.port}`).join(', ')} is one of our own --listen addresses: that would be a forwarding loop`,
    );
  }
  for (const { domain, upstreams: list } of forward.stubDomains) {
    if (domain === zone || domain.endsWith(`.${zone}`)) {
      throw new ConfigError(
        nameOf('stub-domain'),
        `${domain} is inside the cluster zone ${zone}: its names are answered from the cluster, never forwarded`,
      );
    }
    const loop = list.find((u) => isOwnListener(u, listen, local));
    if (loop) throw new ConfigError(nameOf('stub-domain'), `${loop.host}:${loop.port} is one of our own --listen addresses`);
  }
  return {
    ...rest,
    ...cache,
    upstreams,
    upstreamsFrom,
    cacheDenialSize: cache.cacheDenialSize ?? cache.cacheSize,
    autopathSearch: forward.autopath
      ? resolvConf()
          .search.filter((d) => d !== zone && !d.endsWith(`.${zone}`))
          .slice(0, MAX_AUTOPATH_SEARCH)
      : [],
  };
}
