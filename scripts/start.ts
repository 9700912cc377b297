// `npm start`: builds the optional addons, then runs the server in this same process (so the
// signals npm forwards reach it) on the example cluster, on loopback ports a desktop leaves free.
// Flags given after `npm start --` replace these defaults flag by flag, and add to the rest.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const START_DEFAULTS: readonly (readonly [flag: string, value: string])[] = [
  ['--manifests', fileURLToPath(new URL('../examples/cluster.yaml', import.meta.url))],
  // Not 5353 (mDNS, often taken by avahi) nor 53 (root only, and usually taken by the resolver).
  ['--listen', '127.0.0.1:1053'],
  ['--health', '127.0.0.1:8080'],
  ['--ready', '127.0.0.1:8181'],
  ['--metrics', '127.0.0.1:9153'],
  ['--debug-endpoints', '127.0.0.1:9154'],
];

/** Flags that stand in for a default: another cluster source replaces the example. */
const REPLACES: Readonly<Record<string, readonly string[]>> = { '--manifests': ['--manifests', '--kubeconfig'] };

/** The defaults the user did not give (as `--flag value` or `--flag=value`), then the user's flags. */
export function startArgs(user: readonly string[]): string[] {
  const given = new Set(user.filter((a) => a.startsWith('--')).map((a) => a.split('=')[0]));
  const defaults = START_DEFAULTS.filter(([flag]) => !(REPLACES[flag] ?? [flag]).some((f) => given.has(f)));
  return [...defaults.flat(), ...user];
}

// Run, not imported (by its test); import.meta.main would need Node 24.2.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  spawnSync(process.execPath, [`${root}native/build.ts`, '--quiet'], { stdio: 'inherit' });
  // main.ts reads process.argv, and --workers replicas are forked from argv[1] with these flags.
  const main = `${root}src/main.ts`;
  process.argv = [process.argv[0] ?? process.execPath, main, ...startArgs(process.argv.slice(2))];
  await import('../src/main.ts');
}
