// What every directive reader needs: located errors, argument counts, Go's duration and integer
// syntax (CoreDNS reads them with time.ParseDuration and strconv.Atoi), zones and addresses.
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { CorefileError, type Location } from '../errors.ts';
import { parseServerKey } from '../keys.ts';
import type { Directive } from '../parse.ts';

/** Where a directive or one of its block's lines was written, with the imports that led there. */
export interface Site extends Location {
  readonly via: readonly Location[];
}

export function siteOf(d: Directive): Site {
  return { file: d.file, line: d.line, via: d.via };
}

/** `FILE:LINE: PLUGIN: why`, at the line `d` was written on. */
export function fail(d: Site, plugin: string, why: string): never {
  throw new CorefileError('directive', d, `${plugin}: ${why}`, d.via);
}

export function noBlock(d: Directive, plugin: string): void {
  if (d.block !== null) fail(d, plugin, `"${d.name}" takes no block`);
}

export function noArgs(d: Directive, plugin: string): void {
  if (d.args.length > 0) fail(d, plugin, `"${d.name}" takes no arguments (got ${d.args.length})`);
}

/** Between `min` and `max` arguments (CoreDNS's "wrong argument count"). */
export function argCount(d: Directive, plugin: string, min: number, max: number): void {
  const n = d.args.length;
  if (n >= min && n <= max) return;
  const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
  fail(d, plugin, `"${d.name}" takes ${want} argument${max === 1 && min === 1 ? '' : 's'} (got ${n})`);
}

/** The lines of a directive's block; [] without one. */
export function lines(d: Directive): readonly Directive[] {
  return d.block ?? [];
}

/** A block line that has a block of its own is an error: CoreDNS's properties are flat. */
export function flat(p: Directive, plugin: string): void {
  if (p.block !== null) fail(p, plugin, `property "${p.name}" takes no block`);
}

export function unknownProperty(p: Directive, plugin: string): never {
  return fail(p, plugin, `unknown property "${p.name}"`);
}

/** strconv.Atoi: an optional sign and decimal digits. */
export function integer(text: string, at: Site, plugin: string, what: string): number {
  if (!/^[+-]?\d+$/.test(text)) fail(at, plugin, `${what} "${text}" is not a whole number`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) fail(at, plugin, `${what} "${text}" is out of range`);
  return n;
}

export function integerIn(text: string, at: Site, plugin: string, what: string, min: number, max: number): number {
  const n = integer(text, at, plugin, what);
  if (n < min || n > max) fail(at, plugin, `${what} ${n} is out of range (${min}-${max})`);
  return n;
}

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Go's time.ParseDuration in milliseconds: `[-+]` then one or more `NUMBER UNIT` (`1h30m`,
 * `1.5s`, `300ms`); a bare `0` is the only number allowed without a unit. Null when invalid.
 */
export function goDuration(text: string): number | null {
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return null;
  let total = 0;
  const part = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;
  // Bounded: each turn consumes at least one unit's characters.
  while (s !== '') {
    const m = part.exec(s);
    if (m === null) return null;
    const whole = m[1] as string;
    const frac = m[2];
    if (whole === '' && (frac === undefined || frac === '')) return null;
    const value = Number(`${whole === '' ? '0' : whole}.${frac ?? ''}0`);
    total += value * (UNIT_MS[m[3] as string] as number);
    s = s.slice(m[0].length);
  }
  return sign * total;
}

/** A duration in ms, at least `min` ms (0 by default: CoreDNS refuses negative ones). */
export function duration(text: string, at: Site, plugin: string, what: string, min = 0): number {
  const ms = goDuration(text);
  if (ms === null) fail(at, plugin, `${what} "${text}" is not a duration (e.g. 30s, 5m, 1h30m)`);
  if (ms < min) fail(at, plugin, min === 0 ? `${what} ${text} is negative` : `${what} ${text} is shorter than ${formatMs(min)}`);
  return ms;
}

export function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/**
 * The zones a ZONE argument names, as the server block keys are normalized (lower-case, no
 * trailing dot, "." for the root; a CIDR becomes its reverse zones; a scheme or port is dropped,
 * as CoreDNS's plugin.Host(…).Normalize drops them).
 */
export function zonesOf(text: string, at: Site, plugin: string): string[] {
  try {
    return [...parseServerKey(text, at, 53).zones];
  } catch (err) {
    if (err instanceof CorefileError) fail(at, plugin, `"${text}" is not a zone: ${err.reason.replace(/^server block key "[^"]*": /, '')}`);
    throw err;
  }
}

export function zoneList(texts: readonly string[], at: Site, plugin: string): string[] {
  const out: string[] = [];
  for (const t of texts) for (const z of zonesOf(t, at, plugin)) if (!out.includes(z)) out.push(z);
  return out;
}

/** Whether `name` is `zone` or below it (both in the normalized form). */
export function inZone(name: string, zone: string): boolean {
  return zone === '.' || name === zone || name.endsWith(`.${zone}`);
}

export function isReverseZone(zone: string): boolean {
  return inZone(zone, 'in-addr.arpa') || inZone(zone, 'ip6.arpa');
}

/** The plugins' zone form: '' for the root, otherwise the same. */
export function pluginZone(zone: string): string {
  return zone === '.' ? '' : zone;
}

export interface Address {
  /** '' for every address (":9153"). */
  readonly host: string;
  readonly port: number;
}

/**
 * `HOST:PORT`, `:PORT`, `[V6]:PORT`, or a bare host when `defaultPort` is given. The host may be a
 * name (`localhost`), as Go's listeners take one; only the port is checked.
 */
export function address(text: string, at: Site, plugin: string, what: string, defaultPort: number | null): Address {
  let host = text;
  let portText: string | null = null;
  const bracket = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  if (bracket) {
    host = bracket[1] as string;
    portText = bracket[2] ?? null;
    // Go's SplitHostPort takes any IP in brackets: `[$(POD_IP)]:8080` serves IPv4 and IPv6 pods.
    if (!isIPv6(host) && !isIPv4(host)) fail(at, plugin, `${what} "${text}": "${host}" is not an IP address`);
  } else if (isIPv6(text)) {
    host = text;
  } else {
    const colon = text.lastIndexOf(':');
    if (colon !== -1) {
      host = text.slice(0, colon);
      portText = text.slice(colon + 1);
      if (host.includes(':')) fail(at, plugin, `${what} "${text}": write an IPv6 address with a port as [ADDRESS]:PORT`);
    }
  }
  if (portText === null) {
    if (defaultPort === null) fail(at, plugin, `${what} "${text}" has no port (expected HOST:PORT or :PORT)`);
    return { host, port: defaultPort };
  }
  if (!/^\d+$/.test(portText) || Number(portText) > 65535) fail(at, plugin, `${what} "${text}": port "${portText}" is not 0-65535`);
  if (host !== '' && !isIP(host) && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host)) {
    fail(at, plugin, `${what} "${text}": "${host}" is not an address or host name`);
  }
  return { host, port: Number(portText) };
}

export { isIPv4, isIPv6 };
