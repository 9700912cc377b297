// Who may start an upstream question: the --max-concurrent budget, a fair share per client
// (fewer held than are still free), and nothing new while the event loop is behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Admission } from '../../src/upstream/admission.ts';
import { ForwardStats } from '../../src/upstream/stats.ts';

/** Starts questions for `client` until refused (bounded); returns how many it got. */
function fill(admission: Admission, client: string, inFlight: { n: number }, limit = 10_000): number {
  let got = 0;
  while (got < limit && admission.admit(client, inFlight.n) === 'ok') {
    admission.hold(client);
    inFlight.n++;
    got++;
  }
  return got;
}

test('a client alone takes at most half the budget; the rest stays for the others', () => {
  const stats = new ForwardStats();
  const admission = new Admission(100, stats, null);
  const inFlight = { n: 0 };
  assert.equal(fill(admission, '10.0.0.66', inFlight), 50);
  assert.equal(stats.clientRejects, 1);
  assert.equal(admission.admit('10.0.0.7', inFlight.n), 'ok', 'another client still gets in');
  // A second flooder gets half of what the first left: each holds about a third.
  assert.equal(fill(admission, '10.0.0.67', inFlight), 25);
  assert.ok(admission.admit('10.0.0.7', inFlight.n) === 'ok', 'and a light client still does');
  assert.equal(stats.maxConcurrentRejects, 0, 'the budget was never full');
});

test('k flooders: each held to about 1/(k+1), some budget always free; released flights free their share', () => {
  const stats = new ForwardStats();
  const admission = new Admission(1000, stats, null);
  const inFlight = { n: 0 };
  // Round by round, as concurrent floods interleave.
  const clients = ['a', 'b', 'c', 'd'];
  for (let round = 0; round < 2000; round++) {
    for (const c of clients) {
      if (admission.admit(c, inFlight.n) === 'ok') {
        admission.hold(c);
        inFlight.n++;
      }
    }
  }
  for (const c of clients) assert.ok(admission.held(c) >= 190 && admission.held(c) <= 210, `${c}: ${admission.held(c)}`);
  assert.ok(inFlight.n < 1000, `free: ${1000 - inFlight.n}`);
  assert.equal(admission.admit('victim', inFlight.n), 'ok');
  for (let i = 0; i < 100; i++) {
    admission.release('a');
    inFlight.n--;
  }
  assert.equal(admission.held('a'), admission.held('b') - 100);
  admission.release('nobody');
  assert.equal(admission.held('nobody'), 0);
});

test('a full budget is REFUSED as CoreDNS counts it; background work waits for half the budget', () => {
  const stats = new ForwardStats();
  const admission = new Admission(4, stats);
  assert.equal(admission.admit('x', 4), 'full');
  assert.equal(stats.maxConcurrentRejects, 1);
  assert.equal(admission.roomForBackground(1), true);
  assert.equal(admission.roomForBackground(2), false);
});

test('congested windows ration new questions (halving, a floor), calm ones add to the ration and lift it', () => {
  const stats = new ForwardStats();
  const admission = new Admission(100_000, stats);
  const start = (client: string, n: number) => {
    let got = 0;
    for (let i = 0; i < n; i++) {
      if (admission.admit(client, 0) !== 'ok') continue;
      admission.hold(client);
      admission.release(client);
      got++;
    }
    return got;
  };
  assert.equal(start('pod', 99), 99);
  admission.windowEnded(true);
  admission.windowEnded(true);
  assert.equal(admission.ration, Number.POSITIVE_INFINITY, 'congested, but not by forwarding: a few questions a window');
  assert.equal(start('flood', 200), 200, 'not rationed');
  admission.windowEnded(true);
  assert.equal(admission.ration, Number.POSITIVE_INFINITY, 'one congested window is a hiccup');
  assert.equal(start('flood', 400), 400);
  admission.windowEnded(true);
  assert.equal(admission.ration, 200, 'two in a row: half of what the congested window started');
  assert.equal(admission.roomForBackground(0), false, 'no prefetches while rationed');
  // Within a window: the flooder gets what the others leave, half of what is left at most.
  assert.equal(start('flood', 400), 100);
  assert.equal(start('pod', 3), 3, 'a light client still gets through');
  assert.equal(stats.shed, 300);
  admission.windowEnded(true);
  assert.equal(admission.ration, 51);
  for (let i = 0; i < 10; i++) admission.windowEnded(true);
  assert.equal(admission.ration, 5, 'the floor: some questions always get through');
  admission.windowEnded(false);
  assert.equal(admission.ration, 10, 'calm: the floor added');
  for (let i = 0; i < 9; i++) admission.windowEnded(false);
  assert.equal(admission.ration, Number.POSITIVE_INFINITY, 'lifted after ten calm windows without refusals');
  assert.equal(start('flood', 50), 50);
});
