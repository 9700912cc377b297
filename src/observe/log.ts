// One root pino logger, a child per component. JSON lines on stdout (Kubernetes collects them);
// synchronous so that nothing is lost on exit. Never called per query unless query logging is on.
import { pino, type Logger } from 'pino';

export type { Logger };
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function createLogger(level: LogLevel = 'info', destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'cluster-dns' },
      redact: { paths: ['token', '*.token', 'authorization', '*.authorization'], censor: '[redacted]' },
    },
    destination ?? pino.destination({ fd: 1, sync: true }),
  );
}

/** A logger that writes nothing: for tests and tools. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

export interface RateLimitedLog {
  /** Logs at `level` unless `key` already logged `burst` lines in this window. */
  (level: 'error' | 'warn', key: string, fields: object, msg: string): void;
}

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
