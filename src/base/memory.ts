// After a full list (the first sync, a relist) the V8 heap has grown to several times what it
// keeps: every page of 500 API objects was parsed, converted and dropped. V8 keeps those pages
// committed. One last-resort collection hands them back, for a pause once per sync (bench/RESULTS.md,
// "Figures behind the code"). Lists are rare; the pause is taken once all kinds settle, not per page.
//
// The GC frees the list's native buffers too, but glibc keeps the free pages between chunks still
// in use; malloc_trim(0), through the optional addon native/malloc-trim.node, hands those back.
// Without the addon (no compiler at build time, not glibc, --no-addons)
// the release is the GC alone.
import { createRequire } from 'node:module';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Logger } from './log.ts';

type Collect = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;
let collect: Collect | null = null;

interface MallocTrim {
  trim(): boolean;
}
let mallocTrim: MallocTrim | null | undefined;

/** The addon, or null when it is not built or cannot load. src/ and dist/ sit at the same depth. */
export function loadMallocTrim(path = new URL('../../native/malloc-trim.node', import.meta.url).pathname): MallocTrim | null {
  try {
    const addon = createRequire(import.meta.url)(path) as Partial<MallocTrim>;
    return typeof addon.trim === 'function' ? (addon as MallocTrim) : null;
  } catch {
    return null;
  }
}

export interface Released {
  /** RSS given back, in bytes (negative when something else grew meanwhile). */
  readonly bytes: number;
  /** Whether malloc_trim ran and gave memory back. */
  readonly trimmed: boolean;
}

/** Runs a memory-reducing full GC now, then malloc_trim when the addon is there. */
export function releaseMemory(): Released {
  // --expose-gc set at run time: Node documents the flag as settable this way, and the `gc`
  // function then exists in any new context.
  if (collect === null) {
    v8.setFlagsFromString('--expose-gc');
    collect = vm.runInNewContext('gc') as Collect;
  }
  if (mallocTrim === undefined) mallocTrim = loadMallocTrim();
  const before = process.memoryUsage.rss();
  collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  const trimmed = mallocTrim?.trim() ?? false;
  return { bytes: before - process.memoryUsage.rss(), trimmed };
}

export interface MemoryReleaser {
  /** Releases `delayMs` after the last request, once for all requests until then. */
  schedule(reason: string): void;
  /** Names a reason for the next release without arming it (a list that others will follow). */
  hold(reason: string): void;
  cancel(): void;
}

/** Coalesces requests (four kinds finishing their lists one after another) into one release. */
export function memoryReleaser(logger: Logger, delayMs = 1_000, release: () => Released = releaseMemory): MemoryReleaser {
  let timer: NodeJS.Timeout | null = null;
  let reasons = new Set<string>();
  return {
    hold(reason) {
      reasons.add(reason);
    },
    schedule(reason) {
      reasons.add(reason);
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        const started = performance.now();
        const released = release();
        logger.info(
          {
            reasons: [...reasons],
            releasedMiB: Math.round(released.bytes / 1048576),
            mallocTrimmed: released.trimmed,
            rssMiB: Math.round(process.memoryUsage.rss() / 1048576),
            pauseMs: Math.round(performance.now() - started),
          },
          'memory released',
        );
        reasons = new Set();
      }, delayMs);
      timer.unref();
    },
    cancel() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
