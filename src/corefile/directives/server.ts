// The smaller directives: logging, the HTTP endpoints, listening, reload, EDNS and the
// CHAOS/NSID/whoami/acl answers, each with CoreDNS's syntax and defaults.
import { isIP } from 'node:net';
import { typeCode } from '../../dns/mnemonics.ts';
import type { Directive } from '../parse.ts';
import {
  address,
  argCount,
  duration,
  fail,
  flat,
  integer,
  lines,
  noArgs,
  noBlock,
  unknownProperty,
  zoneList,
  type Address,
} from './args.ts';
import type { BlockContext } from './context.ts';
import type { AclPolicyOptions } from '../../plugins/acl.ts';

export type LogClass = 'all' | 'success' | 'denial' | 'error';

export interface LogSettings {
  /** Names (zones) whose queries are logged. */
  readonly names: readonly string[];
  /** As written: `{common}` (the default), `{combined}`, or placeholders (src/observe/query-log.ts). */
  readonly format: string;
  readonly classes: readonly LogClass[];
}

/** `log [NAMES…] [FORMAT] { class CLASS… }`: one name is a name; with more, the last is the format. */
export function readLog(d: Directive): LogSettings {
  const P = 'log';
  let names: string[];
  let format = '{common}';
  if (d.args.length <= 1) names = d.args.length === 0 ? ['.'] : zoneList(d.args, d, P);
  else {
    names = zoneList(d.args.slice(0, -1), d, P);
    format = d.args[d.args.length - 1] as string;
  }
  const classes: LogClass[] = [];
  for (const p of lines(d)) {
    flat(p, P);
    if (p.name !== 'class') unknownProperty(p, P);
    argCount(p, P, 1, Infinity);
    for (const c of p.args) {
      if (c !== 'all' && c !== 'success' && c !== 'denial' && c !== 'error')
        fail(p, P, `unknown class: ${c} (all, success, denial or error)`);
      if (!classes.includes(c)) classes.push(c);
    }
  }
  return { names, format, classes: classes.length === 0 ? ['all'] : classes };
}

export interface ErrorsSettings {
  readonly stacktrace: boolean;
  /** `consolidate DURATION REGEXP [LEVEL]`: matching errors logged as one line per period. */
  readonly consolidate: readonly {
    readonly periodMs: number;
    readonly pattern: string;
    readonly level: 'warning' | 'error' | 'info' | 'debug';
  }[];
}

export function readErrors(d: Directive): ErrorsSettings {
  const P = 'errors';
  argCount(d, P, 0, 1);
  if (d.args.length === 1 && d.args[0] !== 'stdout') fail(d, P, `invalid log file: ${d.args[0]} (only stdout)`);
  let stacktrace = false;
  const consolidate: ErrorsSettings['consolidate'][number][] = [];
  for (const p of lines(d)) {
    flat(p, P);
    // `stacktrace` now, `panicRecoveryStacktrace` in CoreDNS before 1.11.
    if (p.name === 'stacktrace' || p.name === 'panicRecoveryStacktrace') {
      argCount(p, P, 0, 0);
      stacktrace = true;
    } else if (p.name === 'consolidate') {
      argCount(p, P, 2, 3);
      const periodMs = duration(p.args[0] as string, p, P, 'consolidate period');
      const pattern = p.args[1] as string;
      try {
        new RegExp(pattern);
      } catch {
        fail(p, P, `consolidate: invalid regexp "${pattern}"`);
      }
      const level = (p.args[2] ?? 'error') as ErrorsSettings['consolidate'][number]['level'];
      if (!['warning', 'error', 'info', 'debug'].includes(level))
        fail(p, P, `consolidate: unknown log level "${level}" (warning, error, info or debug)`);
      consolidate.push({ periodMs, pattern, level });
    } else unknownProperty(p, P);
  }
  return { stacktrace, consolidate };
}

export interface HealthSettings {
  readonly address: Address;
  /** After SIGTERM, how long /health keeps answering before shutdown (CoreDNS 0: none). */
  readonly lameduckMs: number;
}

export function readHealth(d: Directive): HealthSettings {
  const P = 'health';
  argCount(d, P, 0, 1);
  const addr = address(d.args[0] ?? ':8080', d, P, 'address', null);
  let lameduckMs = 0;
  for (const p of lines(d)) {
    flat(p, P);
    if (p.name !== 'lameduck') unknownProperty(p, P);
    argCount(p, P, 1, 1);
    lameduckMs = duration(p.args[0] as string, p, P, 'lameduck');
  }
  return { address: addr, lameduckMs };
}

/** `ready [ADDRESS]` (:8181) and `prometheus [ADDRESS]` (localhost:9153). */
export function readEndpoint(plugin: 'ready' | 'prometheus') {
  return (d: Directive): { readonly address: Address } => {
    noBlock(d, plugin);
    argCount(d, plugin, 0, 1);
    const fallback = plugin === 'ready' ? ':8181' : 'localhost:9153';
    return { address: address(d.args[0] ?? fallback, d, plugin, 'address', null) };
  };
}

export type BindTarget = { readonly kind: 'address'; readonly address: string } | { readonly kind: 'interface'; readonly name: string };

export interface BindSettings {
  readonly targets: readonly BindTarget[];
  /** `except ADDRESS…`: addresses of the interfaces named that are not listened on. */
  readonly except: readonly string[];
}

/** `bind ADDRESS|IFACE… { except ADDRESS… }`; a word that is not an IP is an interface name. */
export function readBind(d: Directive): BindSettings {
  const P = 'bind';
  const targets: BindTarget[] = d.args.map((a) => (isIP(a) ? { kind: 'address', address: a } : { kind: 'interface', name: a }));
  const except: string[] = [];
  for (const p of lines(d)) {
    flat(p, P);
    if (p.name !== 'except') unknownProperty(p, P);
    argCount(p, P, 1, Infinity);
    for (const a of p.args) {
      if (!isIP(a)) fail(p, P, `except: "${a}" is not an IP address`);
      except.push(a);
    }
  }
  if (targets.length === 0) fail(d, P, 'at least one address or interface is needed');
  return { targets, except };
}

export interface ReloadSettings {
  readonly intervalMs: number;
  /** The interval varies by up to ± half of this (CoreDNS caps it at half the interval). */
  readonly jitterMs: number;
}

export const RELOAD_DEFAULTS: ReloadSettings = Object.freeze({ intervalMs: 30_000, jitterMs: 15_000 });

/** `reload [INTERVAL [JITTER]]`: at least 2 s and 1 s. */
export function readReload(d: Directive): ReloadSettings {
  const P = 'reload';
  noBlock(d, P);
  argCount(d, P, 0, 2);
  const intervalMs = d.args[0] === undefined ? RELOAD_DEFAULTS.intervalMs : duration(d.args[0], d, P, 'interval');
  if (intervalMs < 2000) fail(d, P, 'interval value must be greater or equal to 2s');
  let jitterMs = d.args[1] === undefined ? RELOAD_DEFAULTS.jitterMs : duration(d.args[1], d, P, 'jitter');
  if (jitterMs < 1000) fail(d, P, 'jitter value must be greater or equal to 1s');
  if (jitterMs > intervalMs / 2) jitterMs = intervalMs / 2;
  return { intervalMs, jitterMs };
}

/** `bufsize [SIZE]`: the EDNS buffer size advertised and asked for, 512-4096 (CoreDNS 1232). */
export function readBufsize(d: Directive): { readonly size: number } {
  const P = 'bufsize';
  noBlock(d, P);
  argCount(d, P, 0, 1);
  if (d.args[0] === undefined) return { size: 1232 };
  const size = integer(d.args[0], d, P, 'size');
  if (size < 512 || size > 4096) fail(d, P, `buffer size should be within 512 - 4096 (got ${size})`);
  return { size };
}

/** `nsid [DATA]`; null: the host name, as CoreDNS defaults. */
export function readNsid(d: Directive): { readonly data: string | null } {
  noBlock(d, 'nsid');
  return { data: d.args.length === 0 ? null : d.args.join(' ') };
}

/** `chaos [VERSION] [AUTHORS…]`; null version: cluster-dns's own. */
export function readChaos(d: Directive): { readonly version: string | null; readonly authors: readonly string[] } {
  noBlock(d, 'chaos');
  return { version: d.args[0] ?? null, authors: d.args.slice(1) };
}

/** Directives that take nothing: `loop`, `debug`, `whoami`, `any`. */
export function readBare(plugin: string) {
  return (d: Directive): Record<string, never> => {
    noBlock(d, plugin);
    noArgs(d, plugin);
    return {};
  };
}

export interface AutopathSettings {
  readonly zones: readonly string[];
  /** The plugin that gives the search path; only `@kubernetes` is supported. */
  readonly source: 'kubernetes';
}

/** `autopath [ZONES…] @kubernetes` (a resolv.conf as the search path is not supported). */
export function readAutopath(d: Directive, ctx: BlockContext): AutopathSettings {
  const P = 'autopath';
  noBlock(d, P);
  argCount(d, P, 1, Infinity);
  const last = d.args[d.args.length - 1] as string;
  if (last !== '@kubernetes') {
    if (last.startsWith('@')) fail(d, P, `${last}: only @kubernetes can give the search path`);
    fail(d, P, `a resolv.conf as the search path ("${last}") is not supported; use autopath @kubernetes`);
  }
  const zones = d.args.length > 1 ? zoneList(d.args.slice(0, -1), d, P) : [...ctx.zones];
  return { zones, source: 'kubernetes' };
}

/** One policy line: its action, query types ([] all) and source networks as CIDRs ([] all). */
export type AclRule = AclPolicyOptions;

export interface AclSettings {
  readonly zones: readonly string[];
  readonly rules: readonly AclRule[];
}

/** `acl [ZONES…] { ACTION [type TYPE…] [net SOURCE…] }`, rules in order. */
export function readAcl(d: Directive, ctx: BlockContext): AclSettings {
  const P = 'acl';
  const zones = d.args.length > 0 ? zoneList(d.args, d, P) : [...ctx.zones];
  const rules: AclRule[] = [];
  for (const p of lines(d)) {
    flat(p, P);
    const action = p.name.toLowerCase();
    if (action !== 'allow' && action !== 'block' && action !== 'filter' && action !== 'drop') {
      fail(p, P, `unexpected token "${p.name}"; expect "allow", "block", "filter" or "drop"`);
    }
    const types: number[] = [];
    const nets: string[] = [];
    let section: 'type' | 'net' | null = null;
    for (const word of p.args) {
      if (word === 'type' || word === 'net') {
        section = word;
        continue;
      }
      if (section === null) fail(p, P, `unexpected "${word}": expected "type" or "net"`);
      if (section === 'type') {
        if (word === '*') continue;
        const code = typeCode(word);
        if (code === null) fail(p, P, `unexpected query type "${word}"`);
        types.push(code);
      } else {
        if (word === '*') continue;
        nets.push(cidr(word, p));
      }
    }
    rules.push({ action, types, nets });
  }
  if (rules.length === 0) fail(d, P, 'needs at least one rule in its block (allow, block, filter or drop)');
  return { zones, rules };

  function cidr(text: string, p: Directive): string {
    const slash = text.indexOf('/');
    const ip = slash === -1 ? text : text.slice(0, slash);
    const family = isIP(ip);
    if (family === 0) fail(p, P, `illegal CIDR or IP address: "${text}"`);
    const bits = family === 4 ? 32 : 128;
    if (slash === -1) return `${ip}/${bits}`;
    const len = text.slice(slash + 1);
    if (!/^\d+$/.test(len) || Number(len) > bits) fail(p, P, `illegal CIDR or IP address: "${text}"`);
    return text;
  }
}
