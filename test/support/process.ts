// Starts the real server (`src/main.ts` on this Node) as a child process on loopback ports chosen by the
// kernel, and reads the bound addresses from its start-up log line.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { HostPort } from '../../src/config.ts';

export const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly dns: HostPort;
  readonly health: HostPort | null;
  readonly ready: HostPort | null;
  readonly metrics: HostPort | null;
  /** --debug-endpoints, when given. */
  readonly debug: HostPort | null;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then the exit code (bounded wait; SIGKILL after it). */
  stop(): Promise<number | null>;
}

export interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs main to completion (for flag errors, --help, --version); `env` replaces the environment. */
// A bound for a hung process, not a speed check: a start on a busy 2-core machine takes seconds.
export async function runMain(args: string[], timeoutMs = 30_000, env?: NodeJS.ProcessEnv): Promise<Exit> {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env } : {}) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/**
 * `wrapper`: a command that runs the server as its last arguments (`unshare … sh -c '…; exec "$@"'`
 * for a private network namespace); it must exec, so the child is the server. `main`: another
 * checkout's src/main.ts (a bench's before-and-after); default this one's.
 */
export interface StartOptions {
  readonly wrapper?: readonly string[];
  readonly main?: string;
  /** No --listen of ours: a --conf Corefile's server blocks say where to listen. */
  readonly corefileListens?: boolean;
}

export async function startServer(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 15_000,
  options: StartOptions = {},
): Promise<ServerProcess> {
  // No lameduck unless a test asks for one (later flags win), so stop() is quick. No upstreams
  // from the machine's resolv.conf: tests only ever talk to loopback (--upstream overrides).
  const command = [
    process.execPath,
    options.main ?? MAIN,
    ...(options.corefileListens ? [] : ['--listen', '127.0.0.1:0']),
    '--health',
    '127.0.0.1:0',
    '--ready',
    '127.0.0.1:0',
    '--metrics',
    '127.0.0.1:0',
    '--lameduck',
    '0',
    '--resolv-conf',
    '/dev/null',
    ...args,
  ];
  const [file, ...rest] = [...(options.wrapper ?? []), ...command] as [string, ...string[]];
  const child = spawn(file, rest, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, ...env } });
  // A test process that dies (or is cut off by a pipe) must not leave its server behind.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const serving = new Promise<{
    dns: HostPort[];
    health: HostPort | null;
    ready: HostPort | null;
    metrics: HostPort | null;
    debug?: HostPort | null;
  }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no 'serving' line within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      for (const line of stdout.split('\n')) {
        if (!line.includes('"msg":"serving"')) continue;
        clearTimeout(timer);
        resolve(JSON.parse(line));
        return;
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before serving; stderr: ${stderr}`));
    });
  });
  let line;
  try {
    line = await serving;
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    child,
    dns: line.dns[0]!,
    health: line.health,
    ready: line.ready,
    metrics: line.metrics,
    debug: line.debug ?? null,
    stdout: () => stdout,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, 'exit') as Promise<[number | null]>;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      const [code] = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
