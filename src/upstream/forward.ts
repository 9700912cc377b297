// Names outside the cluster zone: the cache first (a hit is answered synchronously, from bytes),
// then the upstreams of the longest matching stub domain, or the default ones. Identical
// questions in flight share one upstream query; who may start a new one is admission.ts's to say
// (--max-concurrent, a fair share per client, nothing new while the event loop is behind). Each
// question has --forward-timeout to be answered (exchange.ts: retransmits, first reply wins);
// past it an expired answer is served stale (RFC 8767), or SERVFAIL. An upstream that sends our
// own queries back (a forwarding loop, such as a node whose resolv.conf points at the cluster DNS)
// is found with a probe name and dropped, with one clear log line, and the server keeps running
// (CoreDNS's `loop` plugin exits instead).
import { randomBytes } from 'node:crypto';
import type { ForwardConfig, HostPort } from '../config.ts';
import { CLASS, FLAG, HEADER_SIZE, RCODE, TYPE } from '../dns/constants.ts';
import { emptyReply, type Handler, type Query, type Reply, type RequestContext } from '../dns/message.ts';
import { MalformedMessageError } from '../dns/reader.ts';
import { replyRecords } from '../dns/rebase.ts';
import { nameOctets, type Sections, writeReply } from '../dns/writer.ts';
import type { Logger } from '../observe/log.ts';
import { cacheKey, ResponseCache, SERVFAIL_REPLY } from './cache.ts';
import { type Converted, convertReply, type TtlLimits } from './scrub.ts';
import { Admission } from './admission.ts';
import { exchange, NoUpstreamError } from './exchange.ts';
import { LoadMonitor, type LoadWindows } from './overload.ts';
import { CacheStats, ForwardStats } from './stats.ts';
import { type Exchanged, ExchangeError, type Question, Transport, upstream } from './transport.ts';
import { type Timing, UpstreamPool, type UpstreamState } from './upstreams.ts';

const LOOP_SUFFIX = 'cluster-dns-loop';

export interface ForwarderOptions {
  readonly config: ForwardConfig;
  readonly logger: Logger;
  readonly timing?: Timing;
  /** Whether the event loop is behind, window by window (default: a LoadMonitor from start()); null: never rationed. */
  readonly load?: LoadWindows | null;
  readonly now?: () => number;
  /** Kept TCP connections to upstreams close after this long idle (default 10 s, CoreDNS's expire). */
  readonly tcpIdleMs?: number;
}

const SERVFAIL = SERVFAIL_REPLY;
const REFUSED: Reply = emptyReply(RCODE.REFUSED);

export class Forwarder implements Handler {
  readonly name = 'forward';
  readonly stats = new ForwardStats();
  readonly cacheStats = new CacheStats();
  readonly #o: ForwarderOptions;
  readonly #log: Logger;
  readonly #transport: Transport;
  readonly #cache: ResponseCache;
  readonly #default: UpstreamPool | null;
  readonly #stubs: { readonly domain: string; readonly pool: UpstreamPool }[];
  readonly #inflight = new Map<string, Promise<Reply>>();
  /** The random first label of our loop probes; a query carrying it came back to us. */
  readonly #loopToken = randomBytes(8).toString('hex');
  readonly #pools: UpstreamPool[] = [];
  /** The longest TTLs a served upstream reply may carry. */
  readonly #limits: TtlLimits;
  readonly #admission: Admission;
  #monitor: LoadMonitor | null = null;

  constructor(options: ForwarderOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'forward' });
    this.#transport = new Transport({
      onSpoofed: () => this.stats.spoofedReplies++,
      ...(options.tcpIdleMs === undefined ? {} : { tcpIdleMs: options.tcpIdleMs }),
    });
    const cfg = options.config;
    this.#limits = { successTtl: cfg.cacheSuccessTtl, denialTtl: cfg.cacheDenialTtl };
    this.#admission = new Admission(cfg.maxConcurrent, this.stats, options.load ?? null);
    this.#cache = new ResponseCache({
      successSize: cfg.cacheSize,
      denialSize: cfg.cacheDenialSize,
      successTtl: cfg.cacheSuccessTtl,
      denialTtl: cfg.cacheDenialTtl,
      servfailTtl: cfg.cacheServfailTtl,
      serveStaleMs: cfg.serveStaleMs,
      stats: this.cacheStats,
      ...(options.now ? { now: options.now } : {}),
    });
    const pool = (list: readonly HostPort[]) => {
      const p = new UpstreamPool({
        upstreams: list.map((u) => upstream(u.host, u.port)),
        policy: cfg.policy,
        transport: this.#transport,
        stats: this.stats,
        logger: this.#log,
        maxFails: cfg.maxFails,
        probeOverTcp: cfg.forceTcp,
        ...(options.timing ? { timing: options.timing } : {}),
        onUp: (state) => this.#probeLoop(p, state),
      });
      this.#pools.push(p);
      return p;
    };
    this.#default = cfg.upstreams.length > 0 ? pool(cfg.upstreams) : null;
    this.#stubs = [...cfg.stubDomains].sort((a, b) => b.domain.length - a.domain.length).map((s) => ({ domain: s.domain, pool: pool(s.upstreams) }));
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
    for (const pool of this.#pools) for (const state of pool.states) this.#probeLoop(pool, state);
  }

  #probeLoop(pool: UpstreamPool, state: UpstreamState): void {
    const p = this.#pools.indexOf(pool);
    const i = pool.states.indexOf(state);
    const name = `${this.#loopToken}.${p}-${i}.${LOOP_SUFFIX}`;
    this.#transport
      .udp(state.upstream, { name, type: TYPE.HINFO, class: CLASS.IN, dnssecOk: false, checkingDisabled: false }, this.#o.config.timeoutMs)
      .catch(() => {
        // Any answer or none: only a probe arriving back at us means something.
      });
  }

  /** A query that is one of our own loop probes: the upstream it went to forwards to us. */
  #caughtLoop(name: string): boolean {
    if (!name.endsWith(`.${LOOP_SUFFIX}`) || !name.startsWith(`${this.#loopToken}.`)) return false;
    const [p, i] = name.slice(this.#loopToken.length + 1, -LOOP_SUFFIX.length - 1).split('-').map(Number);
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

  #poolFor(name: string): UpstreamPool | null {
    for (const stub of this.#stubs) if (name === stub.domain || name.endsWith(`.${stub.domain}`)) return stub.pool;
    return this.#default;
  }

  serve(query: Query, context: RequestContext): Reply | null | Promise<Reply> {
    if (this.#caughtLoop(query.name)) return REFUSED;
    const pool = this.#poolFor(query.name);
    if (!pool) return null;
    const dnssecOk = query.edns?.dnssecOk ?? false;
    const checkingDisabled = (query.flags & FLAG.CD) !== 0;
    // With the cache handler in front, this query has just missed the cache: look no further.
    if (this.#cacheHandler !== null) return this.#miss(cacheKey(query.name, query.type, query.class, dnssecOk, checkingDisabled), query.name, query.type, query.class, dnssecOk, checkingDisabled, pool, context.remoteAddress);
    return this.resolve(query.name, query.type, query.class, dnssecOk, checkingDisabled, context.remoteAddress, pool);
  }

  #cacheHandler: Handler | null = null;

  /**
   * The handler that answers cache hits, to go just before this one in the chain (as CoreDNS's
   * `cache` precedes `forward`): hits are then counted under plugin "cache" in
   * coredns_dns_responses_total, and this handler sees only the misses.
   */
  cacheHandler(): Handler {
    this.#cacheHandler ??= {
      name: 'cache',
      serve: (query: Query): Reply | null => {
        const pool = this.#poolFor(query.name);
        if (!pool) return null;
        const dnssecOk = query.edns?.dnssecOk ?? false;
        const checkingDisabled = (query.flags & FLAG.CD) !== 0;
        return this.#cached(cacheKey(query.name, query.type, query.class, dnssecOk, checkingDisabled), query.name, query.type, query.class, dnssecOk, checkingDisabled, pool);
      },
    };
    return this.#cacheHandler;
  }

  /**
   * The answer for a question from the cache or upstream (for the chaser and autopath too), on
   * behalf of `client` (its address: the fair share it counts against).
   */
  resolve(name: string, type: number, cls: number, dnssecOk: boolean, checkingDisabled: boolean, client: string, pool = this.#poolFor(name)): Reply | Promise<Reply> {
    if (!pool) return SERVFAIL;
    const key = cacheKey(name, type, cls, dnssecOk, checkingDisabled);
    return this.#cached(key, name, type, cls, dnssecOk, checkingDisabled, pool) ?? this.#miss(key, name, type, cls, dnssecOk, checkingDisabled, pool, client);
  }

  #cached(key: string, name: string, type: number, cls: number, dnssecOk: boolean, checkingDisabled: boolean, pool: UpstreamPool): Reply | null {
    const hit = this.#cache.get(key);
    if (hit === null) return null;
    if (hit.prefetch) this.#prefetch(key, { name, type, class: cls, dnssecOk, checkingDisabled }, pool);
    return hit.reply;
  }

  /** Upstream, sharing a flight with an identical question already on its way. */
  #miss(key: string, name: string, type: number, cls: number, dnssecOk: boolean, checkingDisabled: boolean, pool: UpstreamPool, client: string): Reply | Promise<Reply> {
    let pending = this.#inflight.get(key);
    if (!pending) {
      if (this.#admission.admit(client, this.#inflight.size) !== 'ok') return REFUSED;
      const q: Question = { name, type, class: cls, dnssecOk, checkingDisabled };
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
    return exchange(q, { transport: this.#transport, pool, stats: this.stats, forceTcp: this.#o.config.forceTcp, deadlineMs: this.#o.config.timeoutMs });
  }

  close(): void {
    this.#monitor?.close();
    for (const pool of this.#pools) pool.close();
    this.#transport.close();
  }
}

/** The cluster zone as the chaser and autopath see it. */
export interface SectionsHandler extends Handler {
  sections(name: string, type: number): Sections | null;
}

/**
 * ExternalName services whose CNAME leaves the cluster zone: the zone's reply (the CNAME chain)
 * with the target resolved upstream and appended, so the client gets the chain whole.
 */
export class ExternalNameChaser implements Handler {
  readonly name: string;
  readonly #zone: SectionsHandler;
  readonly #forwarder: Forwarder;

  constructor(zone: SectionsHandler, forwarder: Forwarder) {
    this.#zone = zone;
    this.#forwarder = forwarder;
    this.name = zone.name;
  }

  sections(name: string, type: number): Sections | null {
    return this.#zone.sections(name, type);
  }

  serve(query: Query, context: RequestContext): Reply | null | Promise<Reply | null> {
    const reply = this.#zone.serve(query, context);
    if (reply === null || reply instanceof Promise || reply.chase === undefined) return reply;
    return this.#chase(query, context, reply, reply.chase);
  }

  async #chase(query: Query, context: RequestContext, zoneReply: Reply, target: string): Promise<Reply> {
    const upstreamReply = await this.#forwarder.resolve(target, query.type, CLASS.IN, query.edns?.dnssecOk ?? false, false, context.remoteAddress);
    if (upstreamReply.rcode !== RCODE.NOERROR && upstreamReply.rcode !== RCODE.NXDOMAIN) return zoneReply;
    const sections = this.#zone.sections(query.name, query.type);
    if (!sections) return zoneReply;
    const found = replyRecords(target, upstreamReply, 'skip');
    if (found === null) return zoneReply;
    return writeReply(query.name, { rcode: upstreamReply.rcode, authoritative: false, recursionAvailable: true }, [...sections.answer, ...found.answer], found.authority, []);
  }
}
