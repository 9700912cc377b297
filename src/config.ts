// The one Config, composed from the options each part declares (src/*/options.ts) and validated
// once at start-up. A bad flag or value becomes a ConfigError naming the flag; main prints it as
// one line and exits 2 before any socket is bound. --help, the flag parser, DEFAULT_CONFIG and
// the README's flag table all come from the parts' tables; only the rules that combine options
// of several parts are written here (the cluster source, and the calls to each part's setup).
//
// Other sources (the Corefile, issue 20) give their values as Assignments to resolveConfig:
//   resolveConfig([...flagAssignments, { flag: 'cache-success-ttl', value: '30',
//     from: { kind: 'corefile', file: 'Corefile', line: 7, directive: 'cache' } }], host)
// and get the same parsers, the same errors (named `Corefile:7: cache: …`), and `origins`.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bytes, ConfigError, optionTable, OPTION_GROUPS, type OptionSpec, type OptionTable } from './base/options.ts';
import {
  deepFreeze,
  originName,
  renderFlagTable,
  renderUsage,
  resolveOptions,
  type Assignment,
  type HelpSection,
  type Origin,
  type Resolved,
} from './config/table.ts';
import { MANIFESTS_OPTIONS, SNAPSHOT_OPTIONS, snapshotOptions, type SnapshotOptions } from './index/options.ts';
import { IN_CLUSTER_TOKEN, KUBE_OPTIONS } from './kube/options.ts';
import { OBSERVE_OPTIONS, type ObserveOptions } from './observe/options.ts';
import { SERVER_OPTIONS, serverOptions, WORKERS_OPTIONS, type ServerOptions } from './server/options.ts';
import { CACHE_OPTIONS, FORWARD_OPTIONS, forwardOptions, type ForwardConfig } from './upstream/options.ts';
import { ZONE_OPTIONS, type ZoneOptions } from './zone/options.ts';
import { COREFILE_OPTIONS, type CorefileOptions } from './corefile/options.ts';
import { loadCorefile, type Plan } from './corefile/directives/index.ts';
import type { Environment as CorefileEnvironment } from './corefile/env.ts';
import type { CorefileFs } from './corefile/fs.ts';
import { corefileAssignments, withCorefile } from './config/corefile.ts';

export { formatHostPort, unaskableAddress, type HostPort } from './base/address.ts';
export { ConfigError, parseDuration, parseHostPort } from './base/options.ts';
export type { Assignment, Origin } from './config/table.ts';
export { IN_CLUSTER_TOKEN } from './kube/options.ts';
export { isOwnListener, UPSTREAM_POLICIES, type ForwardConfig, type UpstreamPolicy } from './upstream/options.ts';

export type Source =
  | { readonly kind: 'kubernetes' /** null: $KUBECONFIG or the in-cluster service account */; readonly kubeconfig: string | null }
  | {
      readonly kind: 'manifests';
      readonly path: string;
      /** Files that add up to more than this are refused before they are read. */
      readonly maxBytes: number;
    };

/** The process's own: main.ts sizes the V8 heap to it (launch.ts reads the flag before this runs). */
const PROCESS_OPTIONS = optionTable({
  /** Bytes; null for the cgroup's limit, or none. */
  memoryLimit: {
    flag: 'memory-limit',
    group: 'operations',
    arg: 'BYTES',
    default: { value: null, text: "the container's cgroup limit, if any", doc: "the cgroup's limit" },
    parse: (text: string, name: string): number | null => bytes(name, text, 64 * 1024 * 1024, 1024 ** 4),
    help: 'the memory the server may use, e.g. 384Mi; the V8 heap is sized to fit it',
    doc: "the memory the server may use (`384Mi`, `1Gi`): V8's heap is sized to 60 % of it per `--workers` process; with neither, V8's default",
  },
});

/** Every part's table. Within a --help section and in the README, options come in this order. */
const PARTS = {
  corefile: COREFILE_OPTIONS,
  kube: KUBE_OPTIONS,
  manifests: MANIFESTS_OPTIONS,
  zone: ZONE_OPTIONS,
  server: SERVER_OPTIONS,
  forward: FORWARD_OPTIONS,
  cache: CACHE_OPTIONS,
  observe: OBSERVE_OPTIONS,
  workers: WORKERS_OPTIONS,
  snapshot: SNAPSHOT_OPTIONS,
  process: PROCESS_OPTIONS,
} as const;
type Parts = typeof PARTS;

/** Every option, each declared once, in order. */
export const OPTIONS: readonly OptionSpec<unknown>[] = Object.values(PARTS).flatMap((table: OptionTable) => Object.values(table));
const BY_FLAG = new Map(OPTIONS.map((spec) => [spec.flag, spec]));
if (BY_FLAG.size !== OPTIONS.length) throw new Error('two options declare the same flag');

export interface Config extends ZoneOptions, ServerOptions, ObserveOptions, CorefileOptions {
  readonly source: Source;
  /** Names outside the cluster zone: where they go, and what is kept of the answers. */
  readonly forward: ForwardConfig;
  /** Processes answering queries; one of them watches the cluster and feeds the others. */
  readonly workers: number;
  /** Where the slim index is kept on disk for restarts during an API outage (live clusters only). */
  readonly snapshot: SnapshotOptions;
  /** --memory-limit (bytes): main.ts sizes the V8 heap to it; null for the cgroup's limit, or none. */
  readonly memoryLimit: number | null;
}

/** What the command line asked for besides running: --help or --version. */
export type ParseResult =
  | {
      readonly kind: 'run';
      readonly config: Config;
      /** Where each option's value came from, by flag name. */
      readonly origins: ReadonlyMap<string, Origin>;
    }
  | { readonly kind: 'help' }
  | { readonly kind: 'version' };

export const BUNDLED_EXAMPLE = fileURLToPath(new URL('../examples/cluster.yaml', import.meta.url));

const SECTIONS: readonly HelpSection[] = [
  {
    group: 'source',
    title:
      'Cluster source (first that applies): --manifests, --kubeconfig, $KUBECONFIG, the in-cluster\n' +
      'service account; with none of them it exits 2 (the example cluster: --manifests examples/cluster.yaml).',
  },
  { group: 'dns', title: 'DNS:' },
  { group: 'forward', title: 'Names outside the cluster zone:' },
  { group: 'cache', title: 'Cache of upstream answers:' },
  { group: 'operations', title: 'Operations:' },
];
if (SECTIONS.map((s) => s.group).join() !== OPTION_GROUPS.join()) throw new Error('a --help section for each option group, in order');

export const USAGE = renderUsage(
  'Usage: cluster-dns [flags]\n\nAnswers the Kubernetes cluster zone from a watch-driven in-memory index.\n',
  SECTIONS,
  OPTIONS,
  '\n  --help, --version\n',
);

/** The README's "Flags" table (scripts/flag-table.ts prints it; test/config.test.ts compares). */
export const README_FLAG_TABLE = renderFlagTable(OPTIONS, ['| `--help`, `--version` | | |']);

const ARGS = {
  ...Object.fromEntries(
    OPTIONS.map((spec) => [
      spec.flag,
      spec.arg === undefined ? { type: 'boolean' as const } : { type: 'string' as const, multiple: spec.repeatable === true },
    ]),
  ),
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

/** The command line as Assignments (or --help / --version). */
export function flagAssignments(
  argv: readonly string[],
): { readonly kind: 'run'; readonly assignments: readonly Assignment[] } | { readonly kind: 'help' } | { readonly kind: 'version' } {
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  // CoreDNS's own Deployment args spell it `-conf`: taken as --conf.
  const args = argv.map((a) => (a === '-conf' ? '--conf' : a.startsWith('-conf=') ? `-${a}` : a));
  try {
    ({ values } = parseArgs({ args, options: ARGS, strict: true, allowPositionals: false }));
  } catch (err) {
    // node:util's messages name the flag; keep them to one line.
    const message = (err as Error).message.split('\n')[0] ?? 'invalid arguments';
    // "Option '-h, --help' …" names the short form first; the long one is the flag users know.
    const named = /'(-{1,2}[\w-]+)(?:, (--[\w-]+))?/.exec(message);
    const flag = named?.[2] ?? named?.[1] ?? 'arguments';
    if (/argument is ambiguous/.test(message)) {
      // `--ttl -5`: node:util will not take a value that starts with a dash.
      const at = argv.indexOf(flag);
      const value = at < 0 ? '' : (argv[at + 1] ?? '');
      throw new ConfigError(flag, `the value ${JSON.stringify(value)} starts with "-" (write ${flag}=${value} if you mean it)`);
    }
    throw new ConfigError(flag, message.replace(/^Unknown option '[^']+'/, 'unknown flag').replace(/\. To specify.*$/, ''));
  }
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  const assignments: Assignment[] = [];
  for (const spec of OPTIONS) {
    const given = values[spec.flag];
    for (const value of given === undefined ? [] : Array.isArray(given) ? given : [given])
      assignments.push({ flag: spec.flag, value, from: { kind: 'flag' } });
  }
  return { kind: 'run', assignments };
}

export interface Environment {
  readonly KUBECONFIG?: string | undefined;
}

/** What start-up reads from the machine besides the options; tests give their own. */
export interface Host {
  readonly env: Environment;
  readonly fileExists: (path: string) => boolean;
  readonly readText: (path: string) => string;
  /** This machine's interface addresses (by default, networkInterfaces()). */
  readonly localAddresses?: ReadonlySet<string>;
  /** --check: no cluster source found is reported, not refused (the Corefile is what is checked). */
  readonly sourceMayBeMissing?: boolean;
}

function noSource(): never {
  throw new ConfigError(
    'cluster source',
    `none found (looked for --manifests, --kubeconfig, $KUBECONFIG and the service account token ${IN_CLUSTER_TOKEN}); for the example cluster give --manifests examples/cluster.yaml`,
  );
}

type ResolvedParts = { readonly [P in keyof Parts]: Resolved<Parts[P]> };

/** The cluster source: --manifests, --kubeconfig, $KUBECONFIG, the in-cluster token; null for none. */
function clusterSource(r: ResolvedParts, host: Host, nameOf: (flag: string) => string): Source | null {
  const { kubeconfig } = r.kube.values;
  const { manifests, manifestsMaxBytes } = r.manifests.values;
  if (kubeconfig !== null && manifests !== null) {
    throw new ConfigError(nameOf('manifests'), 'cannot be combined with --kubeconfig: choose one cluster source');
  }
  let source: Source | null = null;
  if (manifests !== null) {
    if (!host.fileExists(manifests)) throw new ConfigError(nameOf('manifests'), `no such file or folder: ${manifests}`);
    source = { kind: 'manifests', path: manifests, maxBytes: manifestsMaxBytes };
  } else if (kubeconfig !== null) {
    if (!host.fileExists(kubeconfig)) throw new ConfigError(nameOf('kubeconfig'), `no such file: ${kubeconfig}`);
    source = { kind: 'kubernetes', kubeconfig };
  } else if (host.env.KUBECONFIG || host.fileExists(IN_CLUSTER_TOKEN)) {
    source = { kind: 'kubernetes', kubeconfig: null };
  }
  if (r.manifests.given('manifestsMaxBytes') && source?.kind !== 'manifests')
    throw new ConfigError(nameOf('manifests-max-size'), 'needs --manifests PATH');
  return source;
}

/**
 * The Config from assignments of any source (flags, a Corefile), deeply frozen, with where each
 * value came from. Every value is parsed and checked first; the rules that combine them follow.
 */
export function resolveConfig(
  assignments: readonly Assignment[],
  host: Host,
): { readonly config: Config; readonly origins: ReadonlyMap<string, Origin> } {
  const unknown = assignments.find((a) => !BY_FLAG.has(a.flag));
  if (unknown) throw new ConfigError(originName(unknown.flag, unknown.from), 'unknown option');
  const r = Object.fromEntries(
    Object.entries(PARTS).map(([part, table]) => [part, resolveOptions(table, assignments)]),
  ) as unknown as ResolvedParts;
  const origins = new Map<string, Origin>();
  for (const [part, table] of Object.entries(PARTS) as [keyof Parts, OptionTable][]) {
    for (const [key, spec] of Object.entries(table)) origins.set(spec.flag, (r[part].origins as Record<string, Origin>)[key]!);
  }
  const nameOf = (flag: string) => originName(flag, origins.get(flag) ?? { kind: 'flag' });

  // None found is refused once every option has been checked: a pod without its service account
  // token must not come up serving no cluster (or, as before, the example) and say it is ready.
  // --check on a machine with no cluster: checked as if in the pod, with its service account.
  const source = clusterSource(r, host, nameOf) ?? (host.sourceMayBeMissing ? ({ kind: 'kubernetes', kubeconfig: null } as const) : null);
  const server = serverOptions(r.server.values);
  const zone = r.zone.values;
  const forward = forwardOptions(r.forward.values, r.cache.values, {
    listen: server.listen,
    zone: zone.zone,
    resolvConfGiven: r.forward.given('resolvConf'),
    readText: host.readText,
    nameOf,
    ...(host.localAddresses ? { local: host.localAddresses } : {}),
  });
  const snapshot = snapshotOptions(r.snapshot.values, {
    live: source?.kind === 'kubernetes',
    given: (key) => r.snapshot.given(key),
    fileExists: host.fileExists,
    nameOf,
  });
  const config: Config = {
    ...zone,
    ...r.corefile.values,
    ...server,
    ...r.observe.values,
    ...r.workers.values,
    ...r.process.values,
    forward,
    snapshot,
    // Last, so that every option is checked first.
    source: source ?? noSource(),
  };
  return { config: deepFreeze(config), origins };
}

/** What a start reads: the options, and the compiled Corefile when --conf names one. */
export type LoadResult =
  | (ParseResult & { readonly kind: 'help' | 'version' })
  | (Extract<ParseResult, { kind: 'run' }> & {
      readonly plan: Plan | null;
      /** Every assignment that set an option, flags and Corefile alike (what --check prints). */
      readonly assignments: readonly Assignment[];
      /** Those of them the Corefile implies by saying nothing (CoreDNS's defaults). */
      readonly implied: ReadonlySet<Assignment>;
    });

/**
 * The Config from flags and, with --conf, the Corefile (parsed, compiled and mapped onto the same
 * options). Throws ConfigError (a flag) or CorefileError (`FILE:LINE: why`).
 */
export async function loadConfiguration(
  argv: readonly string[],
  host: Host & { readonly corefileEnv?: CorefileEnvironment; readonly corefileFs?: CorefileFs } = {
    env: process.env,
    fileExists: existsSync,
    readText: (path) => readFileSync(path, 'utf8'),
  },
): Promise<LoadResult> {
  const flags = flagAssignments(argv);
  if (flags.kind !== 'run') return flags;
  const conf = flags.assignments.filter((a) => a.flag === 'conf').at(-1)?.value;
  if (typeof conf !== 'string')
    return { kind: 'run', ...resolveConfig(flags.assignments, host), plan: null, assignments: flags.assignments, implied: new Set() };
  // A bad flag value is named before the Corefile is read (without one, resolveConfig names it).
  for (const table of Object.values(PARTS) as OptionTable[]) resolveOptions(table, flags.assignments);
  const { plan } = await loadCorefile(conf, { env: host.corefileEnv ?? process.env, ...(host.corefileFs ? { fs: host.corefileFs } : {}) });
  const fromCorefile = corefileAssignments(plan);
  const assignments = withCorefile(flags.assignments, fromCorefile);
  return { kind: 'run', ...resolveConfig(assignments, host), plan, assignments, implied: new Set(fromCorefile.implied) };
}

/**
 * The Config a reloaded Corefile's plan makes with the same command line: what a reload applies.
 * Throws ConfigError (a flag and a new line for one option) or CorefileError.
 */
export function configForPlan(argv: readonly string[], plan: Plan, host: Host): Config {
  const flags = flagAssignments(argv);
  if (flags.kind !== 'run') throw new ConfigError('arguments', 'not a run');
  return resolveConfig(withCorefile(flags.assignments, corefileAssignments(plan)), host).config;
}

export function parseConfig(
  argv: readonly string[],
  env: Environment = process.env,
  fileExists: (path: string) => boolean = existsSync,
  readText: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): ParseResult {
  const flags = flagAssignments(argv);
  if (flags.kind !== 'run') return flags;
  return { kind: 'run', ...resolveConfig(flags.assignments, { env, fileExists, readText }) };
}

/**
 * Every option at its default, serving the bundled example, with no upstreams (no resolv.conf
 * is read): what tests and benchmarks spread instead of writing defaults of their own.
 */
export const DEFAULT_CONFIG: Config = resolveConfig([{ flag: 'manifests', value: BUNDLED_EXAMPLE, from: { kind: 'default' } }], {
  env: {},
  fileExists: () => true,
  readText: () => '',
  localAddresses: new Set(),
}).config;
