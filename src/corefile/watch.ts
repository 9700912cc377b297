// The Corefile reload watcher. A ConfigMap volume is updated by swapping its `..data` symlink
// (a rename in the mounted folder), so the folders holding the Corefile and its imports are
// watched, not the files. Events are debounced and only start a check: the Corefile is read and
// compiled again, and a change is reported only when the bytes read (and the files the import
// globs match) hash differently, so no-op events and updates of other ConfigMap keys cost one
// read. `reload INTERVAL JITTER` adds CoreDNS's own mechanism, a check every interval, for
// folders that give no events (network filesystems, a glob folder created later).
// Applying a new plan is the caller's job; a failed check reports FILE:LINE: why and keeps
// nothing, so the caller keeps the running configuration.
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { posix } from 'node:path';
import { compile, type CompileOptions, type Plan } from './directives/compile.ts';
import type { ReloadSettings } from './directives/server.ts';
import { CorefileError } from './errors.ts';
import { nodeFs, type CorefileFs } from './fs.ts';
import { isGlob } from './glob.ts';
import { parseCorefile, type Corefile, type ParseOptions } from './parse.ts';

export interface Loaded {
  readonly corefile: Corefile;
  readonly plan: Plan;
  /** sha256 of the bytes read and of the import globs' matches. */
  readonly hash: string;
}

export type ReloadEvent =
  | { readonly kind: 'changed'; readonly loaded: Loaded }
  | { readonly kind: 'failed'; readonly error: CorefileError };

export interface WatchOptions extends CompileOptions, ParseOptions {
  /** Called for each change and each new failure (the same failure twice is reported once). */
  readonly onReload: (event: ReloadEvent) => void;
  /** Watch the folders for events (default true). */
  readonly events?: boolean;
  /** Quiet time after the last event before a check (default 200 ms: a swap is several events). */
  readonly debounceMs?: number;
  /** Polling as CoreDNS's reload does; default: the plan's `reload` line, none without one. */
  readonly poll?: ReloadSettings | null;
  /** For the jitter; Math.random by default. */
  readonly random?: () => number;
}

export interface CorefileWatcher {
  /** The configuration last read successfully. */
  readonly current: Loaded;
  /** Checks done so far (events and polls), for tests and metrics. */
  readonly checks: number;
  /** Checks the files now, as an event or a poll would. */
  check(): Promise<void>;
  close(): void;
}

/** Reads and compiles the Corefile, keeping a hash of exactly what was read. */
export async function loadWithHash(path: string, options: CompileOptions & ParseOptions = {}): Promise<Loaded> {
  const fs = options.fs ?? nodeFs;
  const reads: [string, Uint8Array][] = [];
  const recording: CorefileFs = {
    stat: (p) => fs.stat(p),
    readdir: (d) => fs.readdir(d),
    realpath: (p) => fs.realpath(p),
    async readFile(p, limit) {
      const bytes = await fs.readFile(p, limit);
      reads.push([p, bytes]);
      return bytes;
    },
  };
  const corefile = await parseCorefile(path, recording, options);
  const hash = createHash('sha256');
  for (const [p, bytes] of reads) hash.update(`${p}\0${bytes.length}\0`).update(bytes);
  for (const g of corefile.globs) hash.update(`glob\0${g.pattern}\0${g.matches.join('\0')}\0`);
  const plan = await compile(corefile, { ...options, fs });
  return { corefile, plan, hash: hash.digest('hex') };
}

/** Loads the Corefile at `path` and watches it. Throws CorefileError when the first load fails. */
export async function watchCorefile(path: string, options: WatchOptions): Promise<CorefileWatcher> {
  const abs = posix.resolve(path);
  const first = await loadWithHash(abs, options);
  return new Watcher(abs, first, options);
}

class Watcher implements CorefileWatcher {
  readonly #path: string;
  readonly #options: WatchOptions;
  readonly #random: () => number;
  #current: Loaded;
  #checks = 0;
  #watchers = new Map<string, FSWatcher>();
  #debounce: NodeJS.Timeout | null = null;
  #poll: NodeJS.Timeout | null = null;
  #pollSettings: ReloadSettings | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #lastFailure: string | null = null;
  #closed = false;

  constructor(path: string, first: Loaded, options: WatchOptions) {
    this.#path = path;
    this.#options = options;
    this.#random = options.random ?? Math.random;
    this.#current = first;
    this.#arm();
  }

  get current(): Loaded {
    return this.#current;
  }

  get checks(): number {
    return this.#checks;
  }

  check(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#run().finally(() => {
      this.#running = null;
      if (this.#again && !this.#closed) {
        this.#again = false;
        void this.check();
      }
    });
    return this.#running;
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
    if (this.#debounce) clearTimeout(this.#debounce);
    if (this.#poll) clearTimeout(this.#poll);
  }

  async #run(): Promise<void> {
    let loaded: Loaded;
    try {
      loaded = await loadWithHash(this.#path, this.#options);
    } catch (err) {
      this.#checks++;
      if (this.#closed) return;
      const error =
        err instanceof CorefileError
          ? err
          : new CorefileError('file', { file: this.#path, line: 0 }, `cannot be read: ${(err as Error).message}`);
      if (error.message !== this.#lastFailure) {
        this.#lastFailure = error.message;
        this.#options.onReload({ kind: 'failed', error });
      }
      return;
    }
    this.#checks++;
    if (this.#closed) return;
    this.#lastFailure = null;
    // Back to the running configuration after a failure is no change either.
    if (loaded.hash === this.#current.hash) return;
    this.#current = loaded;
    this.#arm();
    this.#options.onReload({ kind: 'changed', loaded });
  }

  /** Watches the folders of the files and globs now read, and (re)schedules the poll. */
  #arm(): void {
    if (this.#options.events ?? true) {
      const folders = new Set<string>();
      for (const s of this.#current.corefile.sources) {
        folders.add(posix.dirname(s.path));
        folders.add(posix.dirname(s.realPath));
      }
      for (const g of this.#current.corefile.globs) folders.add(fixedPrefix(g.pattern));
      for (const [dir, w] of this.#watchers) {
        if (!folders.has(dir)) {
          w.close();
          this.#watchers.delete(dir);
        }
      }
      for (const dir of folders) if (!this.#watchers.has(dir)) this.#watch(dir);
    }
    const poll = this.#options.poll === undefined ? this.#current.plan.reload : this.#options.poll;
    if (!samePoll(poll, this.#pollSettings) || (poll !== null && this.#poll === null)) {
      this.#pollSettings = poll;
      if (this.#poll) clearTimeout(this.#poll);
      this.#poll = null;
      if (poll !== null) this.#schedulePoll(poll);
    }
  }

  #watch(dir: string): void {
    let w: FSWatcher;
    try {
      w = watch(dir, { persistent: false }, () => this.#event());
    } catch {
      // A folder that is not there (yet): the poll, if any, sees what appears in it.
      return;
    }
    // A folder removed under the watch (the old ..2026_… data folder) ends its watch quietly.
    w.on('error', () => {
      w.close();
      if (this.#watchers.get(dir) === w) this.#watchers.delete(dir);
    });
    this.#watchers.set(dir, w);
  }

  #event(): void {
    if (this.#closed) return;
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = null;
      void this.check();
    }, this.#options.debounceMs ?? 200);
    this.#debounce.unref();
  }

  /** CoreDNS draws the jitter once per setup: interval ± jitter/2. */
  #schedulePoll(poll: ReloadSettings): void {
    const every = Math.max(1, poll.intervalMs + (this.#random() - 0.5) * poll.jitterMs);
    const tick = () => {
      if (this.#closed) return;
      void this.check().finally(() => {
        if (this.#closed || this.#pollSettings !== poll) return;
        this.#poll = setTimeout(tick, every);
        this.#poll.unref();
      });
    };
    this.#poll = setTimeout(tick, every);
    this.#poll.unref();
  }
}

function samePoll(a: ReloadSettings | null, b: ReloadSettings | null): boolean {
  return a === b || (a !== null && b !== null && a.intervalMs === b.intervalMs && a.jitterMs === b.jitterMs);
}

/** The deepest folder of a glob pattern with no wildcard in it. */
function fixedPrefix(pattern: string): string {
  const parts = pattern.split('/');
  const fixed: string[] = [];
  for (const part of parts.slice(0, -1)) {
    if (isGlob(part)) break;
    fixed.push(part);
  }
  return fixed.join('/') || '/';
}
