// After a full list (the first sync, a relist) the V8 heap has grown to several times what it
// keeps: every page of 500 API objects was parsed, converted and dropped. V8 keeps those pages
// committed. One last-resort collection hands them back: measured with 10k services and 150k
// pods, RSS after sync 300 MB -> 165-180 MB, for a ~100 ms pause once per sync. Lists are rare;
// the pause is taken once all kinds settle, not per page.
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Logger } from './log.ts';

type Collect = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;
let collect: Collect | null = null;

/** Runs a memory-reducing full GC now; returns the RSS it gave back, in bytes. */
export function releaseMemory(): number {
  // --expose-gc set at run time: Node documents the flag as settable this way, and the `gc`
  // function then exists in any new context.
  if (collect === null) {
    v8.setFlagsFromString('--expose-gc');
    collect = vm.runInNewContext('gc') as Collect;
  }
  const before = process.memoryUsage.rss();
  collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return before - process.memoryUsage.rss();
}

/** Coalesces requests (four kinds finishing their lists one after another) into one release. */
export function memoryReleaser(logger: Logger, delayMs = 1_000): { schedule(reason: string): void; cancel(): void } {
  let timer: NodeJS.Timeout | null = null;
  let reasons = new Set<string>();
  return {
    schedule(reason) {
      reasons.add(reason);
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        const started = performance.now();
        const released = releaseMemory();
        logger.info(
          { reasons: [...reasons], releasedMiB: Math.round(released / 1048576), rssMiB: Math.round(process.memoryUsage.rss() / 1048576), pauseMs: Math.round(performance.now() - started) },
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
