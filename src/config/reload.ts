// A running Corefile, reloaded: the files are watched (watch.ts: the ConfigMap's ..data swap, and
// CoreDNS's `reload INTERVAL` poll); a valid change swaps the handlers at once (the index, the
// forwarder and its cache stay); a broken one keeps the running configuration, is logged as
// `FILE:LINE: why` and counted in coredns_reload_failed_total, as CoreDNS's reload plugin does.
// Options (what flags also set) of the live set apply too: the zone's answers, the upstreams and
// their cache, the query log (app.ts's LIVE_OPTIONS). The rest (addresses, the cluster source,
// what is watched) apply at the next start: a change to them is logged, naming each.
import type { Plan } from '../corefile/directives/index.ts';
import { CorefileError } from '../corefile/errors.ts';
import { watchCorefile, type CorefileWatcher, type WatchOptions } from '../corefile/watch.ts';
import { corefileAssignments } from './corefile.ts';
import type { Config } from '../config.ts';
import { ConfigError } from '../base/options.ts';

/** The logger's part this uses (pino's). */
interface ReloadLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface Reloadable {
  /** Swaps in the plan's handlers and, given `config`, its live options; returns those it could not apply. */
  applyPlan(plan: Plan, config?: Config): readonly string[] | undefined;
}

export interface ReloadOptions extends Partial<Pick<WatchOptions, 'env' | 'fs' | 'debounceMs' | 'events' | 'random'>> {
  readonly logger: ReloadLog & { child(bindings: object): ReloadLog };
  /** coredns_reload_failed_total and coredns_reload_version_info (observe/metrics/process.ts). */
  readonly metrics: { countReloadFailure(): void; setConfigHash(hash: string | null): void };
  /** The plan the server started with (what the options were read from). */
  readonly running: Plan;
  /**
   * The Config a plan makes with the command line's flags (a flag and a new line for one option
   * is a failed reload); without it no option applies before the next start.
   */
  readonly configure?: (plan: Plan) => Config;
  /** The options `applyPlan` applies from a Config. */
  readonly live?: ReadonlySet<string>;
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
  // What runs: the started plan's options, and each live option as last applied.
  const effective = optionsOf(options.running);
  const live = options.configure ? (options.live ?? new Set<string>()) : new Set<string>();
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
      let config: Config | undefined;
      try {
        next = optionsOf(plan);
        config = options.configure?.(plan);
      } catch (err) {
        if (err instanceof CorefileError || err instanceof ConfigError) return failed(err.message);
        throw err;
      }
      const notApplied = new Set(app.applyPlan(plan, config) ?? []);
      options.metrics.setConfigHash(hash);
      const changed = [...new Set([...effective.keys(), ...next.keys()])].filter((flag) => effective.get(flag) !== next.get(flag));
      const applied = changed.filter((flag) => live.has(flag) && !notApplied.has(flag));
      for (const flag of applied) {
        const value = next.get(flag);
        if (value === undefined) effective.delete(flag);
        else effective.set(flag, value);
      }
      const later = changed.filter((flag) => !applied.includes(flag));
      if (later.length > 0)
        log.warn(
          { options: later.map((f) => `--${f}`), ...(applied.length > 0 ? { applied: applied.map((f) => `--${f}`) } : {}) },
          'Corefile reloaded; these options apply at the next start',
        );
      else log.info({ hash, ...(applied.length > 0 ? { applied: applied.map((f) => `--${f}`) } : {}) }, 'Corefile reloaded');
    },
  });
  options.metrics.setConfigHash(watcher.current.hash);
  return watcher;
}
