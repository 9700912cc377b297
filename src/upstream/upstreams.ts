// The upstreams of one domain (the default ones, or a stub domain's): which to ask first, how
// long to wait for each, and which to skip. Timeouts follow each upstream's measured round trips
// (RFC 6298's SRTT and RTTVAR) instead of CoreDNS's fixed 2 s, so a slow but working upstream is
// waited for and a dead one is given up on quickly. Two failures in a row mark an upstream down;
// it is then probed in the background (`. NS`, as CoreDNS's health check) and skipped until it
// answers. With every upstream down the forwarder answers SERVFAIL (or stale) at once.
import type { UpstreamPolicy } from '../config.ts';
import { CLASS, TYPE } from '../dns/constants.ts';
import type { Logger } from '../observe/log.ts';
import type { ForwardStats } from './stats.ts';
import { ExchangeError, type Transport, type Upstream } from './transport.ts';

export interface Timing {
  /** Before any measurement. */
  readonly initialTimeoutMs: number;
  readonly minTimeoutMs: number;
  readonly maxTimeoutMs: number;
  /** First probe of a down upstream after this; doubling up to maxProbeMs. */
  readonly probeMs: number;
  readonly maxProbeMs: number;
}

export const DEFAULT_TIMING: Timing = { initialTimeoutMs: 1_000, minTimeoutMs: 100, maxTimeoutMs: 4_000, probeMs: 250, maxProbeMs: 5_000 };
const MAX_FAILS = 2;

export class UpstreamState {
  readonly upstream: Upstream;
  srttMs: number | null = null;
  rttvarMs = 0;
  fails = 0;
  down = false;
  /** Sends our queries back to us: never used again. */
  loop = false;
  #probe: NodeJS.Timeout | null = null;
  #probeDelay = 0;

  constructor(upstream: Upstream) {
    this.upstream = upstream;
  }

  get usable(): boolean {
    return !this.down && !this.loop;
  }

  timeoutMs(t: Timing): number {
    if (this.srttMs === null) return t.initialTimeoutMs;
    return Math.min(t.maxTimeoutMs, Math.max(t.minTimeoutMs, Math.round(this.srttMs + 4 * this.rttvarMs)));
  }

  measured(rttMs: number): void {
    if (this.srttMs === null) {
      this.srttMs = rttMs;
      this.rttvarMs = rttMs / 2;
    } else {
      this.rttvarMs = 0.75 * this.rttvarMs + 0.25 * Math.abs(this.srttMs - rttMs);
      this.srttMs = 0.875 * this.srttMs + 0.125 * rttMs;
    }
  }

  stopProbing(): void {
    if (this.#probe) clearTimeout(this.#probe);
    this.#probe = null;
  }

  /** Schedules the next probe with doubling delay; `run` resolves true once the upstream answered. */
  scheduleProbe(t: Timing, run: () => Promise<boolean>): void {
    if (this.#probe) return;
    this.#probeDelay = this.#probeDelay === 0 ? t.probeMs : Math.min(t.maxProbeMs, this.#probeDelay * 2);
    this.#probe = setTimeout(() => {
      this.#probe = null;
      void run().then((ok) => {
        if (ok) this.#probeDelay = 0;
        else if (this.down) this.scheduleProbe(t, run);
      });
    }, this.#probeDelay);
    this.#probe.unref();
  }
}

export interface UpstreamPoolOptions {
  readonly upstreams: readonly Upstream[];
  readonly policy: UpstreamPolicy;
  readonly transport: Transport;
  readonly stats: ForwardStats;
  readonly logger: Logger;
  readonly timing?: Timing;
  readonly random?: () => number;
  /** An upstream came back (or started): check it does not send our queries back to us. */
  readonly onUp?: (state: UpstreamState) => void;
}

export class UpstreamPool {
  readonly states: readonly UpstreamState[];
  readonly #o: UpstreamPoolOptions;
  readonly #timing: Timing;
  readonly #random: () => number;
  #next = 0;
  #allDown = false;
  #closed = false;

  constructor(options: UpstreamPoolOptions) {
    this.#o = options;
    this.#timing = options.timing ?? DEFAULT_TIMING;
    this.#random = options.random ?? Math.random;
    this.states = options.upstreams.map((u) => new UpstreamState(u));
    for (const s of this.states) options.stats.upstream(s.upstream.label);
  }

  get timing(): Timing {
    return this.#timing;
  }

  /** The usable upstreams in the order this query should try them. */
  order(): UpstreamState[] {
    const usable = this.states.filter((s) => s.usable);
    if (usable.length <= 1) return usable;
    switch (this.#o.policy) {
      case 'sequential':
        return usable;
      case 'round_robin': {
        const start = this.#next++ % usable.length;
        return [...usable.slice(start), ...usable.slice(0, start)];
      }
      case 'random': {
        const out = [...usable];
        for (let i = out.length - 1; i > 0; i--) {
          const j = Math.floor(this.#random() * (i + 1));
          [out[i], out[j]] = [out[j]!, out[i]!];
        }
        return out;
      }
    }
  }

  succeeded(state: UpstreamState, rttMs: number): void {
    state.measured(rttMs);
    state.fails = 0;
    if (state.down) this.#markUp(state);
  }

  failed(state: UpstreamState, err: unknown): void {
    // Exchanges cut short by close() must not start probes that outlive the pool.
    if (this.#closed) return;
    state.fails++;
    if (!state.down && state.fails >= MAX_FAILS) {
      state.down = true;
      this.#o.logger.warn({ upstream: state.upstream.label, err: (err as Error).message }, 'upstream down');
      this.#checkAllDown();
      state.scheduleProbe(this.#timing, () => this.#probe(state));
    }
  }

  /** Marks an upstream as sending our own queries back; it is never asked again. */
  markLoop(state: UpstreamState): void {
    if (state.loop) return;
    state.loop = true;
    state.stopProbing();
    this.#checkAllDown();
  }

  #markUp(state: UpstreamState): void {
    state.down = false;
    state.fails = 0;
    state.stopProbing();
    this.#o.logger.info({ upstream: state.upstream.label, srttMs: Math.round(state.srttMs ?? 0) }, 'upstream up');
    if (this.#allDown) {
      this.#allDown = false;
      this.#o.logger.info({}, 'an upstream is answering again');
    }
    this.#o.onUp?.(state);
  }

  #checkAllDown(): void {
    if (this.#allDown || this.states.some((s) => s.usable)) return;
    this.#allDown = true;
    this.#o.stats.healthcheckBroken++;
    this.#o.logger.error({ upstreams: this.states.map((s) => s.upstream.label) }, 'every upstream is down: names outside the cluster get SERVFAIL or stale answers');
  }

  /** True when probing should stop (the upstream answered, loops, or the pool closed). Never rejects: it runs on a timer. */
  async #probe(state: UpstreamState): Promise<boolean> {
    if (state.loop || this.#closed) return true;
    const started = performance.now();
    try {
      await this.#o.transport.udp(state.upstream, { name: '', type: TYPE.NS, class: CLASS.IN, dnssecOk: false, checkingDisabled: false }, this.#timing.initialTimeoutMs);
      this.succeeded(state, performance.now() - started);
      return true;
    } catch (err) {
      if (this.#closed) return true;
      this.#o.stats.upstream(state.upstream.label).healthcheckFailures++;
      if (!(err instanceof ExchangeError)) this.#o.logger.warn({ upstream: state.upstream.label, err }, 'upstream probe failed unexpectedly');
      return false;
    }
  }

  close(): void {
    this.#closed = true;
    for (const s of this.states) s.stopProbing();
  }
}
