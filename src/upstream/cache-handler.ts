// The cache as its own link of the handler chain, just before the forwarder (as CoreDNS's `cache`
// precedes `forward`): it answers hits, synchronously, and passes misses on. Hits are then counted
// under plugin "cache" in coredns_dns_responses_total, and the forwarder, built with
// `cacheInFront`, asks upstream for whatever reaches it without looking the cache up again.
import type { Handler, Query, Reply } from '../dns/message.ts';
import type { Forwarder } from './forward.ts';
import { questionOf } from './transport.ts';

export class CacheHandler implements Handler {
  readonly name = 'cache';
  readonly #forwarder: Forwarder;

  constructor(forwarder: Forwarder) {
    // A forwarder that looks the cache up itself would count every miss twice.
    if (!forwarder.cacheInFront) throw new TypeError('the forwarder behind a CacheHandler must be built with cacheInFront');
    this.#forwarder = forwarder;
  }

  serve(query: Query): Reply | null {
    return this.#forwarder.cached(questionOf(query));
  }
}
