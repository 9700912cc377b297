// Who may start an upstream question now. --max-concurrent bounds the distinct questions in
// flight; within it each client address gets a fair share: a client may start one more only while
// it holds fewer than are still free. Alone, a client can take half the budget; with k heavy
// clients each is held to about 1/(k+1), and some of the budget always stays free for the
// clients that ask little. So a pod flooding names that never resolve is refused first (REFUSED,
// cluster_dns_forward_client_rejects_total) and cannot take the budget from the others.
//
// A forwarded miss costs the thread several cluster answers, so while the event loop is behind
// (overload.ts) because of forwarding (RATION_FROM new questions a window), new upstream
// questions are rationed: from the second such window in a row, each congested window halves
// the questions the next may start (down to a floor), each calm one adds the floor again
// (additive increase, multiplicative decrease), and after a second without refusals the ration
// is lifted. Within a window
// the same fair-share rule holds: a client may start another only while it has started fewer
// than are left. What is refused is REFUSED (cluster_dns_forward_shed_total); the cluster zone,
// cache hits and questions already in flight go on being answered.
import type { LoadWindows } from './overload.ts';
import type { ForwardStats } from './stats.ts';

export type Admitted = 'ok' | 'full' | 'unfair' | 'shed';

/** New upstream questions a congested window may still start: some always get through. */
export const MIN_RATION = 5;
/**
 * A congested window that started fewer new upstream questions than this was not made so by
 * forwarding (100 in 100 ms are ~7 ms of the thread): rationing them would not help.
 */
export const RATION_FROM = 100;
/** Calm windows without a refusal before the ration is lifted. */
const CALM_TO_LIFT = 10;

export class Admission {
  readonly #max: number;
  readonly #stats: ForwardStats;
  /** Upstream questions each client address has started and that are still in flight. */
  readonly #held = new Map<string, number>();
  /** While rationed: questions each client started in this window. */
  readonly #started = new Map<string, number>();
  #ration = Number.POSITIVE_INFINITY;
  #startedInWindow = 0;
  #shedInWindow = 0;
  #calm = 0;
  /** Congested windows in a row. */
  #congested = 0;

  /** `load`: the windows that ration new questions while the loop is behind (null: never rationed). */
  constructor(maxConcurrent: number, stats: ForwardStats, load: LoadWindows | null = null) {
    this.#max = maxConcurrent;
    this.#stats = stats;
    load?.subscribe((congested) => this.windowEnded(congested));
  }

  /** Questions a window may start now (Infinity: not rationed). */
  get ration(): number {
    return this.#ration;
  }

  /** Whether `client` may start a new upstream question with `inFlight` questions in flight; refusals are counted. */
  admit(client: string, inFlight: number): Admitted {
    if (inFlight >= this.#max) {
      this.#stats.maxConcurrentRejects++;
      return 'full';
    }
    if ((this.#held.get(client) ?? 0) >= this.#max - inFlight) {
      this.#stats.clientRejects++;
      return 'unfair';
    }
    if (this.#ration !== Number.POSITIVE_INFINITY) {
      const left = this.#ration - this.#startedInWindow;
      if (left <= 0 || (this.#started.get(client) ?? 0) >= left) {
        this.#shedInWindow++;
        this.#stats.shed++;
        return 'shed';
      }
    }
    return 'ok';
  }

  /** Whether background work (a prefetch) may start an upstream question: half the budget free, not rationed. */
  roomForBackground(inFlight: number): boolean {
    return inFlight * 2 < this.#max && this.#ration === Number.POSITIVE_INFINITY;
  }

  /** `client` started an upstream question (after admit said 'ok'). */
  hold(client: string): void {
    this.#held.set(client, (this.#held.get(client) ?? 0) + 1);
    this.#startedInWindow++;
    if (this.#ration !== Number.POSITIVE_INFINITY) this.#started.set(client, (this.#started.get(client) ?? 0) + 1);
  }

  release(client: string): void {
    const held = this.#held.get(client) ?? 0;
    if (held <= 1) this.#held.delete(client);
    else this.#held.set(client, held - 1);
  }

  /** A load window ended: the ration for the next one. */
  windowEnded(congested: boolean): void {
    const rationed = this.#ration !== Number.POSITIVE_INFINITY;
    if (congested && (rationed || this.#startedInWindow >= RATION_FROM)) {
      // One late window is a hiccup (a collection, a cold start, a relist); two in a row are load.
      // Once rationed, every congested window halves the ration again.
      this.#congested++;
      if (rationed || this.#congested >= 2)
        this.#ration = Math.max(MIN_RATION, Math.floor(Math.min(this.#ration, this.#startedInWindow) / 2));
      this.#calm = 0;
    } else {
      this.#congested = 0;
      if (rationed) {
        this.#calm = this.#shedInWindow === 0 ? this.#calm + 1 : 0;
        this.#ration = this.#calm >= CALM_TO_LIFT ? Number.POSITIVE_INFINITY : this.#ration + MIN_RATION;
      }
    }
    this.#startedInWindow = 0;
    this.#shedInWindow = 0;
    this.#started.clear();
  }

  /** Questions `client` has in flight (for tests). */
  held(client: string): number {
    return this.#held.get(client) ?? 0;
  }
}
