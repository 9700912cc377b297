// Whether the event loop is behind: a timer due every `intervalMs` measures how late it runs. A
// loop that keeps up runs it within a millisecond or two; one that is flooded runs it only after
// each turn's whole batch of work. Late by `highMs` or more: overloaded, until a tick is back
// under `lowMs`. Timer lateness, not event-loop utilisation: --busy-poll keeps the loop spinning
// (utilisation near 1) while it keeps up perfectly well.
import type { LoadSignal } from './admission.ts';

export interface LoopLagOptions {
  readonly intervalMs?: number;
  readonly highMs?: number;
  readonly lowMs?: number;
}

export const DEFAULT_LOOP_LAG: Required<LoopLagOptions> = { intervalMs: 10, highMs: 30, lowMs: 10 };

export class LoopLag implements LoadSignal {
  overloaded = false;
  /** How late the last tick ran, in ms. */
  lagMs = 0;
  /** Ticks that found the loop behind (for benchmarks). */
  overloadedTicks = 0;
  readonly #o: Required<LoopLagOptions>;
  readonly #timer: NodeJS.Timeout;
  #last: number;

  constructor(options: LoopLagOptions = {}) {
    this.#o = { ...DEFAULT_LOOP_LAG, ...options };
    this.#last = performance.now();
    this.#timer = setInterval(() => this.#tick(), this.#o.intervalMs);
    this.#timer.unref();
  }

  #tick(): void {
    const now = performance.now();
    const lag = Math.max(0, now - this.#last - this.#o.intervalMs);
    this.#last = now;
    this.lagMs = lag;
    if (lag >= this.#o.highMs) this.overloaded = true;
    else if (lag < this.#o.lowMs) this.overloaded = false;
    if (this.overloaded) this.overloadedTicks++;
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
