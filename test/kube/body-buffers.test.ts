// The pool list page bodies are gathered in: reuse while lists run, nothing held after, and a
// page's items readable once only (their bytes are reused).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { BodyBuffers, itemsThenRelease } from '../../src/kube/body-buffers.ts';

const chunk = (bytes: number, fill: number) => Buffer.alloc(bytes, fill);

test('a body gathers its chunks in order, growing past its first room; the buffers it outgrew are released', () => {
  const pool = new BodyBuffers();
  const body = pool.body();
  body.append(chunk(16 * 1024, 0));
  const firstRoom = body.bytes().buffer;
  for (let i = 1; i < 40; i++) body.append(chunk(16 * 1024, i));
  assert.equal(firstRoom.byteLength, 0, 'the first, outgrown buffer is detached');
  assert.equal(body.length, 40 * 16 * 1024);
  const bytes = body.bytes();
  for (let i = 0; i < 40; i++) assert.equal(bytes[i * 16 * 1024 + 100], i, `chunk ${i}`);
  body.release();
  assert.equal(body.length, 0);
  pool.releaseAll();
});

test('the next body reuses a released buffer, at the size of the largest body so far', () => {
  const pool = new BodyBuffers();
  const first = pool.body();
  first.append(chunk(300 * 1024, 1));
  const firstMemory = first.bytes().buffer;
  first.release();
  // The largest free buffer is what the next page gets: no growth for a page of the same size.
  const second = pool.body();
  second.append(chunk(100 * 1024, 2));
  second.append(chunk(200 * 1024, 3));
  assert.equal(second.bytes().buffer, firstMemory, 'the same memory, no growth');
  assert.equal(second.bytes()[0], 2);
  assert.equal(second.bytes()[250 * 1024], 3);
  second.release();
  second.release(); // a second release is harmless
  pool.releaseAll();
});

test('free buffers are released (their memory detached) once the pool has been idle', async () => {
  const pool = new BodyBuffers({ idleMs: 30 });
  const body = pool.body();
  body.append(chunk(200 * 1024, 7));
  const memory = body.bytes().buffer;
  body.release();
  assert.ok(pool.freeCount >= 1);
  await sleep(80);
  assert.equal(pool.freeCount, 0);
  assert.equal(memory.byteLength, 0, 'detached, not left to the collector');
});

test('at most maxFree buffers are kept; the rest are released at once', () => {
  const pool = new BodyBuffers({ maxFree: 2 });
  const bodies = Array.from({ length: 4 }, (_, i) => {
    const body = pool.body();
    body.append(chunk(70 * 1024, i));
    return body;
  });
  const memories = bodies.map((b) => b.bytes().buffer);
  for (const body of bodies) body.release();
  assert.equal(pool.freeCount, 2);
  assert.equal(memories.filter((m) => m.byteLength === 0).length, 2);
  pool.releaseAll();
});

test('items are released after the last one, when the reading stops, or when an item fails; a second reading throws', () => {
  let released = 0;
  const release = () => released++;
  const items = itemsThenRelease([1, 2, 3], release);
  assert.deepEqual([...items], [1, 2, 3]);
  assert.equal(released, 1);
  assert.throws(() => [...items], /read once/);

  for (const item of itemsThenRelease([1, 2, 3], release)) if (item === 2) break;
  assert.equal(released, 2);
  assert.throws(() => {
    for (const _ of itemsThenRelease(
      (function* () {
        yield 1;
        throw new Error('bad item');
      })(),
      release,
    ));
  }, /bad item/);
  assert.equal(released, 3);
});
