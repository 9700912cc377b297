// --snapshot's hand-over: the last snapshot is served until the live source has listed every
// kind, then the source's index is written back now and then. A missing or unusable file only
// means starting empty (and SERVFAIL until the sync), never a failed start.
import { existsSync } from 'node:fs';
import type { ObjectKinds } from '../objects/kinds.ts';
import type { ClusterIndex } from './index.ts';
import { formatBytes, restoreSnapshot, SnapshotError, startSnapshotWriter } from './snapshot.ts';
import type { Source } from './source.ts';
import type { Logger } from '../base/log.ts';

export interface SnapshotHandoverOptions {
  readonly path: string;
  readonly intervalMs: number;
  readonly maxAgeMs: number;
  readonly maxBytes: number;
  readonly zone: string;
  /** The kinds the source reads (objectKinds); all of them by default. */
  readonly kinds?: ObjectKinds;
  readonly index: ClusterIndex;
  readonly logger: Logger;
  /** The live source; `heardAt` is when every kind last heard from it (a snapshot's refresh). */
  readonly source: Source & { heardAt(): number | null };
}

export interface SnapshotHandover {
  /** True from a restore until the live sync replaced it. */
  serving(): boolean;
  /** The last write (at shutdown: before the source stops). */
  stop(): Promise<void>;
}

/**
 * Restores the snapshot into the index now (before the source starts filling it) and starts the
 * writer, whose first write waits for the source's sync.
 */
export function restoreSnapshotThenWrite(options: SnapshotHandoverOptions): SnapshotHandover {
  const { path, source, logger } = options;
  let serving = restore(options);
  source.onListed(() => {
    if (serving && source.synced()) {
      serving = false;
      logger.info({ path }, 'live sync replaced the snapshot');
    }
  });
  const writer = startSnapshotWriter({
    path,
    intervalMs: options.intervalMs,
    maxAgeMs: options.maxAgeMs,
    maxBytes: options.maxBytes,
    zone: options.zone,
    index: options.index,
    logger,
    live: () => source.synced(),
    heardAt: () => source.heardAt(),
  });
  return { serving: () => serving, stop: () => writer.stop() };
}

function restore({ path, zone, kinds, index, logger, maxBytes, maxAgeMs }: SnapshotHandoverOptions): boolean {
  if (!existsSync(path)) {
    logger.info({ path }, 'no snapshot yet');
    return false;
  }
  try {
    const started = performance.now();
    const restored = restoreSnapshot(path, index, { zone, maxBytes, maxAgeMs, ...(kinds ? { kinds } : {}) });
    if (restored.dropped > 0) {
      logger.warn({ path, dropped: restored.dropped, problems: restored.problems }, 'snapshot objects that fail the checks were left out');
    }
    logger.warn(
      {
        path,
        writtenAt: new Date(restored.writtenAt).toISOString(),
        size: formatBytes(restored.bytes),
        counts: restored.counts,
        dropped: restored.dropped,
        ms: Math.round(performance.now() - started),
      },
      'serving from snapshot until the live sync',
    );
    return true;
  } catch (err) {
    if (!(err instanceof SnapshotError)) throw err;
    logger.warn({ path, err: err.message }, 'snapshot ignored');
    return false;
  }
}
