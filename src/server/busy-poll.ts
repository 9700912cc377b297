// --busy-poll: after a datagram, keep the event loop polling instead of sleeping for a while.
//
// Why: most of an answer's latency at moderate load is not our work but waking up. An idle
// event loop blocks in epoll_wait, the CPU goes idle (on a VM the vCPU halts and exits to the
// hypervisor), and the next datagram pays for the wake-up, most of a fast answer's time (bench/RESULTS.md).
// A pending setImmediate makes libuv poll with a zero timeout, so while the
// window lasts the loop never blocks and a datagram is read as soon as it lands. This is what
// Linux's net.core.busy_poll and DPDK-style servers trade: latency for a core kept busy while
// traffic lasts. Without traffic the loop sleeps as before; timers and sockets run as usual
// between turns (the loop is never blocked, only kept from sleeping).
//
// Each turn is a JS call and an Immediate (and Node itself allocates an object per loop turn):
// ~140 young-generation collections a second while polling. Doing the polling from a libuv idle
// handle in a C addon cut that to ~55 and changed neither latency nor QPS, so it is not done.

/** The longest window --busy-poll takes: past this it is a spinning server, not a polling one. */
export const MAX_BUSY_POLL_US = 10_000;

export class BusyPoll {
  readonly #windowMs: number;
  /** A datagram arrived since the last turn: the window starts again. */
  #seen = false;
  #polling = false;
  #deadline = 0;
  readonly #now: () => number;

  /** `now`: a clock in ms (tests drive their own). */
  constructor(windowUs: number, now: () => number = () => performance.now()) {
    if (!(windowUs > 0 && windowUs <= MAX_BUSY_POLL_US))
      throw new RangeError(`busy-poll window must be 1-${MAX_BUSY_POLL_US} µs (got ${windowUs})`);
    this.#windowMs = windowUs / 1000;
    this.#now = now;
  }

  /** Called for every datagram; the hot path: a store, a test, no clock. */
  touch(): void {
    this.#seen = true;
    if (!this.#polling) {
      this.#polling = true;
      setImmediate(this.#turn);
    }
  }

  /** Whether the loop is being kept from sleeping now. */
  get polling(): boolean {
    return this.#polling;
  }

  readonly #turn = (): void => {
    const now = this.#now();
    if (this.#seen) {
      this.#seen = false;
      this.#deadline = now + this.#windowMs;
    } else if (now >= this.#deadline) {
      this.#polling = false;
      return;
    }
    setImmediate(this.#turn);
  };
}
