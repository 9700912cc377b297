// The upstreams of one domain (the default ones, or a stub domain's): which to ask first, when to
// ask again, and which to skip. Each upstream keeps RFC 6298's SRTT and RTTVAR; its retransmit
// timer (RTO = SRTT + 4·RTTVAR, bounded) says when a query sends again, never when it gives up
// (that is the query's deadline, forward.ts). Health comes from probes alone: a retransmit timeout
// starts a `. IN NS` probe (one in flight per upstream, rate-limited); any reply, whatever its
// rcode, is healthy; `maxFails` failed probes in a row mark the upstream down (CoreDNS forward's
// max_fails). A down upstream is skipped and probed with backoff until it answers. With every
// upstream down, each query still tries them (CoreDNS: one at random) and is counted in
// coredns_forward_healthcheck_broken_total. Slow names never take an upstream down.
import type { UpstreamPolicy } from './options.ts';
import { CLASS, TYPE } from '../dns/constants.ts';
import type { Logger } from '../base/log.ts';
import type { ForwardStats } from './stats.ts';
import { ExchangeError, type Transport, type Upstream } from './transport.ts';

export interface Timing {
  /** The retransmit timer before any round trip was measured (RFC 6298 §2.1: 1 s). */
  readonly initialRtoMs: number;
  readonly minRtoMs: number;
  /** No wait between two sends of one query is longer (CoreDNS forward's read timeout: 2 s). */
  readonly maxRtoMs: number;
  /** A health probe that has no reply after this has failed. */
  readonly probeTimeoutMs: number;
  /** Probes of one upstream start at least this far apart; a failing one is probed again after it. */
  readonly probeIntervalMs: number;
  /** A down upstream is probed with a delay doubling from probeIntervalMs up to this. */
  readonly maxProbeIntervalMs: number;
}

export const DEFAULT_TIMING: Timing = {
  initialRtoMs: 1_000,
  minRtoMs: 100,
  maxRtoMs: 2_000,
  probeTimeoutMs: 1_000,
  probeIntervalMs: 500,
  maxProbeIntervalMs: 5_000,
};

/** CoreDNS forward's default max_fails. */
export const DEFAULT_MAX_FAILS = 2;

export class UpstreamState {
  readonly upstream: Upstream;
  srttMs: number | null = null;
  rttvarMs = 0;
  /** Failed health probes in a row. */
  fails = 0;
  down = false;
  /** Sends our queries back to us: never used again. */
  loop = false;
  /** Times this upstream was marked down (for logs and tests). */
  downs = 0;
  #probing = false;
  #lastProbeAt = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | null = null;
  #backoffMs = 0;

  constructor(upstream: Upstream) {
    this.upstream = upstream;
  }

  get usable(): boolean {
    return !this.down && !this.loop;
  }

  /** RFC 6298 §2: the retransmit timer, within [minRtoMs, maxRtoMs]. */
  rtoMs(t: Timing): number {
    if (this.srttMs === null) return t.initialRtoMs;
    return Math.min(t.maxRtoMs, Math.max(t.minRtoMs, Math.round(this.srttMs + 4 * this.rttvarMs)));
  }

  /** RFC 6298 §2.2/2.3: one round-trip sample. */
  measured(rttMs: number): void {
    if (this.srttMs === null) {
      this.srttMs = rttMs;
      this.rttvarMs = rttMs / 2;
    } else {
      this.rttvarMs = 0.75 * this.rttvarMs + 0.25 * Math.abs(this.srttMs - rttMs);
      this.srttMs = 0.875 * this.srttMs + 0.125 * rttMs;
    }
  }

  /** Whether a probe may start now: none in flight or scheduled, none started within the interval. */
  mayProbe(now: number, t: Timing): boolean {
    return !this.#probing && this.#timer === null && now - this.#lastProbeAt >= t.probeIntervalMs;
  }

  probeStarted(now: number): void {
    this.#probing = true;
    this.#lastProbeAt = now;
  }

  probeEnded(): void {
    this.#probing = false;
  }

  /** The next probe after a failed one: at the interval while failing, with doubling delay once down. */
  scheduleProbe(t: Timing, run: () => void): void {
    if (this.#timer) return;
    this.#backoffMs = this.down
      ? this.#backoffMs === 0
        ? t.probeIntervalMs
        : Math.min(t.maxProbeIntervalMs, this.#backoffMs * 2)
      : t.probeIntervalMs;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      run();
    }, this.#backoffMs);
    this.#timer.unref();
  }

  stopProbing(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#backoffMs = 0;
  }
}

export interface UpstreamPoolOptions {
  readonly upstreams: readonly Upstream[];
  readonly policy: UpstreamPolicy;
  readonly transport: Transport;
  readonly stats: ForwardStats;
  readonly logger: Logger;
  readonly timing?: Timing;
  /** Failed probes in a row that mark an upstream down; 0: never down, no probes (CoreDNS max_fails). */
  readonly maxFails?: number;
  /** Probe over TCP (--force-tcp), as CoreDNS's health check uses the upstream's protocol. */
  readonly probeOverTcp?: boolean;
  readonly random?: () => number;
  readonly now?: () => number;
  /** An upstream came back (or started): check it does not send our queries back to us. */
  readonly onUp?: (state: UpstreamState) => void;
}

const ROOT_NS = { name: '', type: TYPE.NS, class: CLASS.IN, dnssecOk: false, checkingDisabled: false } as const;

export class UpstreamPool {
  readonly states: readonly UpstreamState[];
  readonly #o: UpstreamPoolOptions;
  readonly #timing: Timing;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #maxFails: number;
  #next = 0;
  #allDown = false;
  #closed = false;

  constructor(options: UpstreamPoolOptions) {
    this.#o = options;
    this.#timing = options.timing ?? DEFAULT_TIMING;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? (() => performance.now());
    this.#maxFails = options.maxFails ?? DEFAULT_MAX_FAILS;
    this.states = options.upstreams.map((u) => new UpstreamState(u));
    for (const s of this.states) options.stats.upstream(s.upstream.label);
  }

  get timing(): Timing {
    return this.#timing;
  }

  /**
   * The upstreams one query should try, in order: the usable ones by the policy. With every
   * upstream down (none looping back to us), all of them in random order, the query counted in
   * coredns_forward_healthcheck_broken_total: health checking itself may be what is broken.
   * Empty only when every upstream sends our queries back to us.
   */
  candidates(): UpstreamState[] {
    const usable = this.states.filter((s) => s.usable);
    if (usable.length === 0) {
      const alive = this.states.filter((s) => !s.loop);
      if (alive.length === 0) return alive;
      this.#o.stats.healthcheckBroken++;
      return this.#shuffled(alive);
    }
    if (usable.length === 1) return usable;
    switch (this.#o.policy) {
      case 'sequential':
        return usable;
      case 'round_robin': {
        const start = this.#next++ % usable.length;
        return [...usable.slice(start), ...usable.slice(0, start)];
      }
      case 'random':
        return this.#shuffled(usable);
    }
  }

  #shuffled(list: UpstreamState[]): UpstreamState[] {
    const out = [...list];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.#random() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  /** A reply to one of our queries: a round trip to learn from (when unambiguous), and proof of life. */
  answered(state: UpstreamState, rttMs: number | null): void {
    if (rttMs !== null) state.measured(rttMs);
    if (state.down && !this.#closed) this.#markUp(state);
  }

  /**
   * A query's retransmit timer ran out waiting for this upstream (or its socket failed): that
   * says nothing about the upstream by itself (the name may be slow), so it is probed.
   */
  timedOut(state: UpstreamState): void {
    if (this.#closed || this.#maxFails === 0 || state.loop || state.down) return;
    if (!state.mayProbe(this.#now(), this.#timing)) return;
    void this.#probe(state);
  }

  /** Marks an upstream as sending our own queries back; it is never asked again. */
  markLoop(state: UpstreamState): void {
    if (state.loop) return;
    state.loop = true;
    state.stopProbing();
    if (this.states.every((s) => s.loop)) {
      this.#o.logger.error(
        { upstreams: this.states.map((s) => s.upstream.label) },
        'every upstream is down (each sends our queries back to us): names outside the cluster get SERVFAIL or stale answers',
      );
    } else {
      this.#checkAllDown();
    }
  }

  #markDown(state: UpstreamState, err: unknown): void {
    state.down = true;
    state.downs++;
    this.#o.stats.upstream(state.upstream.label).downs++;
    this.#o.logger.warn({ upstream: state.upstream.label, failedProbes: state.fails, err: (err as Error).message }, 'upstream down');
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
    this.#o.logger.error(
      { upstreams: this.states.map((s) => s.upstream.label) },
      'every upstream failed its health checks: each query still tries them (counted in coredns_forward_healthcheck_broken_total)',
    );
  }

  /** One `. IN NS` probe, then the next one while it fails. Never rejects: it runs on timers. */
  async #probe(state: UpstreamState): Promise<void> {
    if (state.loop || this.#closed) return;
    state.probeStarted(this.#now());
    const timeout = this.#timing.probeTimeoutMs;
    try {
      const transport = this.#o.transport;
      await (this.#o.probeOverTcp ? transport.tcp(state.upstream, ROOT_NS, timeout) : transport.udp(state.upstream, ROOT_NS, timeout));
      state.probeEnded();
      if (this.#closed) return;
      state.fails = 0;
      state.stopProbing();
      if (state.down) this.#markUp(state);
    } catch (err) {
      state.probeEnded();
      if (this.#closed || state.loop) return;
      if (!(err instanceof ExchangeError))
        this.#o.logger.warn({ upstream: state.upstream.label, err }, 'upstream probe failed unexpectedly');
      this.#o.stats.upstream(state.upstream.label).healthcheckFailures++;
      state.fails++;
      if (!state.down && state.fails >= this.#maxFails) this.#markDown(state, err);
      state.scheduleProbe(this.#timing, () => void this.#probe(state));
    }
  }

  close(): void {
    this.#closed = true;
    for (const s of this.states) s.stopProbing();
  }
}
