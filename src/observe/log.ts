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
