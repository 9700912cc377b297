// The load windows: a loop kept busy and late is congested; an idle one, however late its
// timers (a descheduled process on a shared machine), is not; no timer while nothing is forwarded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoadMonitor } from '../../src/upstream/overload.ts';

test('a window in which the loop was busy and its timer late is congested; idle windows are not', async (t) => {
  const monitor = new LoadMonitor({ tickMs: 10, windowMs: 100 });
  t.after(() => monitor.close());
  const windows: boolean[] = [];
  monitor.subscribe((congested) => windows.push(congested));
  assert.equal(monitor.watching, false, 'not before anything is forwarded');
  for (let i = 0; i < 49; i++) monitor.touch();
  assert.equal(monitor.watching, false, 'nor for a few questions');
  // Questions keep being started fast: it watches.
  const touching = setInterval(() => {
    for (let i = 0; i < 50; i++) monitor.touch();
  }, 20);
  t.after(() => clearInterval(touching));
  monitor.touch();
  assert.equal(monitor.watching, true);
  await new Promise((r) => setTimeout(r, 250));
  const until = performance.now() + 500;
  while (performance.now() < until) {
    // Busy: the timer cannot run.
  }
  const mark = windows.length;
  const deadline = Date.now() + 3_000;
  while (windows.length === mark && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(windows[mark], true, 'the busy window');
  assert.equal(monitor.congestedWindows >= 1, true);
  // Idle again: calm windows come (a busy machine may make a few late ones first).
  const calm = Date.now() + 5_000;
  while (windows.slice(mark + 1).filter((c) => !c).length < 2 && Date.now() < calm) await new Promise((r) => setTimeout(r, 20));
  assert.ok(windows.slice(mark + 1).filter((c) => !c).length >= 2, `windows after: ${windows.slice(mark + 1)}`);
  // Nothing forwarded for ten windows: the timer stops, an idle server is not woken by it.
  clearInterval(touching);
  const stops = Date.now() + 5_000;
  while (monitor.watching && Date.now() < stops) await new Promise((r) => setTimeout(r, 50));
  assert.equal(monitor.watching, false);
});
