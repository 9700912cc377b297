// Who may start an upstream query now. --max-concurrent bounds the distinct questions in flight;
// within it each client address gets a fair share: a client may start one more only while it
// holds fewer than are still free. Alone, a client can take half the budget; with k heavy
// clients, each is held to about 1/(k+1), and some of the budget always stays free for the
// clients that ask little. So a pod flooding names that never resolve is refused first (REFUSED,
// cluster_dns_forward_client_rejects_total) and cannot take the budget from the others. While
// the event loop is behind (see overload.ts), new upstream questions are refused altogether
// (cluster_dns_forward_shed_total): a forwarded miss costs the thread several cluster answers,
// and the cluster zone, cache hits and questions already in flight go on being answered.
import type { ForwardStats } from './stats.ts';

/** Whether the server is behind on its work right now. */
export interface LoadSignal {
  readonly overloaded: boolean;
}

export type Admitted = 'ok' | 'full' | 'unfair' | 'shed';

export class Admission {
  readonly #max: number;
  readonly #stats: ForwardStats;
  readonly #load: LoadSignal | null;
  /** Upstream questions each client address has started and that are still in flight. */
  readonly #held = new Map<string, number>();

  constructor(maxConcurrent: number, stats: ForwardStats, load: LoadSignal | null) {
    this.#max = maxConcurrent;
    this.#stats = stats;
    this.#load = load;
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
    if (this.#load?.overloaded === true) {
      this.#stats.shed++;
      return 'shed';
    }
    return 'ok';
  }

  /** Whether background work (a prefetch) may start an upstream question: half the budget free, the loop keeping up. */
  roomForBackground(inFlight: number): boolean {
    return inFlight * 2 < this.#max && this.#load?.overloaded !== true;
  }

  hold(client: string): void {
    this.#held.set(client, (this.#held.get(client) ?? 0) + 1);
  }

  release(client: string): void {
    const held = this.#held.get(client) ?? 0;
    if (held <= 1) this.#held.delete(client);
    else this.#held.set(client, held - 1);
  }

  /** Questions `client` has in flight (for tests). */
  held(client: string): number {
    return this.#held.get(client) ?? 0;
  }
}
