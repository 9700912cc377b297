// What the server tells its operators: the health, readiness and metrics endpoints, the logs,
// and how long it keeps answering after SIGTERM (CoreDNS's `health { lameduck }`).
import type { HostPort } from '../base/address.ts';
import {
  ConfigError,
  endpointOrOff,
  fraction,
  hostPortNamed,
  oneOf,
  optionTable,
  parseDuration,
  switchOption,
  type OptionValues,
} from '../base/options.ts';
import { LOG_FORMATS, LOG_LEVELS } from '../base/log.ts';
import { canonicalName } from '../dns/name.ts';
import { LOG_CLASSES, type LogClass } from './query-log.ts';

/** `all`, or `success,denial`: CoreDNS's log classes. */
function logClasses(text: string, name: string): readonly LogClass[] {
  const classes = text.split(',').map((c) => c.trim().toLowerCase());
  for (const c of classes) {
    if (!(LOG_CLASSES as readonly string[]).includes(c)) throw new ConfigError(name, `unknown class "${c}" (${LOG_CLASSES.join(', ')})`);
  }
  return classes as LogClass[];
}

/** `.` or `example.org,corp`: zones, canonical ('' the root). */
function logZones(text: string, name: string): readonly string[] {
  return text.split(',').map((z) => {
    const zone = z.trim() === '' ? null : canonicalName(z.trim());
    if (zone === null) throw new ConfigError(name, `"${z}" is not a domain name`);
    return zone;
  });
}

/** `json`, or a CoreDNS log format: `{common}`, `{combined}`, or text with its placeholders. */
function logFormat(text: string, name: string): string {
  if (text.trim() === '') throw new ConfigError(name, 'a format is needed: json, {common}, {combined} or placeholders');
  return text;
}

/**
 * --debug-endpoints shows index objects that DNS answers do not reveal, so it is served on
 * loopback only, as CoreDNS's pprof is by default (`kubectl port-forward` reaches it).
 */
function loopbackEndpoint(text: string, name: string): HostPort | null {
  if (text === 'off') return null;
  const at = hostPortNamed(name, text, undefined, true);
  if (!at.host.startsWith('127.') && at.host !== '::1') {
    throw new ConfigError(name, `"${text}" is not a loopback address: use 127.0.0.1:PORT or [::1]:PORT and kubectl port-forward`);
  }
  return at;
}

export const OBSERVE_OPTIONS = optionTable({
  health: {
    flag: 'health',
    group: 'operations',
    arg: 'ADDR:PORT',
    default: ':8080',
    parse: endpointOrOff,
    help: '/health endpoint; "off" disables',
    doc: '`GET /health` → 200 `OK` while the process serves; `off` disables',
  },
  ready: {
    flag: 'ready',
    group: 'operations',
    arg: 'ADDR:PORT',
    default: ':8181',
    parse: endpointOrOff,
    help: '/ready endpoint, 200 once the index has synced; "off" disables',
    doc: '`GET /ready` → 200 once the index has fully synced, else 503 with the reason; `off` disables',
  },
  metrics: {
    flag: 'metrics',
    group: 'operations',
    arg: 'ADDR:PORT',
    default: ':9153',
    parse: endpointOrOff,
    help: 'Prometheus /metrics; "off" disables',
    doc: "`GET /metrics`: Prometheus, under CoreDNS's metric names (see Operating); `off` disables it and the per-query counting",
  },
  /** /debug/resolve, on its own loopback listener; off (null) by default. */
  debugEndpoints: {
    flag: 'debug-endpoints',
    group: 'operations',
    arg: 'ADDR:PORT',
    default: { value: null, text: 'off', doc: 'off' },
    parse: loopbackEndpoint,
    help: '/debug/resolve (which index objects answer a name) on this loopback address, e.g. 127.0.0.1:9154; reach it with kubectl port-forward',
    doc: '`GET /debug/resolve` (see Operating) on this address, which must be loopback (`127.0.0.1:9154`, `[::1]:9154`): it names index objects the answers do not reveal. Reach it with `kubectl port-forward`',
  },
  logLevel: {
    flag: 'log-level',
    group: 'operations',
    arg: 'LEVEL',
    default: 'info',
    parse: oneOf(LOG_LEVELS),
    help: LOG_LEVELS.join(' | '),
    doc: LOG_LEVELS.map((l) => `\`${l}\``).join(', '),
  },
  /** JSON lines for collectors, or text lines for people. */
  logFormat: {
    flag: 'log-format',
    group: 'operations',
    arg: 'F',
    default: 'json',
    parse: oneOf(LOG_FORMATS),
    help: 'json | text: JSON lines for collectors, text lines for people',
    doc: '`json`: one JSON object a line, level names and ISO times, for collectors; `text`: `TIME LEVEL [component] message key=value…`, for people',
  },
  /** One log line per answered query (sampled by logQueriesSample). */
  logQueries: switchOption({
    flag: 'log-queries',
    group: 'operations',
    help: 'log every answered query with its duration (one line each; off by default)',
    doc: 'one line per answered query (`"msg":"query"`), with its duration',
  }),
  /** Fraction of queries logged when logQueries is on, 0 < x <= 1. */
  logQueriesSample: {
    flag: 'log-queries-sample',
    group: 'operations',
    arg: 'F',
    default: '1',
    parse: (text: string, name: string) => fraction(name, text),
    help: 'with --log-queries, log this fraction of queries, 0-1',
    doc: 'with `--log-queries`, log this fraction of queries (e.g. `0.01`)',
  },
  /** JSON lines through the logger, or CoreDNS's log plugin lines (a Corefile's `log` sets it). */
  logQueriesFormat: {
    flag: 'log-queries-format',
    group: 'operations',
    arg: 'FORMAT',
    default: 'json',
    parse: logFormat,
    help: 'with --log-queries: json, or a CoreDNS log format ({common}, {combined}, or {remote} {name} … placeholders)',
    doc: "with `--log-queries`: `json` (a `query` line through the logger), or CoreDNS's `log` format, `[INFO] ` and `{common}`, `{combined}` or a text of its placeholders (`{remote}`, `{port}`, `{>id}`, `{type}`, `{class}`, `{name}`, `{proto}`, `{size}`, `{>do}`, `{>bufsize}`, `{rcode}`, `{>rflags}`, `{rsize}`, `{duration}`, `{>opcode}`), on stdout",
  },
  logQueriesClasses: {
    flag: 'log-queries-class',
    group: 'operations',
    arg: 'CLASSES',
    default: 'all',
    parse: logClasses,
    help: 'with --log-queries, only these response classes: all | success | denial | error, comma-separated',
    doc: "with `--log-queries`, only these of CoreDNS's response classes: `all`, `success` (answers, referrals), `denial` (NXDOMAIN, NODATA), `error`; comma-separated",
  },
  logQueriesZones: {
    flag: 'log-queries-zones',
    group: 'operations',
    arg: 'ZONES',
    default: '.',
    parse: logZones,
    help: 'with --log-queries, only names in these zones, comma-separated',
    doc: 'with `--log-queries`, only names in these zones (`.` every name), comma-separated',
  },
  /** After SIGTERM: /ready says 503 and DNS keeps answering this long, then the sockets close. */
  lameduckMs: {
    flag: 'lameduck',
    group: 'operations',
    arg: 'DURATION',
    default: '5s',
    parse: (text: string, name: string) => parseDuration(name, text),
    help: 'after SIGTERM keep answering this long with /ready at 503, e.g. 5s',
    doc: 'after SIGTERM, keep answering this long with `/ready` at 503, then exit 0 (`5`, `5s`, `500ms`, `0`)',
  },
});

export type ObserveOptions = OptionValues<typeof OBSERVE_OPTIONS>;
