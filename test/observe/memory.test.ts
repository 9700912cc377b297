// The memory release after a list: a full GC, then malloc_trim through the optional addon.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { loadMallocTrim, releaseMemory } from '../../src/observe/memory.ts';

const addon = loadMallocTrim();
// `npm test` builds the addon first whenever there is a C compiler.
const hasCompiler = spawnSync('cc', ['--version']).status === 0;

test('the addon loads from native/ when it was built, and a missing one is null, not an error', () => {
  assert.equal(loadMallocTrim('/nonexistent/malloc-trim.node'), null);
  assert.equal(loadMallocTrim(new URL('./memory.test.ts', import.meta.url).pathname), null, 'not an addon');
  if (hasCompiler) assert.ok(addon, 'npm test builds native/malloc-trim.node when cc exists');
});

test('releaseMemory gives back the free pages between live malloc chunks', { skip: addon ? false : 'malloc-trim addon not built (no C compiler)' }, () => {
  // Holes glibc cannot give back on its own: Buffers over Node's pool size each get their own
  // malloc chunk; keeping every 64th alive leaves ~250 KiB free runs between live ones, inside
  // the heap rather than at its top.
  const all: Buffer[] = [];
  for (let i = 0; i < 4096; i++) all.push(Buffer.alloc(4000, i));
  const kept = all.filter((_, i) => i % 64 === 63);
  all.length = 0;
  const released = releaseMemory();
  assert.equal(typeof released.bytes, 'number');
  assert.equal(released.trimmed, true, 'malloc_trim reported memory given back');
  assert.equal(kept.length, 64);
  assert.ok(kept.every((b, i) => b[0] === ((i * 64 + 63) & 0xff)), 'live buffers are untouched');
});

test('without the addon the release is the GC alone', { skip: addon ? 'the addon is built here' : false }, () => {
  assert.equal(releaseMemory().trimmed, false);
});
