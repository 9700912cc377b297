// Corefile test helpers: an in-memory CorefileFs (files by absolute path, folders implied by
// them, symlinks resolved as the kernel resolves them) and compact views of a parse for table rows.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Corefile, CorefileFs, Directive, FileInfo } from '../../src/corefile/index.ts';

export interface MemoryFs extends CorefileFs {
  /** Every path read with readFile, in order. */
  readonly reads: string[];
}

export function memoryFs(files: Readonly<Record<string, string | Uint8Array>>, symlinks: Readonly<Record<string, string>> = {}): MemoryFs {
  const data = new Map<string, Uint8Array>();
  for (const [path, content] of Object.entries(files)) {
    data.set(path, typeof content === 'string' ? new TextEncoder().encode(content) : content);
  }
  const dirs = new Set<string>(['/']);
  const addParents = (p: string) => {
    for (let d = posix.dirname(p); !dirs.has(d); d = posix.dirname(d)) dirs.add(d);
  };
  for (const p of data.keys()) addParents(p);
  for (const p of Object.keys(symlinks)) addParents(p);

  const resolve = (path: string, hops = 0): string => {
    if (hops > 40) throw Object.assign(new Error(`ELOOP: ${path}`), { code: 'ELOOP' });
    let out = '/';
    for (const part of path.split('/').filter((s) => s !== '')) {
      const next = posix.join(out, part);
      const target = symlinks[next];
      out = target === undefined ? next : resolve(posix.resolve(posix.dirname(next), target), hops + 1);
    }
    return out;
  };
  const reads: string[] = [];

  return {
    reads,
    stat(path): FileInfo | null {
      const real = resolve(path);
      const file = data.get(real);
      if (file) return { kind: 'file', size: file.length };
      return dirs.has(real) ? { kind: 'directory', size: 4096 } : null;
    },
    readFile(path, limit) {
      const file = data.get(resolve(path));
      if (!file) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      reads.push(path);
      return file.subarray(0, limit);
    },
    readdir(dir) {
      const real = resolve(dir);
      const names = new Set<string>();
      for (const p of [...data.keys(), ...dirs, ...Object.keys(symlinks)]) {
        if (p !== real && posix.dirname(p) === real) names.add(posix.basename(p));
      }
      return [...names];
    },
    realpath(path) {
      return resolve(path);
    },
  };
}

/** A line as `name args…`, or [`name args…`, [children…]] when it has a block. */
export type Line = string | [string, Line[]];

export function lines(directives: readonly Directive[]): Line[] {
  return directives.map((d) => {
    const head = [d.name, ...d.args].join(' ');
    return d.block === null ? head : [head, lines(d.block)];
  });
}

/** Each block as its `zone:port` keys and its lines. */
export function shape(corefile: Pick<Corefile, 'blocks'>): { keys: string[]; lines: Line[] }[] {
  return corefile.blocks.map((b) => ({
    keys: b.keys.flatMap((k) => k.zones.map((z) => `${z}:${k.port}`)),
    lines: lines(b.directives),
  }));
}

/** Every directive, depth first, with where it was read. */
export function located(corefile: Pick<Corefile, 'blocks'>): { name: string; at: string; via: string[] }[] {
  const out: { name: string; at: string; via: string[] }[] = [];
  const walk = (ds: readonly Directive[]) => {
    for (const d of ds) {
      out.push({ name: d.name, at: `${d.file}:${d.line}`, via: d.via.map((v) => `${v.file}:${v.line}`) });
      if (d.block) walk(d.block);
    }
  };
  for (const b of corefile.blocks) walk(b.directives);
  return out;
}

/** test/fixtures/corefiles/, the distribution Corefiles in the project's own renderings. */
export const COREFILE_FIXTURES = fileURLToPath(new URL('../fixtures/corefiles/', import.meta.url));

/** A fixture folder's files, placed under `mount` for an in-memory read (k3s imports absolute paths). */
export function mounted(folder: string, mount: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path, `${rel}/${name}`);
      else out[`${mount}${rel}/${name}`] = readFileSync(path, 'utf8');
    }
  };
  walk(join(COREFILE_FIXTURES, folder), '');
  return out;
}
