// One question to the upstreams of a pool, within a deadline. The first attempt goes to the first
// candidate; each time the retransmit timer runs out (the upstream's RTO, doubled after every
// timeout of this query, RFC 6298 §5.5), the question is sent again: to the next candidate, or to
// the same upstream when there is only one. Every attempt keeps listening (its own socket, port
// and ID) until the deadline, and the first good reply of any of them wins; the others are closed
// then. A round trip is learnt only from an attempt that was the first of this query to its
// upstream (Karn's rule: a reply to a repeat may answer the earlier send). A truncated UDP reply
// is asked again over TCP, to the same upstream, within the same deadline.
import { FLAG, rcodeName } from '../dns/constants.ts';
import type { ForwardStats } from './stats.ts';
import { AttemptGroup, type Exchanged, ExchangeError, type Question, type Transport } from './transport.ts';
import type { UpstreamPool, UpstreamState } from './upstreams.ts';
import { ClusterDnsError } from '../base/errors.ts';

/** Sends per question at most (the first and three repeats): bounds what a dead name costs upstream. */
export const MAX_SENDS = 4;

export interface ExchangeOptions {
  readonly transport: Transport;
  readonly pool: UpstreamPool;
  readonly stats: ForwardStats;
  readonly forceTcp: boolean;
  /** The whole budget of the question (--forward-timeout). */
  readonly deadlineMs: number;
  readonly maxSends?: number;
}

/** Every upstream of the pool sends our queries back to us: there is nobody to ask. */
export class NoUpstreamError extends ClusterDnsError {
  override name = 'NoUpstreamError';
  readonly code = 'CDNS_ERR_NO_UPSTREAM';
}

/**
 * The first accepted reply to `q` from any attempt. Rejects with an ExchangeError when the
 * deadline passes (kind 'timeout') or every attempt has failed with no send left, and with
 * NoUpstreamError when the pool has no upstream to ask.
 */
export function exchange(q: Question, o: ExchangeOptions): Promise<Exchanged> {
  const candidates = o.pool.candidates();
  if (candidates.length === 0) return Promise.reject(new NoUpstreamError('every upstream sends our queries back to us'));
  return new Promise<Exchanged>((resolve, reject) => new Race(q, o, candidates, resolve, reject).start());
}

class Race {
  readonly #q: Question;
  readonly #o: ExchangeOptions;
  readonly #order: readonly UpstreamState[];
  readonly #resolve: (ex: Exchanged) => void;
  readonly #reject: (err: unknown) => void;
  readonly #group = new AttemptGroup();
  readonly #maxSends: number;
  /** Upstreams already asked by this question: a reply from a repeat is no round-trip sample. */
  readonly #asked = new Set<UpstreamState>();
  #deadlineAt = 0;
  #sends = 0;
  #last: UpstreamState | null = null;
  #retransmit: NodeJS.Timeout | null = null;
  #deadline: NodeJS.Timeout | null = null;
  #lastError: ExchangeError | null = null;
  #done = false;

  constructor(
    q: Question,
    o: ExchangeOptions,
    order: readonly UpstreamState[],
    resolve: (ex: Exchanged) => void,
    reject: (err: unknown) => void,
  ) {
    this.#q = q;
    this.#o = o;
    this.#order = order;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#maxSends = o.maxSends ?? MAX_SENDS;
  }

  start(): void {
    this.#deadlineAt = performance.now() + this.#o.deadlineMs;
    this.#deadline = setTimeout(() => {
      this.#deadline = null;
      if (this.#last) this.#o.pool.timedOut(this.#last);
      this.#fail(new ExchangeError('timeout', `no reply within ${this.#o.deadlineMs} ms`));
    }, this.#o.deadlineMs);
    this.#send();
  }

  #send(): void {
    const o = this.#o;
    const k = this.#sends++;
    const state = this.#order[k % this.#order.length]!;
    const first = !this.#asked.has(state);
    this.#asked.add(state);
    this.#last = state;
    o.stats.upstream(state.upstream.label).requests++;
    const sentAt = performance.now();
    const remaining = Math.max(1, this.#deadlineAt - sentAt);
    const attempt = o.forceTcp
      ? o.transport.tcp(state.upstream, this.#q, remaining, this.#group)
      : o.transport.udp(state.upstream, this.#q, remaining, this.#group);
    attempt.then(
      (ex) => this.#replied(state, ex, sentAt, first),
      (err: unknown) => this.#attemptFailed(state, err),
    );
    if (this.#sends >= this.#maxSends) return;
    const timing = o.pool.timing;
    const wait = Math.min(timing.maxRtoMs, state.rtoMs(timing) * 2 ** k);
    if (sentAt + wait >= this.#deadlineAt) return;
    this.#retransmit = setTimeout(() => {
      this.#retransmit = null;
      o.pool.timedOut(state);
      this.#send();
    }, wait);
  }

  #replied(state: UpstreamState, ex: Exchanged, sentAt: number, first: boolean): void {
    if (this.#done) return;
    const o = this.#o;
    const rtt = performance.now() - sentAt;
    o.pool.answered(state, first ? rtt : null);
    if ((ex.message.flags & FLAG.TC) !== 0 && !o.forceTcp) {
      // The whole answer over TCP; the other attempts keep listening meanwhile.
      const remaining = Math.max(1, this.#deadlineAt - performance.now());
      o.transport.tcp(state.upstream, this.#q, remaining, this.#group).then(
        (full) => this.#win(state, full, sentAt),
        (err: unknown) => this.#attemptFailed(state, err),
      );
      return;
    }
    this.#win(state, ex, sentAt);
  }

  #win(state: UpstreamState, ex: Exchanged, sentAt: number): void {
    if (this.#done) return;
    this.#o.stats.observe(state.upstream.label, rcodeName(ex.message.rcode), (performance.now() - sentAt) / 1000);
    this.#finish();
    this.#resolve(ex);
  }

  #attemptFailed(state: UpstreamState, err: unknown): void {
    if (this.#done) return;
    if (!(err instanceof ExchangeError)) {
      this.#fail(err);
      return;
    }
    this.#lastError = err;
    if (err.kind === 'closed') {
      // The transport is closing (shutdown): nothing more will be sent.
      this.#fail(err);
      return;
    }
    // An attempt's own timer runs out at the deadline, perhaps before the question's.
    if (err.kind === 'timeout') this.#o.pool.timedOut(state);
    if (err.kind === 'network') {
      // Unreachable now: no point waiting for the retransmit timer.
      this.#o.pool.timedOut(state);
      if (this.#retransmit !== null) {
        clearTimeout(this.#retransmit);
        this.#retransmit = null;
        this.#send();
        return;
      }
    }
    // Nothing listening and nothing left to send: give up before the deadline.
    if (this.#group.size === 0 && this.#retransmit === null) this.#fail(err);
  }

  #fail(err: unknown): void {
    if (this.#done) return;
    this.#finish();
    this.#reject(err ?? this.#lastError);
  }

  #finish(): void {
    this.#done = true;
    if (this.#retransmit !== null) clearTimeout(this.#retransmit);
    if (this.#deadline !== null) clearTimeout(this.#deadline);
    this.#retransmit = this.#deadline = null;
    this.#group.close();
  }
}
