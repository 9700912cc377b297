// Import patterns as CoreDNS expands them: Go's filepath.Glob, limited by Caddy's rule of at most
// one `*` and one `?` (a pattern with many wildcards could take too long, caddy#2096).
import { posix } from 'node:path';
import type { CorefileFs } from './fs.ts';

/** As Go's hasMeta: a lone "]" is an ordinary character. */
export function isGlob(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}

/** Why Caddy refuses the pattern, or null. */
export function globProblem(pattern: string): string | null {
  const count = (ch: string) => pattern.split(ch).length - 1;
  if (count('*') > 1 || count('?') > 1 || pattern.includes('[')) {
    return `an import pattern may hold one "*" and one "?" and no "[...]" (got ${pattern})`;
  }
  if (pattern.includes('\\')) return `backslashes are not supported in import patterns (got ${pattern})`;
  return null;
}

/**
 * The paths an absolute pattern matches, sorted per directory as Go sorts them. `*` and `?` stay
 * within one path segment and match leading dots too (Go has no hidden-file rule), so in a
 * ConfigMap volume `*` also matches the `..data` entries.
 */
export async function expandGlob(pattern: string, fs: CorefileFs): Promise<string[]> {
  const segments = pattern.split('/').filter((s) => s !== '');
  let paths = ['/'];
  for (const segment of segments) {
    const next: string[] = [];
    if (!isGlob(segment)) {
      for (const p of paths) next.push(posix.join(p, segment));
    } else {
      for (const p of paths) {
        const names = [...(await fs.readdir(p))].sort();
        for (const name of names) if (matchSegment(segment, name)) next.push(posix.join(p, name));
      }
    }
    paths = next;
    if (paths.length === 0) return [];
  }
  const found: string[] = [];
  for (const p of paths) if ((await fs.stat(p)) !== null) found.push(p);
  return found;
}

/** `*` any run of characters, `?` exactly one, within a single path segment. */
export function matchSegment(pattern: string, name: string): boolean {
  const memo = new Map<number, boolean>();
  const at = (p: number, n: number): boolean => {
    const key = p * (name.length + 1) + n;
    const cached = memo.get(key);
    if (cached !== undefined) return cached;
    let result: boolean;
    if (p === pattern.length) result = n === name.length;
    else if (pattern[p] === '*') result = at(p + 1, n) || (n < name.length && at(p, n + 1));
    else if (n === name.length) result = false;
    else if (pattern[p] === '?' || pattern[p] === name[n]) result = at(p + 1, n + 1);
    else result = false;
    memo.set(key, result);
    return result;
  };
  return at(0, 0);
}
