// Names outside the cluster zone: the cache first (a hit is answered synchronously, from bytes),
// then the upstreams of the longest matching stub domain, or the default ones. Identical
// questions in flight share one upstream query; who may start a new one is admission.ts's to say
// (--max-concurrent, a fair share per client, nothing new while the event loop is behind). Each
// question has --forward-timeout to be answered (exchange.ts: retransmits, first reply wins);
// past it an expired answer is served stale (RFC 8767), or SERVFAIL. An upstream that sends our
// own queries back is found and dropped (loop.ts).
import { formatHostPort, type HostPort } from '../base/address.ts';
import type { ForwardConfig, StubDomain } from './options.ts';
import { HEADER_SIZE, RCODE } from '../dns/constants.ts';
import { emptyReply, type Handler, type Query, type Reply, type RequestContext } from '../dns/message.ts';
import { MalformedMessageError } from '../dns/reader.ts';
import { nameOctets } from '../dns/writer.ts';
import type { Logger } from '../base/log.ts';
import { cacheKey, ResponseCache, SERVFAIL_REPLY } from './cache.ts';
import { type Converted, convertReply, type TtlLimits } from './scrub.ts';
import { Admission } from './admission.ts';
import { exchange, NoUpstreamError } from './exchange.ts';
import { LoopDetector } from './loop.ts';
import { LoadMonitor, type LoadWindows } from './overload.ts';
import { CacheStats, ForwardStats } from './stats.ts';
import { type Exchanged, ExchangeError, type Question, questionOf, Transport, upstream } from './transport.ts';
import { DEFAULT_TIMING, type Timing, UpstreamPool } from './upstreams.ts';

export interface ForwarderOptions {
  readonly config: ForwardConfig;
  readonly logger: Logger;
  readonly timing?: Timing;
  /** Whether the event loop is behind, window by window (default: a LoadMonitor from start()); null: never rationed. */
  readonly load?: LoadWindows | null;
  readonly now?: () => number;
  /** Kept TCP connections to upstreams close after this long idle (default 10 s, CoreDNS's expire). */
  readonly tcpIdleMs?: number;
  /**
   * A CacheHandler answers this forwarder's cache hits just before it in the chain (as CoreDNS's
   * `cache` precedes `forward`): serve() then asks upstream at once. Without (the default) serve()
   * looks the cache up itself first.
   */
  readonly cacheInFront?: boolean;
  /**
   * The forwarder this one replaces (a Corefile reload): with the same cache settings its cache is
   * kept, but for the names whose upstreams changed.
   */
  readonly previous?: Forwarder;
}

const SERVFAIL = SERVFAIL_REPLY;

const routeText = (domain: string, upstreams: readonly HostPort[]) => `${domain}=${upstreams.map(formatHostPort).join(',')}`;
const REFUSED: Reply = emptyReply(RCODE.REFUSED);

export class Forwarder implements Handler {
  readonly name = 'forward';
  readonly stats = new ForwardStats();
  readonly cacheStats: CacheStats;
  /** Whether a CacheHandler answers the hits in front of this handler (ForwarderOptions.cacheInFront). */
  readonly cacheInFront: boolean;
  readonly #o: ForwarderOptions;
  readonly #log: Logger;
  readonly #transport: Transport;
  readonly #cache: ResponseCache;
  readonly #default: UpstreamPool | null;
  /** `route`: which upstreams answer, as text (the same text, the same answer source). */
  readonly #stubs: { readonly domain: string; readonly pool: UpstreamPool; readonly route: string }[];
  readonly #inflight = new Map<string, Promise<Reply>>();
  readonly #pools: UpstreamPool[] = [];
  /** --force-tcp per pool: a stub domain may have its own. */
  readonly #forceTcp = new Map<UpstreamPool, boolean>();
  readonly #loops: LoopDetector;
  /** The longest TTLs a served upstream reply may carry. */
  readonly #limits: TtlLimits;
  readonly #admission: Admission;
  #monitor: LoadMonitor | null = null;

  constructor(options: ForwarderOptions) {
    this.#o = options;
    this.cacheInFront = options.cacheInFront ?? false;
    this.#log = options.logger.child({ component: 'forward' });
    this.#transport = new Transport({
      onSpoofed: () => this.stats.spoofedReplies++,
      tcpIdleMs: options.tcpIdleMs ?? options.config.expireMs,
    });
    const cfg = options.config;
    this.#loops = new LoopDetector(this.#pools, this.#transport, cfg.timeoutMs, this.#log);
    this.#limits = { successTtl: cfg.cacheSuccessTtl, denialTtl: cfg.cacheDenialTtl };
    this.#admission = new Admission(cfg.maxConcurrent, this.stats, options.load ?? null);
    const shape = {
      successSize: cfg.cacheSize,
      denialSize: cfg.cacheDenialSize,
      successTtl: cfg.cacheSuccessTtl,
      denialTtl: cfg.cacheDenialTtl,
      servfailTtl: cfg.cacheServfailTtl,
      serveStaleMs: cfg.serveStaleMs,
      prefetchHits: cfg.cachePrefetch,
      prefetchPercent: cfg.cachePrefetchPercent,
    };
    const previous = options.previous;
    let kept: Forwarder | null = null;
    if (previous !== undefined) kept = previous.#cache.sameShape(shape) ? previous : null;
    this.cacheStats = kept?.cacheStats ?? new CacheStats();
    this.#cache =
      kept === null ? new ResponseCache({ ...shape, stats: this.cacheStats, ...(options.now ? { now: options.now } : {}) }) : kept.#cache;
    const timing = options.timing ?? DEFAULT_TIMING;
    const pool = (list: readonly HostPort[], own: Partial<Pick<StubDomain, 'policy' | 'forceTcp' | 'maxFails' | 'healthCheckMs'>> = {}) => {
      // The probe interval (health_check) is the configured one unless a test gave its own timing.
      const every = own.healthCheckMs ?? cfg.healthCheckMs;
      const probing =
        options.timing !== undefined || every === DEFAULT_TIMING.probeIntervalMs
          ? timing
          : { ...timing, probeIntervalMs: every, maxProbeIntervalMs: Math.max(timing.maxProbeIntervalMs, every) };
      const p = new UpstreamPool({
        upstreams: list.map((u) => upstream(u.host, u.port)),
        policy: own.policy ?? cfg.policy,
        transport: this.#transport,
        stats: this.stats,
        logger: this.#log,
        maxFails: own.maxFails ?? cfg.maxFails,
        probeOverTcp: own.forceTcp ?? cfg.forceTcp,
        timing: probing,
        onUp: (state) => this.#loops.probe(p, state),
      });
      this.#pools.push(p);
      this.#forceTcp.set(p, own.forceTcp ?? cfg.forceTcp);
      return p;
    };
    this.#default = cfg.upstreams.length > 0 ? pool(cfg.upstreams) : null;
    this.#stubs = [...cfg.stubDomains]
      .sort((a, b) => b.domain.length - a.domain.length)
      .map((s) => ({ domain: s.domain, pool: pool(s.upstreams, s), route: routeText(s.domain, s.upstreams) }));
    if (kept !== null) {
      const dropped = this.#cache.forget((name) => kept.#routeOf(name) !== this.#routeOf(name));
      if (dropped > 0) this.#log.info({ dropped }, 'cache entries of changed upstreams dropped');
    }
  }

  /** Which upstreams answer `name`, as text: the same text is the same answer source. */
  #routeOf(name: string): string {
    const stub = this.#stubs.find((s) => name === s.domain || name.endsWith(`.${s.domain}`));
    if (stub !== undefined) return stub.route;
    return routeText('.', this.#excepted(name) ? [] : this.#o.config.upstreams);
  }

  /** Whether any name can be forwarded at all. */
  get enabled(): boolean {
    return this.#pools.length > 0;
  }

  /** Sends the loop probes (at start; again whenever an upstream comes back); watches the event loop from now on. */
  start(): void {
    if (this.#o.load === undefined && this.#monitor === null) {
      const monitor = new LoadMonitor();
      monitor.subscribe((congested) => this.#admission.windowEnded(congested));
      this.#monitor = monitor;
    }
    this.#loops.probeAll();
  }

  #poolFor(name: string): UpstreamPool | null {
    for (const stub of this.#stubs) if (name === stub.domain || name.endsWith(`.${stub.domain}`)) return stub.pool;
    return this.#excepted(name) ? null : this.#default;
  }

  /** --forward-except: never to the default upstreams. */
  #excepted(name: string): boolean {
    for (const domain of this.#o.config.forwardExcept) if (name === domain || name.endsWith(`.${domain}`)) return true;
    return false;
  }

  serve(query: Query, context: RequestContext): Reply | null | Promise<Reply> {
    if (this.#loops.caught(query.name)) return REFUSED;
    const pool = this.#poolFor(query.name);
    // An excepted name: what CoreDNS answers when no plugin follows forward.
    if (!pool) return this.#default !== null && this.#excepted(query.name) ? SERVFAIL : null;
    const q = questionOf(query);
    const key = cacheKey(q);
    // With the cache handler in front, this query has just missed the cache: look no further.
    if (this.cacheInFront) return this.#miss(key, q, pool, context.remoteAddress);
    return this.#cached(key, q, pool) ?? this.#miss(key, q, pool, context.remoteAddress);
  }

  /** The cache's answer for `q` (the CacheHandler's lookup); null on a miss and for names not forwarded. */
  cached(q: Question): Reply | null {
    const pool = this.#poolFor(q.name);
    if (!pool) return null;
    return this.#cached(cacheKey(q), q, pool);
  }

  /**
   * The answer for a question from the cache or upstream (for the chaser and autopath), on
   * behalf of `client` (its address: the fair share it counts against).
   */
  resolve(q: Question, client: string): Reply | Promise<Reply> {
    const pool = this.#poolFor(q.name);
    if (!pool) return SERVFAIL;
    const key = cacheKey(q);
    return this.#cached(key, q, pool) ?? this.#miss(key, q, pool, client);
  }

  #cached(key: string, q: Question, pool: UpstreamPool): Reply | null {
    const hit = this.#cache.get(key);
    if (hit === null) return null;
    if (hit.prefetch) this.#prefetch(key, q, pool);
    return hit.reply;
  }

  /** Upstream, sharing a flight with an identical question already on its way. */
  #miss(key: string, q: Question, pool: UpstreamPool, client: string): Reply | Promise<Reply> {
    let pending = this.#inflight.get(key);
    if (!pending) {
      if (this.#admission.admit(client, this.#inflight.size) !== 'ok') return REFUSED;
      pending = this.#ask(key, q, pool, true);
      this.#inflight.set(key, pending);
      this.#admission.hold(client);
      this.#monitor?.touch();
      // Both outcomes end the flight; a rejection is the processor's to report (SERVFAIL), not an unhandled one here.
      const landed = () => {
        this.#inflight.delete(key);
        this.#admission.release(client);
      };
      pending.then(landed, landed);
    }
    return pending;
  }

  #prefetch(key: string, q: Question, pool: UpstreamPool): void {
    // Work nobody waits for: only with the budget at most half used and the loop keeping up.
    if (this.#inflight.has(key) || !this.#admission.roomForBackground(this.#inflight.size)) return;
    this.cacheStats.prefetches++;
    this.#cache.markPrefetching(key, true);
    // No stale fallback here: the fresh entry is still being served, nothing stale goes out.
    const pending = this.#ask(key, q, pool, false);
    this.#inflight.set(key, pending);
    const landed = () => {
      this.#inflight.delete(key);
      this.#cache.markPrefetching(key, false);
    };
    pending.then(landed, (err: unknown) => {
      landed();
      // Nobody waits for a prefetch: its failure is only worth a log line.
      this.#log.warn({ err, name: q.name }, 'prefetch failed');
    });
  }

  /**
   * Asks upstream and caches the answer; on failure a stale answer (when `orStale`) or SERVFAIL,
   * and the failure remembered (RFC 9520) so that the name is not asked again at once.
   */
  async #ask(key: string, q: Question, pool: UpstreamPool, orStale: boolean): Promise<Reply> {
    const failed = (reply: Reply) => {
      this.#cache.failed(key);
      return orStale ? (this.#cache.stale(key) ?? reply) : reply;
    };
    let exchanged: Exchanged;
    try {
      exchanged = await this.#exchange(q, pool);
    } catch (err) {
      if (!(err instanceof ExchangeError) && !(err instanceof NoUpstreamError)) throw err;
      return failed(SERVFAIL);
    }
    // The body is copied after the client's question, so the upstream's must take the same octets.
    if (exchanged.message.questionEnd !== HEADER_SIZE + nameOctets(q.name) + 4) return failed(SERVFAIL);
    let converted: Converted;
    try {
      converted = convertReply(exchanged, this.#limits);
    } catch (err) {
      // Records the reader could walk but not decode (a bad SOA or name in RDATA): unusable.
      if (!(err instanceof MalformedMessageError)) throw err;
      return failed(SERVFAIL);
    }
    if (converted.reply.rcode === RCODE.SERVFAIL) {
      // An upstream that cannot answer now: an older answer beats none (RFC 8767).
      return failed(converted.reply);
    }
    this.stats.scrubbedRecords += converted.scrubbed;
    this.#cache.put(key, converted.reply, converted.ttlOffsets, converted.ttls, converted.negativeTtl);
    return converted.reply;
  }

  #exchange(q: Question, pool: UpstreamPool): Promise<Exchanged> {
    return exchange(q, {
      transport: this.#transport,
      pool,
      stats: this.stats,
      forceTcp: this.#forceTcp.get(pool) ?? this.#o.config.forceTcp,
      deadlineMs: this.#o.config.timeoutMs,
    });
  }

  close(): void {
    this.#monitor?.close();
    for (const pool of this.#pools) pool.close();
    this.#transport.close();
  }
}
