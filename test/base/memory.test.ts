// The memory release after a list: a full GC, then malloc_trim through the optional addon, once
// for lists that end close together.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/base/log.ts';
import { loadMallocTrim, memoryReleaser, releaseMemory } from '../../src/base/memory.ts';

const addon = loadMallocTrim();
// `npm test` builds the addon first whenever there is a C compiler.
const hasCompiler = spawnSync('cc', ['--version']).status === 0;

test('the addon loads from native/ when it was built, and a missing one is null, not an error', () => {
  assert.equal(loadMallocTrim('/nonexistent/malloc-trim.node'), null);
  assert.equal(loadMallocTrim(new URL('./memory.test.ts', import.meta.url).pathname), null, 'not an addon');
  if (hasCompiler) assert.ok(addon, 'npm test builds native/malloc-trim.node when cc exists');
});

test('releaseMemory gives back the free pages between live malloc chunks', {
  skip: addon ? false : 'malloc-trim addon not built (no C compiler)',
}, () => {
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
  assert.ok(
    kept.every((b, i) => b[0] === ((i * 64 + 63) & 0xff)),
    'live buffers are untouched',
  );
});

test('without the addon the release is the GC alone', { skip: addon ? 'the addon is built here' : false }, () => {
  assert.equal(releaseMemory().trimmed, false);
});

function releaserUnderTest(delayMs: number) {
  const lines: string[] = [];
  const logger = createLogger('info', {
    destination: new Writable({ write: (chunk, _enc, done) => (lines.push(chunk.toString()), done()) }),
  });
  let releases = 0;
  const releaser = memoryReleaser(logger, delayMs, () => (releases++, { bytes: 0, trimmed: false }));
  const logged = () => lines.filter((l) => l.includes('memory released')).map((l) => JSON.parse(l) as { reasons: string[] });
  return { releaser, releases: () => releases, logged };
}
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('memoryReleaser: requests close together make one release that names them all', async () => {
  const { releaser, releases, logged } = releaserUnderTest(40);
  releaser.schedule('Service synced');
  await pause(10);
  releaser.schedule('EndpointSlice synced');
  await pause(10);
  assert.equal(releases(), 0, 'the delay restarts with each request');
  await pause(80);
  assert.equal(releases(), 1);
  assert.deepEqual(logged()[0]!.reasons, ['Service synced', 'EndpointSlice synced']);
  releaser.schedule('Pod relisted');
  await pause(80);
  assert.equal(releases(), 2, 'a later request makes a release of its own');
  assert.deepEqual(logged()[1]!.reasons, ['Pod relisted']);
});

test('memoryReleaser: hold names a reason without arming; cancel drops what is armed', async () => {
  const { releaser, releases, logged } = releaserUnderTest(20);
  releaser.hold('Namespace synced');
  await pause(60);
  assert.equal(releases(), 0, 'a held reason alone releases nothing');
  releaser.schedule('Pod synced');
  await pause(60);
  assert.equal(releases(), 1);
  assert.deepEqual(logged()[0]!.reasons, ['Namespace synced', 'Pod synced']);
  releaser.schedule('Service relisted');
  releaser.cancel();
  await pause(60);
  assert.equal(releases(), 1, 'cancelled before its delay ran out');
});
