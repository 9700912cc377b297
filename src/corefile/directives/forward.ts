// `forward FROM TO… { … }` as CoreDNS's plugin/forward setup reads it, with its defaults. A TO
// that is not an address is a resolv.conf-style file (CoreDNS's parse.HostPortOrFile): its
// existence is checked here, its nameservers are read by whoever applies the plan.
import { posix } from 'node:path';
import type { Directive } from '../parse.ts';
import { argCount, duration, fail, flat, integer, isIPv4, isIPv6, lines, unknownProperty, zoneList, zonesOf, type Site } from './args.ts';
import type { BlockContext } from './context.ts';

export type ForwardPolicy = 'random' | 'round_robin' | 'sequential';

export type ForwardTarget =
  | { readonly kind: 'address'; readonly transport: 'dns' | 'tls'; readonly host: string; readonly port: number }
  | { readonly kind: 'resolv-conf' /** Absolute. */; readonly path: string };

export interface ForwardSettings {
  /** The zone forwarded ("." everything); a CIDR is its first reverse zone, as in CoreDNS. */
  readonly from: string;
  readonly to: readonly ForwardTarget[];
  /** Names under these zones are not forwarded. */
  readonly except: readonly string[];
  readonly forceTcp: boolean;
  readonly preferUdp: boolean;
  /** Idle upstream connections are closed after this (CoreDNS 10 s). */
  readonly expireMs: number;
  /** Failed health checks in a row that mark an upstream down; 0 never (CoreDNS 2). */
  readonly maxFails: number;
  /** `tls [CERT KEY] [CA]`: files for DNS over TLS; null for the system's roots. */
  readonly tls: { readonly cert: string | null; readonly key: string | null; readonly ca: string | null } | null;
  /** The name a tls:// upstream's certificate must carry; null: none checked by name. */
  readonly tlsServerName: string | null;
  readonly policy: ForwardPolicy;
  /** Health check interval while an upstream is failing (CoreDNS 0.5 s). */
  readonly healthCheckMs: number;
  /** The RD bit of the health check query (`no_rec` clears it). */
  readonly healthCheckRecursion: boolean;
  /** The name the health check asks for NS (CoreDNS "."). */
  readonly healthCheckDomain: string;
  /** Queries in flight before more are REFUSED; 0 no limit (CoreDNS's default). */
  readonly maxConcurrent: number;
}

const P = 'forward';
/** CoreDNS's limit on TOs. */
export const MAX_FORWARD_TARGETS = 15;

/** Properties of newer CoreDNS versions that cluster-dns does not implement. */
const NOT_IMPLEMENTED: Readonly<Record<string, string>> = {
  next: 'trying the next plugin on chosen rcodes is not supported',
  failover: 'retrying other upstreams on chosen rcodes is not supported',
  failfast_all_unhealthy_upstreams: 'failing fast when every upstream is down is not supported',
};

export async function readForward(d: Directive, ctx: BlockContext): Promise<ForwardSettings> {
  argCount(d, P, 2, Infinity);
  const fromZones = zonesOf(d.args[0] as string, d, P);
  const from = fromZones[0] as string;
  if (fromZones.length > 1) ctx.warn(d, `forward: ${d.args[0]} expands to several zones; only ${from} is used (as in CoreDNS)`);
  const to: ForwardTarget[] = [];
  for (const text of d.args.slice(1)) to.push(await target(text, d, ctx));
  const addresses = to.filter((t) => t.kind === 'address').length;
  if (addresses > MAX_FORWARD_TARGETS) fail(d, P, `more than ${MAX_FORWARD_TARGETS} TOs configured: ${addresses}`);

  const except: string[] = [];
  let forceTcp = false;
  let preferUdp = false;
  let expireMs = 10_000;
  let maxFails = 2;
  let tls: ForwardSettings['tls'] = null;
  let tlsServerName: string | null = null;
  let policy: ForwardPolicy = 'random';
  let healthCheckMs = 500;
  let healthCheckRecursion = true;
  let healthCheckDomain = '.';
  let maxConcurrent = 0;

  for (const p of lines(d)) {
    flat(p, P);
    const a = p.args;
    switch (p.name) {
      case 'except':
        argCount(p, P, 1, Infinity);
        for (const z of zoneList(a, p, P)) if (!except.includes(z)) except.push(z);
        break;
      case 'force_tcp':
        argCount(p, P, 0, 0);
        forceTcp = true;
        break;
      case 'prefer_udp':
        argCount(p, P, 0, 0);
        preferUdp = true;
        break;
      case 'expire':
        argCount(p, P, 1, 1);
        expireMs = duration(a[0] as string, p, P, 'expire');
        break;
      case 'max_fails':
        argCount(p, P, 1, 1);
        maxFails = integer(a[0] as string, p, P, 'max_fails');
        if (maxFails < 0 || maxFails > 0xffffffff) fail(p, P, `max_fails ${a[0]} is not 0 or more`);
        break;
      case 'tls': {
        argCount(p, P, 0, 3);
        const [x, y, z] = a as [string?, string?, string?];
        // pkg/tls NewTLSConfigFromArgs: CA; CERT KEY; or CERT KEY CA.
        tls = a.length === 1 ? { cert: null, key: null, ca: x ?? null } : { cert: x ?? null, key: y ?? null, ca: z ?? null };
        break;
      }
      case 'tls_servername':
        argCount(p, P, 1, 1);
        tlsServerName = a[0] as string;
        break;
      case 'policy':
        argCount(p, P, 1, 1);
        if (a[0] !== 'random' && a[0] !== 'round_robin' && a[0] !== 'sequential')
          fail(p, P, `unknown policy "${a[0]}" (random, round_robin or sequential)`);
        policy = a[0];
        break;
      case 'health_check':
        healthCheck(p);
        break;
      case 'max_concurrent':
        argCount(p, P, 1, 1);
        maxConcurrent = integer(a[0] as string, p, P, 'max_concurrent');
        if (maxConcurrent < 0) fail(p, P, `max_concurrent can't be negative: ${maxConcurrent}`);
        break;
      default: {
        const why = NOT_IMPLEMENTED[p.name];
        if (why !== undefined) fail(p, P, `property "${p.name}": ${why} by cluster-dns`);
        unknownProperty(p, P);
      }
    }
  }
  return {
    from,
    to,
    except,
    forceTcp,
    preferUdp,
    expireMs,
    maxFails,
    tls,
    tlsServerName,
    policy,
    healthCheckMs,
    healthCheckRecursion,
    healthCheckDomain,
    maxConcurrent,
  };

  function healthCheck(p: Directive): void {
    argCount(p, P, 1, Infinity);
    healthCheckMs = duration(p.args[0] as string, p, P, 'health_check');
    for (let i = 1; i < p.args.length; i++) {
      const opt = p.args[i] as string;
      if (opt === 'no_rec') healthCheckRecursion = false;
      else if (opt === 'domain') {
        const name = p.args[++i];
        if (name === undefined) fail(p, P, 'health_check: "domain" needs a name');
        healthCheckDomain = zonesOf(name, p, P)[0] as string;
      } else fail(p, P, `health_check: unknown option "${opt}" (no_rec, domain NAME)`);
    }
  }
}

const TRANSPORT = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

async function target(text: string, d: Site, ctx: BlockContext): Promise<ForwardTarget> {
  let rest = text;
  let transport: 'dns' | 'tls' = 'dns';
  const scheme = TRANSPORT.exec(text);
  if (scheme) {
    const name = (scheme[1] as string).toLowerCase();
    if (name !== 'dns' && name !== 'tls')
      fail(d, P, `"${name}" is not supported as a destination protocol in forward: ${text} (dns:// and tls:// are)`);
    transport = name;
    rest = text.slice(scheme[0].length);
  }
  if (rest === '') fail(d, P, `invalid address: "${text}"`);
  const defaultPort = transport === 'tls' ? 853 : 53;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  let host: string | null = null;
  let port = defaultPort;
  if (bracket && isIPv6(stripZone(bracket[1] as string))) {
    host = bracket[1] as string;
    if (bracket[2] !== undefined) port = Number(bracket[2]);
  } else if (isIPv4(rest) || isIPv6(stripZone(rest))) {
    host = rest;
  } else {
    const m = /^([^:]+):(\d+)$/.exec(rest);
    if (m && isIPv4(m[1] as string)) {
      host = m[1] as string;
      port = Number(m[2]);
    }
  }
  if (host !== null) {
    if (port > 65535) fail(d, P, `port ${port} of "${text}" is out of range`);
    return { kind: 'address', transport, host, port };
  }
  if (transport === 'dns' && scheme === null) {
    const path = posix.resolve(ctx.cwd, rest);
    const info = await ctx.fs.stat(path);
    if (info !== null && info.kind === 'file') return { kind: 'resolv-conf', path };
    if (info !== null) fail(d, P, `"${text}" is not an IP address or a file (${path} is a ${info.kind})`);
  }
  return fail(d, P, `not an IP address or file: "${text}"`);
}

/** An IPv6 zone index (`fe80::1%eth0`) is not part of the address. */
function stripZone(host: string): string {
  const i = host.indexOf('%');
  return i === -1 ? host : host.slice(0, i);
}
