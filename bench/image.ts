// How the image runs the server, read from the Dockerfile, so that the benchmarks measure what a
// cluster runs: the Node flags of ENTRYPOINT and the malloc tuning of the runtime stage's ENV.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** ENV keys of the runtime stage that change how the server runs (NODE_ENV does not). */
const RUNTIME_ENV = /^(MALLOC_\w+|UV_\w+)$/;

export function imageRuntime(root: string, flagsOverride?: string): { nodeFlags: string[]; env: Record<string, string> } {
  const text = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const runtime = text.slice(text.lastIndexOf('\nFROM '));
  const entrypoint = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(runtime)?.[1];
  const nodeFlags =
    flagsOverride !== undefined
      ? flagsOverride.split(/\s+/).filter(Boolean)
      : entrypoint
        ? (JSON.parse(entrypoint) as string[]).slice(1, -1)
        : [];
  const env: Record<string, string> = {};
  // `ENV A=1 B=2` (continuation lines joined); the legacy `ENV A 1` form is not used here.
  for (const m of runtime.replace(/\\\n/g, ' ').matchAll(/^ENV\s+(.+)$/gm)) {
    for (const pair of m[1]!.trim().split(/\s+/)) {
      const eq = pair.indexOf('=');
      if (eq > 0 && RUNTIME_ENV.test(pair.slice(0, eq))) env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return { nodeFlags, env };
}
