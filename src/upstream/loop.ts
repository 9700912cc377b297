// Forwarding loops: an upstream that sends our own queries back to us (such as a node whose
// resolv.conf points at the cluster DNS). Each upstream is asked a probe name carrying a random
// token and its place; a query for such a name reaching us says which upstream loops, and that one
// is dropped with one clear log line while the server keeps running (CoreDNS's `loop` plugin exits
// instead).
import { randomBytes } from 'node:crypto';
import { CLASS, TYPE } from '../dns/constants.ts';
import type { Logger } from '../base/log.ts';
import type { Transport } from './transport.ts';
import type { UpstreamPool, UpstreamState } from './upstreams.ts';

const LOOP_SUFFIX = 'cluster-dns-loop';

export class LoopDetector {
  /** The random first label of our probes; a query carrying it came back to us. */
  readonly #token = randomBytes(8).toString('hex');
  readonly #pools: readonly UpstreamPool[];
  readonly #transport: Transport;
  readonly #timeoutMs: number;
  readonly #log: Logger;

  /** `pools`: the forwarder's pools, in a fixed order (a probe names its upstream by its place there). */
  constructor(pools: readonly UpstreamPool[], transport: Transport, timeoutMs: number, log: Logger) {
    this.#pools = pools;
    this.#transport = transport;
    this.#timeoutMs = timeoutMs;
    this.#log = log;
  }

  /** Sends every upstream its probe. */
  probeAll(): void {
    for (const pool of this.#pools) for (const state of pool.states) this.probe(pool, state);
  }

  probe(pool: UpstreamPool, state: UpstreamState): void {
    const p = this.#pools.indexOf(pool);
    const i = pool.states.indexOf(state);
    const name = `${this.#token}.${p}-${i}.${LOOP_SUFFIX}`;
    this.#transport
      .udp(state.upstream, { name, type: TYPE.HINFO, class: CLASS.IN, dnssecOk: false, checkingDisabled: false }, this.#timeoutMs)
      .catch(() => {
        // Any answer or none: only a probe arriving back at us means something.
      });
  }

  /** Whether `name` is one of our own probes (the upstream it went to forwards to us); that upstream is marked. */
  caught(name: string): boolean {
    if (!name.endsWith(`.${LOOP_SUFFIX}`) || !name.startsWith(`${this.#token}.`)) return false;
    const [p, i] = name
      .slice(this.#token.length + 1, -LOOP_SUFFIX.length - 1)
      .split('-')
      .map(Number);
    const pool = this.#pools[p ?? -1];
    const state = pool?.states[i ?? -1];
    if (pool && state && !state.loop) {
      pool.markLoop(state);
      this.#log.error(
        { upstream: state.upstream.label },
        'forwarding loop: this upstream sends our queries back to us; it is no longer used (check the node resolv.conf and --upstream)',
      );
    }
    return true;
  }
}
