// The event-loop lag signal: a loop blocked past the high mark is overloaded until a tick comes
// back under the low mark.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoopLag } from '../../src/upstream/overload.ts';

test('a blocked event loop is found behind, and is not overloaded once it keeps up again', async (t) => {
  const lag = new LoopLag({ intervalMs: 10, highMs: 30, lowMs: 10 });
  t.after(() => lag.close());
  await new Promise((r) => setTimeout(r, 30));
  const until = performance.now() + 80;
  while (performance.now() < until) {
    // Busy: the lag timer cannot run.
  }
  await new Promise((r) => setTimeout(r, 15));
  // The late tick found the loop behind (the next, on time, may already have cleared it).
  assert.ok(lag.overloadedTicks >= 1, `lag ${lag.lagMs} ms`);
  // Keeping up again (a loaded machine may take a while to give us calm ticks).
  const deadline = Date.now() + 3_000;
  while (lag.overloaded && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(lag.overloaded, false);
});
