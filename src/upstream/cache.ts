// Upstream answers kept as prepared bytes, in two caches sized in entries, as CoreDNS's `success`
// and `denial` caches are: answers in one, NXDOMAIN and NODATA in the other, so a flood of
// denials cannot push answers out. Each is a TinyLfuCache (tinylfu.ts): a name asked once waits
// in a small window and replaces a cached name only if it is asked more often (bench/
// cache-admission.ts chose it). The cluster zone never comes here: its answers are built from the
// index and can never outlive a change. A hit is the stored sections with every TTL counted down
// to what is left; negative answers are kept for the SOA's minimum (RFC 2308), capped; an answer
// past its TTL stays around for serve-stale (RFC 8767) until --serve-stale runs out or it is
// evicted. A failed resolution is remembered for --cache-servfail-ttl (RFC 9520) in a third,
// plain LRU of expiry times, apart from the answers so that dead names evict nothing good.
// Hits are synchronous: the caller answers from the returned bytes without awaiting anything.
import { LRUCache } from 'lru-cache';
import { RCODE } from '../dns/constants.ts';
import { emptyReply, type Reply } from '../dns/message.ts';
import { AccessSketch, TinyLfuCache } from './tinylfu.ts';
import type { CacheKind, CacheStats } from './stats.ts';
import type { Question } from './transport.ts';

/** RFC 8767 §5: the TTL of a stale answer. */
export const STALE_TTL = 30;

export interface CacheEntry {
  readonly rcode: number;
  readonly ancount: number;
  readonly nscount: number;
  readonly arcount: number;
  readonly body: Uint8Array;
  /** Offsets of the TTL fields in `body`, and the TTLs they held. */
  readonly ttlOffsets: readonly number[];
  readonly ttls: readonly number[];
  readonly kind: CacheKind;
  readonly storedAt: number;
  /** Seconds the entry is fresh. */
  readonly ttl: number;
  hits: number;
  /** Of `hits`, those the sketch has been told of (it hears of hits once a second, in a batch). */
  sketchedHits: number;
  prefetching: boolean;
  /**
   * The reply last handed out and the whole seconds elapsed it was patched for: every hit within
   * that second gets the same bytes (replies are read-only: the server copies them into its
   * message), so a hot entry costs one copy and TTL patch per second, not per query.
   */
  served: Reply | null;
  servedElapsed: number;
}

export interface CacheOptions {
  /** Entries of each cache (--cache-size, --cache-denial-size); 0 turns that cache off. */
  readonly successSize: number;
  readonly denialSize: number;
  readonly successTtl: number;
  readonly denialTtl: number;
  /** Seconds a failed resolution is answered SERVFAIL (or stale) without asking again; 0 off. */
  readonly servfailTtl: number;
  readonly serveStaleMs: number;
  readonly stats: CacheStats;
  readonly now?: () => number;
  /** Hits before an entry is worth refreshing ahead of expiry (CoreDNS prefetch's amount); 0 never. */
  readonly prefetchHits?: number;
  /** The refresh starts in this last percentage of the TTL (CoreDNS prefetch's PERCENTAGE). */
  readonly prefetchPercent?: number;
}

/** One entry per name, type, class and DO bit (a DO answer carries signatures a plain one lacks). */
export function cacheKey(q: Question): string {
  // CD as in CoreDNS's cache key: a validating upstream answers a CD query with what it would
  // otherwise SERVFAIL, and that answer must not reach clients that did not ask for it.
  return `${q.type}|${q.class}|${q.dnssecOk ? 1 : 0}${q.checkingDisabled ? 1 : 0}|${q.name}`;
}

/** What a name whose resolution failed gets while that is remembered (and no stale answer is left). */
export const SERVFAIL_REPLY: Reply = { ...emptyReply(RCODE.SERVFAIL), recursionAvailable: true };

export class ResponseCache {
  readonly #o: CacheOptions;
  readonly #success: TinyLfuCache<CacheEntry> | null;
  readonly #denial: TinyLfuCache<CacheEntry> | null;
  /** Key → when the failure stops being answered from here (ms). */
  readonly #failures: LRUCache<string, number> | null;
  /** How often each key is asked, for both caches' admission: every miss, and hits once a second. */
  readonly #sketch: AccessSketch;
  readonly #now: () => number;

  constructor(options: CacheOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    const stats = options.stats;
    this.#sketch = new AccessSketch(options.successSize + options.denialSize);
    const onRemove = (entry: CacheEntry, _key: string, evicted: boolean) => {
      stats.entries[entry.kind]--;
      if (evicted) stats.evictions[entry.kind]++;
    };
    const cache = (max: number) => (max === 0 ? null : new TinyLfuCache<CacheEntry>({ max, sketch: this.#sketch, onRemove }));
    this.#success = cache(options.successSize);
    this.#denial = cache(options.denialSize);
    const failures = Math.max(options.successSize, options.denialSize);
    this.#failures =
      options.servfailTtl === 0 || failures === 0
        ? null
        : new LRUCache<string, number>({ max: failures, dispose: () => void stats.servfailEntries-- });
  }

  get size(): number {
    return (this.#success?.size ?? 0) + (this.#denial?.size ?? 0);
  }

  /** Whether `options` would make the same cache (a reload keeps it then). */
  sameShape(options: Omit<CacheOptions, 'stats' | 'now'>): boolean {
    const o = this.#o;
    return (
      o.successSize === options.successSize &&
      o.denialSize === options.denialSize &&
      o.successTtl === options.successTtl &&
      o.denialTtl === options.denialTtl &&
      o.servfailTtl === options.servfailTtl &&
      o.serveStaleMs === options.serveStaleMs &&
      o.prefetchHits === options.prefetchHits &&
      o.prefetchPercent === options.prefetchPercent
    );
  }

  /** Drops every entry (answers and remembered failures) whose name `drop` says; returns how many. */
  forget(drop: (name: string) => boolean): number {
    let dropped = 0;
    const nameOf = (key: string) => key.slice(key.indexOf('|', key.indexOf('|', key.indexOf('|') + 1) + 1) + 1);
    for (const cache of [this.#success, this.#denial]) {
      if (cache === null) continue;
      for (const key of [...cache.keys()]) if (drop(nameOf(key)) && cache.delete(key)) dropped++;
    }
    if (this.#failures !== null) for (const key of [...this.#failures.keys()]) if (drop(nameOf(key))) this.#failures.delete(key);
    return dropped;
  }

  /**
   * A fresh answer for `key`, TTLs counted down; null on a miss. `prefetch` is set when the entry
   * is popular and in the last tenth of its life: the caller refreshes it in the background.
   * While a failure of `key` is remembered, a miss is SERVFAIL (or the stale answer) instead.
   */
  get(key: string): { reply: Reply; prefetch: boolean } | null {
    const stats = this.#o.stats;
    stats.requests++;
    const entry = this.#success?.get(key) ?? this.#denial?.get(key);
    const now = this.#now();
    if (!entry || now >= entry.storedAt + entry.ttl * 1000) {
      this.#sketch.record(key);
      const failedUntil = this.#failures?.get(key);
      if (failedUntil !== undefined) {
        if (now < failedUntil) {
          // Counted as CoreDNS counts the SERVFAILs it keeps in its denial cache, and on its own.
          stats.hits.denial++;
          stats.servfailHits++;
          return { reply: this.stale(key) ?? SERVFAIL_REPLY, prefetch: false };
        }
        this.#failures!.delete(key);
      }
      stats.misses++;
      return null;
    }
    entry.hits++;
    stats.hits[entry.kind]++;
    const elapsed = Math.floor((now - entry.storedAt) / 1000);
    const left = entry.ttl - elapsed;
    const hits = this.#o.prefetchHits ?? 3;
    const prefetch =
      hits > 0 && !entry.prefetching && entry.ttl >= 10 && entry.hits >= hits && left * 100 <= entry.ttl * (this.#o.prefetchPercent ?? 10);
    let reply = entry.served;
    if (reply === null || entry.servedElapsed !== elapsed) {
      // The sketch hears of hits once a second (with the patching), all of that second's at once
      // (a counter saturates at 15): names are ranked by how often they are asked, and the common
      // hit never touches it. One record a second would rank a name asked a thousand times a
      // second with one asked once.
      const h = this.#sketch.hash(key);
      const news = Math.min(15, entry.hits - entry.sketchedHits);
      entry.sketchedHits = entry.hits;
      for (let i = 0; i < news; i++) this.#sketch.recordHash(h);
      reply = this.#reply(entry, (ttl) => Math.max(0, Math.min(ttl - elapsed, left)));
      entry.served = reply;
      entry.servedElapsed = elapsed;
    }
    return { reply, prefetch };
  }

  #peek(key: string): CacheEntry | undefined {
    return this.#success?.peek(key) ?? this.#denial?.peek(key);
  }

  /** An expired answer still within --serve-stale, with TTL 30 (RFC 8767); null when there is none. */
  stale(key: string): Reply | null {
    const entry = this.#peek(key);
    if (!entry) return null;
    const expiredAt = entry.storedAt + entry.ttl * 1000;
    if (this.#now() > expiredAt + this.#o.serveStaleMs) return null;
    this.#o.stats.servedStale++;
    return this.#reply(entry, () => STALE_TTL);
  }

  markPrefetching(key: string, on: boolean): void {
    const entry = this.#peek(key);
    if (entry) entry.prefetching = on;
  }

  /**
   * Remembers that resolving `key` failed (SERVFAIL, or no usable answer in time): for
   * --cache-servfail-ttl it is answered from here, and the upstream is not asked (RFC 9520).
   */
  failed(key: string): void {
    if (!this.#failures) return;
    this.#failures.set(key, this.#now() + this.#o.servfailTtl * 1000);
    this.#o.stats.servfailEntries++;
  }

  /**
   * Keeps an upstream answer. Success lives for its smallest TTL (capped by --cache-success-ttl);
   * NXDOMAIN and NODATA for the SOA's min(TTL, MINIMUM) (RFC 2308 §5, capped by
   * --cache-denial-ttl) and not at all without an SOA; other rcodes are not kept. Either way the
   * name resolved: a failure remembered for it is forgotten.
   */
  put(key: string, reply: Reply, ttlOffsets: readonly number[], ttls: readonly number[], soaNegativeTtl: number | null): void {
    this.#failures?.delete(key);
    let kind: CacheKind;
    let ttl: number;
    if (reply.rcode === 0 && reply.ancount > 0) {
      kind = 'success';
      ttl = Math.min(this.#o.successTtl, ...ttls.slice(0, reply.ancount));
    } else if (reply.rcode === 3 || (reply.rcode === 0 && reply.ancount === 0)) {
      if (soaNegativeTtl === null) return;
      kind = 'denial';
      ttl = Math.min(this.#o.denialTtl, soaNegativeTtl);
    } else {
      return;
    }
    // A name that changed kind: the old entry must not be served stale later.
    (kind === 'success' ? this.#denial : this.#success)?.delete(key);
    const store = kind === 'success' ? this.#success : this.#denial;
    if (ttl <= 0 || store === null) return;
    const entry: CacheEntry = {
      rcode: reply.rcode,
      ancount: reply.ancount,
      nscount: reply.nscount,
      arcount: reply.arcount,
      body: reply.body,
      ttlOffsets,
      ttls,
      kind,
      storedAt: this.#now(),
      ttl,
      hits: 0,
      sketchedHits: 0,
      prefetching: false,
      served: null,
      servedElapsed: -1,
    };
    this.#o.stats.entries[kind]++;
    store.set(key, entry);
  }

  #reply(entry: CacheEntry, ttlOf: (ttl: number) => number): Reply {
    const body = new Uint8Array(entry.body);
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    for (let i = 0; i < entry.ttlOffsets.length; i++) view.setUint32(entry.ttlOffsets[i]!, ttlOf(entry.ttls[i]!));
    return {
      rcode: entry.rcode,
      authoritative: false,
      recursionAvailable: true,
      ancount: entry.ancount,
      nscount: entry.nscount,
      arcount: entry.arcount,
      body,
    };
  }
}
