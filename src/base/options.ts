// What an option is, for every part that declares its own (src/*/options.ts), and the value
// parsers they share. A part's table is data: src/config.ts composes the tables into --help, the
// flag parser, DEFAULT_CONFIG and the README's flag table, and src/config/table.ts sets each
// option from flags or from any other source (a Corefile directive) with the same parser.
import { isIP } from 'node:net';
import type { HostPort } from './address.ts';
import { parseBytes } from './bytes.ts';
import { ClusterDnsError } from './errors.ts';

/**
 * A value the user gave that cannot be used. `flag` names what they wrote: `--ttl`, or for
 * another source its place (`Corefile:12: cache`); the message starts with it, on one line.
 */
export class ConfigError extends ClusterDnsError {
  override name = 'ConfigError';
  readonly code = 'CDNS_ERR_CONFIG';
  readonly flag: string;
  constructor(flag: string, message: string) {
    super(`${flag}: ${message}`);
    this.flag = flag;
  }
}

/** The --help sections, in the order they are printed. */
export const OPTION_GROUPS = ['source', 'dns', 'forward', 'cache', 'operations'] as const;
export type OptionGroup = (typeof OPTION_GROUPS)[number];

/** A default that is not a text the parser takes: none, or one that follows other options. */
export interface DescribedDefault<T> {
  readonly value: T;
  /** As --help shows it after "default" ('' prints nothing). */
  readonly text: string;
  /** The README's default column (markdown), when it differs from `text`. */
  readonly doc?: string;
}

export interface OptionSpec<T> {
  /** The flag without its dashes; also the option's name for other sources. */
  readonly flag: string;
  readonly group: OptionGroup;
  /** The value's name in --help and the README (`SECONDS`); absent for a switch (`--force-tcp`). */
  readonly arg?: string;
  /** Given again, the values add up (`--listen`); `parse` then returns a list. Else the last wins. */
  readonly repeatable?: boolean;
  /**
   * A text the parser takes (`'5s'`): the value is parsed from it, so --help and the README show
   * exactly what a user could type. Or a DescribedDefault.
   */
  readonly default: string | DescribedDefault<T>;
  /** Text to value, or a ConfigError that starts with `name` (`--ttl`, or `FILE:LINE: ttl`). */
  readonly parse: (text: string, name: string) => T;
  /** --help's line(s), without the default (it is appended). */
  readonly help: string;
  /** The README's "meaning" column (markdown). */
  readonly doc: string;
}

/** A flag with no value: on when given. */
export function switchOption(spec: { flag: string; group: OptionGroup; help: string; doc: string }): OptionSpec<boolean> {
  return {
    ...spec,
    default: { value: false, text: '', doc: 'off' },
    parse: (text, name) => {
      if (text === 'true') return true;
      if (text === 'false') return false;
      throw new ConfigError(name, `takes no value (got "${text}")`);
    },
  };
}

/** Tables are written as `{ key: spec }`: `key` is the field of the part's options type. */
export type OptionTable = Readonly<Record<string, OptionSpec<unknown>>>;
/** The values a table yields, by key. */
export type OptionValues<S extends OptionTable> = { readonly [K in keyof S]: S[K] extends OptionSpec<infer T> ? T : never };

/** Checks a table's entries against OptionSpec while keeping each entry's value type. */
export function optionTable<S extends { [K in keyof S]: OptionSpec<unknown> }>(table: S): S {
  return table;
}

// The value parsers. Each takes the name to put first in its error.

export function integer(name: string, text: string, min: number, max: number, subject = ''): number {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(value) || value < min || value > max) {
    const what = subject ? `${subject} must be` : 'must be';
    throw new ConfigError(name, `${what} an integer from ${min} to ${max} (got "${text}")`);
  }
  return value;
}

/** An integer parser for [min, max], for a table. */
export const integerIn =
  (min: number, max: number) =>
  (text: string, name: string): number =>
    integer(name, text, min, max);

/** `5`, `5s`, `1.5s`, `500ms`, `1m`: a duration in milliseconds, 0 to 10 minutes. */
export function parseDuration(name: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  const unit = m?.[2] === 'ms' ? 1 : m?.[2] === 'm' ? 60_000 : 1000;
  const ms = m ? Math.round(Number(m[1]) * unit) : Number.NaN;
  if (!Number.isFinite(ms) || ms > 600_000) {
    throw new ConfigError(name, `must be a duration from 0 to 10m such as 5s, 500ms or 5 (seconds) (got "${text}")`);
  }
  return ms;
}

/** Milliseconds as the duration parsers take them, in the largest unit that divides them: `24h`, `5s`. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms > 0 && ms % size === 0) return `${ms / size}${unit}`;
  }
  return ms === 0 ? '0' : `${ms}ms`;
}

/** Like parseDuration, up to a week, with `h` too: `1h`, `30m`, `0`. */
export function parseLongDuration(name: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  const unit = m?.[2] === 'ms' ? 1 : m?.[2] === 'm' ? 60_000 : m?.[2] === 'h' ? 3_600_000 : 1000;
  const ms = m ? Math.round(Number(m[1]) * unit) : Number.NaN;
  if (!Number.isFinite(ms) || ms > 7 * 86_400_000)
    throw new ConfigError(name, `must be a duration up to 168h such as 1h, 30m or 0 (got "${text}")`);
  return ms;
}

/** `200us`, `200µs`, `1ms`, `0`: a short duration in whole microseconds, 0 to `max`. A unit is required (but for 0). */
export function parseMicroseconds(name: string, text: string, max: number): number {
  const m = /^(\d+(?:\.\d+)?)(us|µs|ms)$|^0$/.exec(text.trim());
  const us = m === null ? Number.NaN : m[1] === undefined ? 0 : Math.round(Number(m[1]) * (m[2] === 'ms' ? 1000 : 1));
  if (!Number.isFinite(us) || us > max) {
    throw new ConfigError(name, `must be a duration from 0 to ${max / 1000}ms such as 200us or 1ms, or 0 for off (got "${text}")`);
  }
  return us;
}

/** `262144`, `256Ki`, `4Mi`, `1Gi`: a byte count within [min, max]. */
export function bytes(name: string, text: string, min: number, max: number): number {
  const value = parseBytes(text);
  if (!(value >= min && value <= max))
    throw new ConfigError(name, `must be a size from ${min} to ${max} bytes, e.g. 262144, 256Ki, 4Mi or 1Gi (got "${text}")`);
  return value;
}

/** A number above 0 and at most 1. */
export function fraction(name: string, text: string): number {
  const value = /^(0|1|0?\.\d+|1\.0*)$/.test(text) ? Number(text) : Number.NaN;
  if (!(value > 0 && value <= 1)) throw new ConfigError(name, `must be a number above 0 and at most 1, e.g. 0.01 (got "${text}")`);
  return value;
}

/** A parser for one of `allowed`, for a table. */
export const oneOf =
  <T extends string>(allowed: readonly T[]) =>
  (text: string, name: string): T => {
    if ((allowed as readonly string[]).includes(text)) return text as T;
    throw new ConfigError(name, `must be one of ${allowed.join(', ')} (got "${text}")`);
  };

/** Any text: a path, checked by whoever opens it. */
export const anyText = (text: string): string => text;

/**
 * `127.0.0.1:53`, `[::1]:53`, `:53` (all IPv4 interfaces). Host names are refused: bind to addresses.
 * Ports are 1-65535; `listening` (an address we bind) also takes 0: any free port, which the
 * `serving` line names (what the tests use). `name` is the flag with its dashes.
 */
export function hostPortNamed(name: string, text: string, defaultPort?: number, listening = false): HostPort {
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
  if (isIP(host) === 0) throw new ConfigError(name, `"${text}" is not IP:PORT (an IP address is needed, e.g. 127.0.0.1:53 or [::1]:53)`);
  if (portText === undefined) {
    if (defaultPort === undefined) throw new ConfigError(name, `"${text}" has no port (e.g. ${host}:53)`);
    return { host, port: defaultPort };
  }
  const port = integer(name, portText, listening ? 0 : 1, 65535, `"${text}": the port`);
  return { host, port };
}

/** hostPortNamed for a flag named without its dashes (`'listen'`). */
export function parseHostPort(flag: string, text: string, defaultPort?: number, listening = false): HostPort {
  return hostPortNamed(`--${flag}`, text, defaultPort, listening);
}

/** An address we listen on, or `off`. */
export function endpointOrOff(text: string, name: string): HostPort | null {
  return text === 'off' ? null : hostPortNamed(name, text, undefined, true);
}
