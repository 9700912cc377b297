import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { BusyPoll, MAX_BUSY_POLL_US } from '../../src/server/busy-poll.ts';

test('busy poll: a window from 1 µs to the maximum', () => {
  for (const bad of [0, -1, MAX_BUSY_POLL_US + 1, Number.NaN]) assert.throws(() => new BusyPoll(bad), RangeError, String(bad));
  assert.equal(new BusyPoll(1).polling, false);
  assert.equal(new BusyPoll(MAX_BUSY_POLL_US).polling, false);
});

/** Resolves once `poll` has stopped polling (or after a second, still polling). */
async function stopped(poll: BusyPoll): Promise<boolean> {
  const until = performance.now() + 1000;
  while (poll.polling && performance.now() < until) await sleep(1);
  return !poll.polling;
}

/** A few turns of the event loop (each setImmediate callback runs in a later turn). */
async function turns(n = 3): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

test('busy poll: polls while datagrams keep coming, sleeps once the window passes without one', async () => {
  // Our own clock, so a busy machine cannot stretch the gaps between touches.
  let clock = 1000;
  const poll = new BusyPoll(5_000, () => clock);
  poll.touch();
  assert.equal(poll.polling, true);
  // A touch every 4 ms of a 5 ms window for 40 ms: each restarts the window, polling never stops.
  for (let i = 0; i < 10; i++) {
    clock += 4;
    await turns();
    assert.equal(poll.polling, true, `stopped ${i * 4 + 4} ms in, 4 ms after a touch`);
    poll.touch();
    await turns();
  }
  // No more touches: still polling inside the window, stopped once it has passed.
  clock += 4;
  await turns();
  assert.equal(poll.polling, true, 'stopped inside the window');
  clock += 2;
  await turns();
  assert.equal(poll.polling, false, 'still polling after the window');
  // And it starts again on the next datagram, for a whole window.
  poll.touch();
  assert.equal(poll.polling, true);
  await turns();
  clock += 4.9;
  await turns();
  assert.equal(poll.polling, true);
  clock += 0.2;
  await turns();
  assert.equal(poll.polling, false);
});

test('busy poll: on the real clock, stops by itself after the last datagram', async () => {
  const poll = new BusyPoll(2_000);
  poll.touch();
  assert.equal(poll.polling, true);
  assert.equal(await stopped(poll), true, 'still polling a second after the last touch');
});

test('busy poll: the loop is kept from sleeping, never blocked (timers still run)', async () => {
  // Event-loop utilization counts the time not spent waiting in epoll: near 0 for a loop that
  // only waits for a timer, near 1 for one polling with a zero timeout.
  const measure = async (poll: BusyPoll | null): Promise<{ elu: number; ticks: number }> => {
    const start = performance.eventLoopUtilization();
    let ticks = 0;
    const deadline = performance.now() + 200;
    while (performance.now() < deadline) {
      poll?.touch();
      await sleep(3);
      ticks++;
    }
    return { elu: performance.eventLoopUtilization(start).utilization, ticks };
  };
  await measure(null); // warm-up: the first turns of a fresh process compile code
  const idle = await measure(null);
  const poller = new BusyPoll(MAX_BUSY_POLL_US);
  const polling = await measure(poller);
  assert.ok(idle.elu < 0.5, `a waiting loop: utilization ${idle.elu}`);
  assert.ok(polling.elu > 0.8, `a polling loop: utilization ${polling.elu}`);
  // The 3 ms timers kept firing while the loop polled (a blocked loop would fire them once); a
  // polling process is descheduled more on a busy machine, hence a quarter, not about as many.
  assert.ok(polling.ticks >= Math.max(5, idle.ticks / 4), `timers ran ${polling.ticks} times polling, ${idle.ticks} idle`);
  await stopped(poller);
});
