// The memory settings every way of starting cluster-dns gets (the image, `npm start`,
// `node dist/main.js`, `node src/main.ts`): without them V8 lets the young generation grow to
// 16 MiB a semi-space and glibc keeps an arena per thread, and RSS under load saws up to four
// times what it holds (bench/RESULTS.md, memory soak). V8's heap sizes and glibc's malloc are
// fixed when a process starts, so main.ts re-executes itself once (process.execve: the same
// pid, so signals, the exit status and lameduck are the process's own) with what is missing.
// Flags and variables the user gave win. Only node: built-ins here (and base/bytes.ts, which
// imports nothing): this runs before anything else is loaded.
import { parseBytes } from './base/bytes.ts';

/** glibc: one malloc arena, free memory trimmed past 128 KiB (the image's ENV). */
export const MEMORY_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '1', MALLOC_TRIM_THRESHOLD_: '131072' };
/** A 2 MiB young generation (the image's ENTRYPOINT). */
export const SEMI_SPACE_FLAG = '--max-semi-space-size=2';
/** Set in the re-executed process; set it yourself to run exactly with the flags you give. */
export const TUNED_ENV = 'CLUSTER_DNS_TUNED';
/**
 * The V8 heap's share of the memory limit, divided among the --workers processes. The rest is
 * for what is not heap: the node binary's pages (~54 MiB), the young generation, list buffers.
 */
const HEAP_SHARE = 0.6;
const MIN_HEAP_MIB = 64;
/** process.constrainedMemory() reports "no limit" as 0 or as about 2^64. */
const NO_LIMIT = 2 ** 60;

export { parseBytes };

/** The last value of `--name V` or `--name=V` in argv. */
function flagValue(argv: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  argv.forEach((arg, i) => {
    if (arg === name) value = argv[i + 1];
    else if (arg.startsWith(`${name}=`)) value = arg.slice(name.length + 1);
  });
  return value;
}

export interface MemoryLimit {
  readonly bytes: number;
  readonly from: '--memory-limit' | 'cgroup';
}

/** --memory-limit, else the cgroup's (a container's) limit, else none. */
export function memoryLimit(argv: readonly string[], constrained: number): MemoryLimit | null {
  const flag = flagValue(argv, '--memory-limit');
  if (flag !== undefined) {
    const bytes = parseBytes(flag);
    return Number.isFinite(bytes) && bytes > 0 ? { bytes, from: '--memory-limit' } : null;
  }
  return constrained > 0 && constrained < NO_LIMIT ? { bytes: constrained, from: 'cgroup' } : null;
}

/** --max-old-space-size for a limit: the heap's share of it per process, in MiB. */
export function heapMiB(limitBytes: number, workers: number): number {
  return Math.max(MIN_HEAP_MIB, Math.floor(((limitBytes / 1024 / 1024) * HEAP_SHARE) / workers));
}

export interface LaunchInput {
  /** The server's arguments (process.argv after the script). */
  readonly argv: readonly string[];
  readonly execArgv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** process.constrainedMemory(). */
  readonly constrained: number;
}

/** What to re-execute with: the Node flags to add and the environment, or null to run as started. */
export function launchPlan(input: LaunchInput): { readonly flags: string[]; readonly env: Record<string, string | undefined> } | null {
  const { argv, env } = input;
  // Already done, asked not to, or nothing to run (--help, --version). A process started with an
  // IPC channel would lose it across exec.
  if (env[TUNED_ENV] !== undefined || env.NODE_CHANNEL_FD !== undefined) return null;
  if (argv.some((a) => a === '--help' || a === '-h' || a === '--version')) return null;
  // V8 takes `--max_semi_space_size` for `--max-semi-space-size`.
  const given = [...input.execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)].map((a) => a.split('=')[0]!.replace(/_/g, '-'));
  const flags: string[] = [];
  if (!given.includes('--max-semi-space-size')) flags.push(SEMI_SPACE_FLAG);
  const limit = memoryLimit(argv, input.constrained);
  if (limit && !given.includes('--max-old-space-size') && !given.includes('--max-old-space-size-percentage')) {
    const workers = Number(flagValue(argv, '--workers') ?? 1);
    flags.push(`--max-old-space-size=${heapMiB(limit.bytes, Number.isInteger(workers) && workers >= 1 && workers <= 64 ? workers : 1)}`);
  }
  const missing = Object.entries(MEMORY_ENV).filter(([key]) => env[key] === undefined);
  if (flags.length === 0 && missing.length === 0) return null;
  return { flags, env: { ...env, ...Object.fromEntries(missing), [TUNED_ENV]: '1' } };
}

/** Re-executes this process with the memory settings when some are missing; returns when none are. */
export function relaunch(): void {
  const plan = launchPlan({
    argv: process.argv.slice(2),
    execArgv: process.execArgv,
    env: process.env,
    constrained: process.constrainedMemory(),
  });
  if (!plan || typeof process.execve !== 'function') return;
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(plan.env)) if (value !== undefined) env[key] = value;
  // Never returns unless it failed; then run as started rather than not at all.
  try {
    process.execve(process.execPath, [process.execPath, ...process.execArgv, ...plan.flags, ...process.argv.slice(1)], env);
  } catch (err) {
    process.stderr.write(`cluster-dns: could not re-execute with the memory settings (${(err as Error).message}); running without them\n`);
  }
}
