// The benchmarks run the server as the image does: ENTRYPOINT's Node flags and the runtime ENV.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageRuntime } from '../../bench/image.ts';

test('the runtime stage of the Dockerfile: Node flags from ENTRYPOINT, malloc tuning from ENV', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cdns-image-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'Dockerfile'),
    'FROM a AS build\nENV MALLOC_ARENA_MAX=8\nENTRYPOINT ["node", "--build-only", "x.js"]\n\nFROM b\nENV NODE_ENV=production\nENV MALLOC_ARENA_MAX=1 \\\n    UV_THREADPOOL_SIZE=2 OTHER=x\nENTRYPOINT ["node", "--max-semi-space-size=2", "--foo", "/app/dist/main.js"]\n',
  );
  assert.deepEqual(imageRuntime(dir), {
    nodeFlags: ['--max-semi-space-size=2', '--foo'],
    env: { MALLOC_ARENA_MAX: '1', UV_THREADPOOL_SIZE: '2' },
  });
  assert.deepEqual(imageRuntime(dir, '--a  --b').nodeFlags, ['--a', '--b']);
  // The project's own Dockerfile parses, and the malloc tuning the README and RESULTS.md describe is there.
  const own = imageRuntime(new URL('../..', import.meta.url).pathname);
  assert.equal(own.env.MALLOC_ARENA_MAX, '1');
  assert.ok(own.nodeFlags.includes('--max-semi-space-size=2'));
});
