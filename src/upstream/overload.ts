// Whether the event loop is behind on its work, judged once per window (100 ms). A timer due
// every 10 ms measures how late it runs: a loop that keeps up runs it within a millisecond or two
// even while answering ~45k cluster queries a second; one flooded with upstream misses runs it
// only after each turn's whole batch, tens of milliseconds late. A window is congested when
// the ticks' lateness adds up to `lateShare` of it while the loop was busy (event-loop
// utilisation) for `busyShare` of it: lateness alone is also what a descheduled process on a
// shared machine sees while idle, and utilisation alone is what --busy-poll's spinning shows.
// The timer runs only while upstream questions are being started fast enough to matter
// (`startAfter` touch()es within one window), and stops after a second without any: a server
// forwarding a few hundred misses a second is never woken by it. Figures: bench/RESULTS.md.
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

export interface LoadMonitorOptions {
  readonly tickMs?: number;
  readonly windowMs?: number;
  /** Lateness summed over a window, as a share of it, that says the loop is behind. */
  readonly lateShare?: number;
  /** Event-loop utilisation over a window below which it is never congested. */
  readonly busyShare?: number;
  /** Questions started within one window that start the timer. */
  readonly startAfter?: number;
}

export const DEFAULT_LOAD_MONITOR: Required<LoadMonitorOptions> = {
  tickMs: 10,
  windowMs: 100,
  lateShare: 0.3,
  busyShare: 0.8,
  startAfter: 50,
};
/** Windows without a touch() before the timer stops. */
const IDLE_WINDOWS = 10;

/** Told at the end of every window whether it was congested. */
export interface LoadWindows {
  subscribe(listener: (congested: boolean) => void): void;
}

export class LoadMonitor implements LoadWindows {
  /** Windows found congested so far (for benchmarks and tests). */
  congestedWindows = 0;
  readonly #o: Required<LoadMonitorOptions>;
  readonly #listeners: ((congested: boolean) => void)[] = [];
  #timer: NodeJS.Timeout | null = null;
  #touched = false;
  #idle = 0;
  #closed = false;
  #lastTick = 0;
  #windowStart = 0;
  #late = 0;
  #elu: EventLoopUtilization | null = null;
  /** While not watching: touches since `#countStart`. */
  #count = 0;
  #countStart = 0;

  constructor(options: LoadMonitorOptions = {}) {
    this.#o = { ...DEFAULT_LOAD_MONITOR, ...options };
  }

  /** Whether the timer is running now. */
  get watching(): boolean {
    return this.#timer !== null;
  }

  /** An upstream question is being started: watch the loop once they come fast enough. */
  touch(): void {
    this.#touched = true;
    if (this.#timer !== null || this.#closed) return;
    const now = performance.now();
    if (now - this.#countStart > this.#o.windowMs) {
      this.#countStart = now;
      this.#count = 0;
    }
    if (++this.#count < this.#o.startAfter) return;
    this.#idle = 0;
    this.#late = 0;
    this.#lastTick = this.#windowStart = performance.now();
    this.#elu = performance.eventLoopUtilization();
    this.#timer = setInterval(() => this.#tick(), this.#o.tickMs);
    this.#timer.unref();
  }

  subscribe(listener: (congested: boolean) => void): void {
    this.#listeners.push(listener);
  }

  #tick(): void {
    const now = performance.now();
    this.#late += Math.max(0, now - this.#lastTick - this.#o.tickMs);
    this.#lastTick = now;
    const elapsed = now - this.#windowStart;
    if (elapsed < this.#o.windowMs) return;
    const elu = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(elu, this.#elu ?? elu).utilization;
    const congested = this.#late >= this.#o.lateShare * elapsed && busy >= this.#o.busyShare;
    this.#elu = elu;
    this.#windowStart = now;
    if (congested) this.congestedWindows++;
    this.#late = 0;
    for (const listener of this.#listeners) listener(congested);
    this.#idle = this.#touched ? 0 : this.#idle + 1;
    this.#touched = false;
    if (this.#idle >= IDLE_WINDOWS) this.#stop();
  }

  #stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  close(): void {
    this.#closed = true;
    this.#stop();
  }
}
