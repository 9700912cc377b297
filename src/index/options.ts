// The index's files: the manifests source (a file or folder instead of an API server) and the
// snapshot that keeps the index across restarts. snapshotOptions() is this part's setup.
import { dirname } from 'node:path';
import { formatBytes } from '../base/bytes.ts';
import {
  anyText,
  bytes,
  ConfigError,
  formatDuration,
  optionTable,
  parseDuration,
  parseLongDuration,
  type OptionValues,
} from '../base/options.ts';
import { DEFAULT_MANIFESTS_MAX_BYTES } from './manifests.ts';
import { DEFAULT_SNAPSHOT_MAX_AGE_MS, DEFAULT_SNAPSHOT_MAX_BYTES } from './snapshot.ts';

export const MANIFESTS_OPTIONS = optionTable({
  manifests: {
    flag: 'manifests',
    group: 'source',
    arg: 'PATH',
    default: { value: null as string | null, text: '' },
    parse: anyText,
    help: 'serve Kubernetes objects from a YAML/JSON file or folder (reloaded on change)',
    doc: 'serve Kubernetes objects from a YAML/JSON file or folder instead of an API server; reloaded when a file changes (read and converted in a worker thread, applied a batch per turn of the event loop, as a relist), a bad file keeps the last good index and logs why. YAML aliases may not expand a file past its own size in bytes + 10,000 nodes, nor a document hold more than 1,000 of them (alias bombs); a reload that needs more than 1 GiB of heap is refused',
  },
  /** Files that add up to more than this are refused before they are read. */
  manifestsMaxBytes: {
    flag: 'manifests-max-size',
    group: 'source',
    arg: 'BYTES',
    default: formatBytes(DEFAULT_MANIFESTS_MAX_BYTES),
    parse: (text: string, name: string) => bytes(name, text, 1024, 16 * 1024 ** 3),
    help: 'refuse manifests that add up to more than this, e.g. 64Mi',
    doc: "manifests that add up to more are refused before they are read (`64Mi`, `1Gi`); js-yaml needs ~30 times a YAML file's size while it reads it",
  },
});

/** A duration parser that also refuses less than `min` ms. */
function durationAtLeast(parse: (name: string, text: string) => number, min: number) {
  return (text: string, name: string): number => {
    const ms = parse(name, text);
    if (ms < min) throw new ConfigError(name, `must be at least ${formatDuration(min)} (got "${text}")`);
    return ms;
  };
}

function snapshotPath(text: string, name: string): string | null {
  if (text === '' || text.endsWith('/')) throw new ConfigError(name, `must name a file (got "${text}")`);
  return text;
}

export const SNAPSHOT_OPTIONS = optionTable({
  path: {
    flag: 'snapshot',
    group: 'operations',
    arg: 'PATH',
    default: { value: null, text: '' },
    parse: snapshotPath,
    help: 'keep the index in this file (atomically, every --snapshot-interval and at shutdown); a restart while the API server is down serves from it',
    doc: 'keep the index in this file and serve from it after a restart until the live sync (live clusters only)',
  },
  intervalMs: {
    flag: 'snapshot-interval',
    group: 'operations',
    arg: 'DURATION',
    default: '60s',
    parse: durationAtLeast(parseDuration, 1000),
    help: 'how often the snapshot is rewritten when the index changed',
    doc: 'how often the snapshot is rewritten when the index changed',
  },
  /** A file written longer ago than this is not restored. */
  maxAgeMs: {
    flag: 'snapshot-max-age',
    group: 'operations',
    arg: 'DURATION',
    default: formatDuration(DEFAULT_SNAPSHOT_MAX_AGE_MS),
    parse: durationAtLeast(parseLongDuration, 60_000),
    help: 'at start, ignore a snapshot written longer ago than this, e.g. 6h',
    doc: 'at start, a snapshot written longer ago is ignored (`6h`, `30m`; up to `168h`)',
  },
  /** A bigger file is not read at all. */
  maxBytes: {
    flag: 'snapshot-max-size',
    group: 'operations',
    arg: 'BYTES',
    default: formatBytes(DEFAULT_SNAPSHOT_MAX_BYTES),
    parse: (text: string, name: string) => bytes(name, text, 1024 * 1024, 16 * 1024 ** 3),
    help: 'at start, ignore a snapshot file bigger than this, e.g. 128Mi',
    doc: 'at start, a bigger snapshot file is ignored without being read',
  },
});

/** Where the slim index is kept on disk for restarts during an API outage (live clusters only). */
export type SnapshotOptions =
  | { readonly [K in keyof OptionValues<typeof SNAPSHOT_OPTIONS>]: NonNullable<OptionValues<typeof SNAPSHOT_OPTIONS>[K]> }
  | null;

export interface SnapshotContext {
  /** Whether the source is a live cluster (manifests are their own snapshot). */
  readonly live: boolean;
  /** Whether an option was set (by a flag or another source), not defaulted. */
  readonly given: (key: keyof typeof SNAPSHOT_OPTIONS) => boolean;
  readonly fileExists: (path: string) => boolean;
  readonly nameOf?: (flag: string) => string;
}

export function snapshotOptions(values: OptionValues<typeof SNAPSHOT_OPTIONS>, context: SnapshotContext): SnapshotOptions {
  const { nameOf = (flag: string) => `--${flag}` } = context;
  const { path } = values;
  if (path === null) {
    for (const key of ['intervalMs', 'maxAgeMs', 'maxBytes'] as const) {
      if (context.given(key)) throw new ConfigError(nameOf(SNAPSHOT_OPTIONS[key].flag), 'needs --snapshot PATH');
    }
    return null;
  }
  if (!context.live) {
    throw new ConfigError(
      nameOf('snapshot'),
      'needs a live cluster (--kubeconfig, $KUBECONFIG or in-cluster): manifests are their own snapshot',
    );
  }
  const folder = dirname(path);
  if (!context.fileExists(folder)) throw new ConfigError(nameOf('snapshot'), `no such folder: ${folder}`);
  return { ...values, path };
}
