// One root pino logger, a child per component. Lines on stdout (Kubernetes collects them);
// synchronous so that nothing is lost on exit. Never called per query unless query logging is on.
// JSON carries level names and ISO times (what collectors and `kubectl logs` readers both take
// without a pino-specific mapping); `--log-format text` turns each line into one for people.
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
export type LogFormat = 'json' | 'text';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'text'];

export interface LoggerOptions {
  readonly format?: LogFormat;
  /** Default: stdout, written synchronously. */
  readonly destination?: NodeJS.WritableStream;
}

export function createLogger(level: LogLevel = 'info', options: LoggerOptions = {}): Logger {
  const out: DestinationStream = options.destination ?? pino.destination({ fd: 1, sync: true });
  const destination: DestinationStream = options.format === 'text' ? { write: (line: string) => out.write(formatTextLine(line)) } : out;
  return pino(
    {
      level,
      base: { service: 'cluster-dns' },
      formatters: { level: (label) => ({ level: label }) },
      timestamp: isoTime,
      redact: { paths: ['token', '*.token', 'authorization', '*.authorization'], censor: '[redacted]' },
    },
    destination,
  );
}

/** Whole lines to stdout, written synchronously as the logger's own are (CoreDNS-format query lines). */
export function stdoutLines(): (line: string) => void {
  const out = pino.destination({ fd: 1, sync: true });
  return (line) => {
    out.write(line);
  };
}

let stampedAt = 0;
let stamp = '';
/** pino's isoTime, formatted once per millisecond: a query log writes many lines in one. */
function isoTime(): string {
  const now = Date.now();
  if (now !== stampedAt) {
    stampedAt = now;
    stamp = `,"time":"${new Date(now).toISOString()}"`;
  }
  return stamp;
}

/**
 * One JSON line as text: `2026-01-02T03:04:05.678Z INFO  [kubernetes] synced kind=Pod items=3`.
 * Strings without spaces or quotes go bare, `{host, port}` as HOST:PORT, lists joined by commas,
 * an error by its message; anything else as JSON. A line that is not JSON passes through.
 */
export function formatTextLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { level, time, msg, component, service: _service, ...fields } = entry;
  let text = `${String(time ?? '')} ${String(level ?? '')
    .toUpperCase()
    .padEnd(5)}`;
  if (typeof component === 'string') text += ` [${component}]`;
  text += ` ${String(msg ?? '')}`;
  for (const [key, value] of Object.entries(fields)) text += ` ${key}=${textValue(value)}`;
  return `${text}\n`;
}

function textValue(value: unknown): string {
  if (typeof value === 'string') return value !== '' && /^[^\s"=\\]+$/.test(value) ? value : JSON.stringify(value);
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) {
    const items = value.map(textValue);
    return items.length > 0 && items.every((item) => !/[,\s]/.test(item)) ? items.join(',') : JSON.stringify(value);
  }
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 2 && typeof o.host === 'string' && typeof o.port === 'number')
    return o.host.includes(':') ? `[${o.host}]:${o.port}` : `${o.host}:${o.port}`;
  if (typeof o.message === 'string' && (typeof o.type === 'string' || typeof o.stack === 'string')) return JSON.stringify(o.message);
  return JSON.stringify(value);
}

/** A logger that writes nothing: for tests and tools. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** Logs at `level` unless `key` already logged `burst` lines in this window. */
export type RateLimitedLog = (level: 'error' | 'warn', key: string, fields: object, msg: string) => void;

/**
 * Repeated errors (a failing upstream, a broken watch) must not flood the log or cost a log line
 * per query: each key gets `burst` lines per window; the next line after the window says how many
 * were left out (`suppressed`), and `onSuppressed` counts them for metrics.
 */
export function rateLimitedLog(
  logger: Logger,
  options: { windowMs?: number; burst?: number; now?: () => number; onSuppressed?: (n: number) => void } = {},
): RateLimitedLog {
  const windowMs = options.windowMs ?? 10_000;
  const burst = options.burst ?? 5;
  const now = options.now ?? Date.now;
  const keys = new Map<string, { start: number; logged: number; suppressed: number }>();
  return (level, key, fields, msg) => {
    const t = now();
    let state = keys.get(key);
    if (!state || t - state.start >= windowMs) {
      const suppressed = state?.suppressed ?? 0;
      // Keys are a handful of error kinds, but never let a stream of unique keys grow the map.
      if (!state && keys.size >= 1000) keys.clear();
      state = { start: t, logged: 0, suppressed: 0 };
      keys.set(key, state);
      if (suppressed > 0) {
        logger[level]({ ...fields, suppressed }, msg);
        state.logged++;
        return;
      }
    }
    if (state.logged < burst) {
      state.logged++;
      logger[level](fields, msg);
      return;
    }
    state.suppressed++;
    options.onSuppressed?.(1);
  };
}
