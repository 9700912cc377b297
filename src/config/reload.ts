// A running Corefile, reloaded: the files are watched (watch.ts: the ConfigMap's ..data swap, and
// CoreDNS's `reload INTERVAL` poll); a valid change swaps the handlers at once (the index, the
// forwarder and its cache stay); a broken one keeps the running configuration, is logged as
// `FILE:LINE: why` and counted in coredns_reload_failed_total, as CoreDNS's reload plugin does.
// Options (what flags also set: the zone, upstreams, cache sizes, ports) apply at the next start:
// a change to them is logged, naming each, and the handlers are swapped all the same.
import type { Plan } from '../corefile/directives/index.ts';
import { CorefileError } from '../corefile/errors.ts';
import { watchCorefile, type CorefileWatcher, type WatchOptions } from '../corefile/watch.ts';
import { corefileAssignments } from './corefile.ts';

/** The logger's part this uses (pino's). */
interface ReloadLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface Reloadable {
  applyPlan(plan: Plan): void;
}

export interface ReloadOptions extends Partial<Pick<WatchOptions, 'env' | 'fs' | 'debounceMs' | 'events' | 'random'>> {
  readonly logger: ReloadLog & { child(bindings: object): ReloadLog };
  /** coredns_reload_failed_total and coredns_reload_version_info (observe/metrics/process.ts). */
  readonly metrics: { countReloadFailure(): void; setConfigHash(hash: string | null): void };
  /** The plan the server started with (what the options were read from). */
  readonly running: Plan;
}

/** The options a plan sets, as text to compare: `flag=value` per assignment, in order. */
function optionsOf(plan: Plan): Map<string, string> {
  const { written, implied } = corefileAssignments(plan);
  const out = new Map<string, string>();
  for (const a of [...written, ...implied]) out.set(a.flag, `${out.has(a.flag) ? `${out.get(a.flag)},` : ''}${String(a.value)}`);
  return out;
}

export async function startReloading(app: Reloadable, path: string, options: ReloadOptions): Promise<CorefileWatcher> {
  const log = options.logger.child({ component: 'reload' });
  const started = optionsOf(options.running);
  const failed = (reason: string) => {
    options.metrics.countReloadFailure();
    log.error({ reason }, 'Corefile not reloaded: the running configuration stays');
  };
  const watcher = await watchCorefile(path, {
    ...(options.env ? { env: options.env } : {}),
    ...(options.fs ? { fs: options.fs } : {}),
    ...(options.debounceMs !== undefined ? { debounceMs: options.debounceMs } : {}),
    ...(options.events !== undefined ? { events: options.events } : {}),
    ...(options.random ? { random: options.random } : {}),
    onReload: (event) => {
      if (event.kind === 'failed') return failed(event.error.message);
      const { plan, hash } = event.loaded;
      let next: Map<string, string>;
      try {
        next = optionsOf(plan);
      } catch (err) {
        if (err instanceof CorefileError) return failed(err.message);
        throw err;
      }
      app.applyPlan(plan);
      options.metrics.setConfigHash(hash);
      const changed = [...new Set([...started.keys(), ...next.keys()])].filter((flag) => started.get(flag) !== next.get(flag));
      if (changed.length > 0)
        log.warn({ options: changed.map((f) => `--${f}`) }, 'Corefile reloaded; these options apply at the next start');
      else log.info({ hash }, 'Corefile reloaded');
    },
  });
  options.metrics.setConfigHash(watcher.current.hash);
  return watcher;
}
