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

test('busy poll: polls while datagrams keep coming, sleeps once the window passes without one', async () => {
  const poll = new BusyPoll(5_000);
  poll.touch();
  assert.equal(poll.polling, true);
  // Touched every 2 ms for 30 ms: each touch restarts the 5 ms window, so polling never stops.
  for (let i = 0; i < 15; i++) {
    await sleep(2);
    assert.equal(poll.polling, true, `stopped after ${i * 2} ms while still touched`);
    poll.touch();
  }
  await sleep(30);
  assert.equal(poll.polling, false);
  // And it starts again on the next datagram.
  poll.touch();
  assert.equal(poll.polling, true);
  await sleep(30);
  assert.equal(poll.polling, false);
});

test('busy poll: the loop is kept from sleeping, never blocked (timers still run)', async () => {
  // Event-loop utilization counts the time not spent waiting in epoll: near 0 for a loop that
  // only waits for a timer, near 1 for one polling with a zero timeout.
  const measure = async (poll: BusyPoll | null): Promise<{ elu: number; ticks: number }> => {
    const start = performance.eventLoopUtilization();
    let ticks = 0;
    const deadline = performance.now() + 60;
    while (performance.now() < deadline) {
      poll?.touch();
      await sleep(3);
      ticks++;
    }
    return { elu: performance.eventLoopUtilization(start).utilization, ticks };
  };
  const idle = await measure(null);
  const polling = await measure(new BusyPoll(5_000));
  assert.ok(idle.elu < 0.5, `a waiting loop: utilization ${idle.elu}`);
  assert.ok(polling.elu > 0.8, `a polling loop: utilization ${polling.elu}`);
  // The 3 ms timers kept firing while the loop polled: about as many turns as without polling.
  assert.ok(polling.ticks >= idle.ticks / 2, `timers ran ${polling.ticks} times polling, ${idle.ticks} idle`);
  await sleep(20);
});
