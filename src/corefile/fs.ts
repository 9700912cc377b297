// The file access a Corefile read needs, injectable so tests and --check can read from memory.
import { open, readdir, realpath, stat } from 'node:fs/promises';

export interface FileInfo {
  readonly kind: 'file' | 'directory' | 'other';
  readonly size: number;
}

type Maybe<T> = T | Promise<T>;

/** Every path given is absolute. Symlinks are followed, as opening a file follows them. */
export interface CorefileFs {
  /** null when nothing is there (a dangling symlink included). */
  stat(path: string): Maybe<FileInfo | null>;
  /** The file's bytes; reading stops after `limit` bytes (the caller rejects a longer file). */
  readFile(path: string, limit: number): Maybe<Uint8Array>;
  /** The names in a directory; [] when it cannot be read (globs match nothing there, as in Go). */
  readdir(dir: string): Maybe<readonly string[]>;
  /** The path with every symlink resolved (the file a ConfigMap's `..data` link points at now). */
  realpath(path: string): Maybe<string>;
}

export const nodeFs: CorefileFs = {
  async stat(path) {
    try {
      const s = await stat(path);
      return { kind: s.isFile() ? 'file' : s.isDirectory() ? 'directory' : 'other', size: s.size };
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  },
  async readFile(path, limit) {
    const handle = await open(path, 'r');
    try {
      // In chunks up to the limit, so a file that grew since it was stat-ed is read whole.
      const chunks: Buffer[] = [];
      let total = 0;
      while (total < limit) {
        const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, limit - total));
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
        if (bytesRead === 0) break;
        chunks.push(chunk.subarray(0, bytesRead));
        total += bytesRead;
      }
      return Buffer.concat(chunks, total);
    } finally {
      await handle.close();
    }
  },
  async readdir(dir) {
    try {
      return await readdir(dir);
    } catch {
      return [];
    }
  },
  realpath(path) {
    return realpath(path);
  },
};

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP';
}
