// The per-query pipeline both transports share: parse, the checks every query gets, the handler
// chain, and the size limit. A handler that answers synchronously is answered synchronously: no
// Promise and no closure on that path, since it is most of the traffic.
import { CLASS, CLASSIC_UDP_SIZE, DEFAULT_MAX_UDP_SIZE, FLAG, RCODE, TYPE } from '../dns/constants.ts';
import { emptyReply, NO_REPLY } from '../dns/message.ts';
import type { Handler, Query, RecordOrder, Reply, RequestContext } from '../dns/message.ts';
import { performance } from 'node:perf_hooks';
import { readQuery } from '../dns/query.ts';
import { familyIndex, ZONE_DROPPED, type QueryCounters } from './counters.ts';
import { assemble, errorReply } from './respond.ts';

/** TCP messages carry a 16-bit length, so that is their only limit. */
const TCP_LIMIT = 65535;

/**
 * Plain counters, bumped on the hot path and read by metrics at scrape time. `replies` by rcode
 * count every reply sent, whoever chose the rcode.
 */
export class ServerStats {
  received = 0;
  udp = 0;
  tcp = 0;
  droppedShort = 0;
  droppedResponse = 0;
  noerror = 0;
  nxdomain = 0;
  formerr = 0;
  servfail = 0;
  notimp = 0;
  refused = 0;
  badvers = 0;
  otherRcode = 0;
  /** Replies cut to the whole records that fit, with TC set. */
  truncated = 0;
  /** Handler throws and rejections, answered with SERVFAIL. */
  panics = 0;
  udpSendErrors = 0;
  /** Failed UDP receives (socket errors other than a reply's send), and datagrams lost with them. */
  udpReceiveErrors = 0;
  tcpConnections = 0;
  /** Connections refused at the connection limit with no idle connection to close for them. */
  tcpRejected = 0;
  /** Connections refused because their source address held --tcp-max-conns-per-client already. */
  tcpClientLimited = 0;
  /** Idle connections closed to admit a new one at the connection limit. */
  tcpIdleEvictions = 0;
  /** Socket errors on connections (resets, failed writes) and failed accepts. */
  tcpErrors = 0;
  /** Connections closed for a zero-length or unreadable frame. */
  tcpBadFrames = 0;
  tcpIdleTimeouts = 0;
  /** Connections closed because a frame did not arrive whole in time (slow senders). */
  tcpReadTimeouts = 0;
  /** Queries a handler chose to leave unanswered (acl's `drop`). */
  unanswered = 0;

  /** Movers of counts kept elsewhere until read (the UDP addon's, of the batch just sent). */
  readonly #elsewhere = new Set<() => void>();

  /**
   * Registers `move`, which adds counts kept elsewhere into these fields; every settle() runs it
   * until the returned function removes it.
   */
  countedElsewhere(move: () => void): () => void {
    this.#elsewhere.add(move);
    return () => {
      this.#elsewhere.delete(move);
    };
  }

  /** Brings in the counts kept elsewhere: a reader calls it before reading the fields. */
  settle(): void {
    for (const move of this.#elsewhere) move();
  }

  countRcode(rcode: number): void {
    switch (rcode) {
      case RCODE.NOERROR:
        this.noerror++;
        break;
      case RCODE.NXDOMAIN:
        this.nxdomain++;
        break;
      case RCODE.FORMERR:
        this.formerr++;
        break;
      case RCODE.SERVFAIL:
        this.servfail++;
        break;
      case RCODE.NOTIMP:
        this.notimp++;
        break;
      case RCODE.REFUSED:
        this.refused++;
        break;
      case RCODE.BADVERS:
        this.badvers++;
        break;
      default:
        this.otherRcode++;
    }
  }
}

/** What the transports pass: the request context plus which listen address received it. */
export interface ServerContext extends RequestContext {
  /** Index of the listen address (the metrics' `server` label); 0 when not given. */
  readonly listener?: number;
}

/**
 * One answered query, for the opt-in query log. Called after the reply is built, for FORMERR and
 * NOTIMP too: then `query` holds what was read (`questionEnd` 0 when the question was not).
 */
export type QueryObserver = (
  query: Query,
  context: ServerContext,
  rcode: number,
  /** The handler that wrote the reply, '' for the server itself. */
  plugin: string,
  /** The reply as sent (its header gives the flags and counts). */
  reply: Buffer,
  /** The request's size in octets. */
  requestSize: number,
  /** From the query's arrival in process() to its reply built. */
  seconds: number,
) => void;

export interface QueryProcessorOptions {
  readonly handlers: readonly Handler[];
  /** Cap on the UDP size a client may ask for; also the size our OPT advertises. */
  readonly maxUdpSize?: number;
  readonly onError?: (err: unknown) => void;
  /** Per-query counters for metrics; without them the query path does no metrics work at all. */
  readonly counters?: QueryCounters;
  readonly onQuery?: QueryObserver | undefined;
  /** Reorders the records of every reply as they are copied (loadbalance); none keeps their order. */
  readonly recordOrder?: RecordOrder;
  /**
   * Queries of classes other than IN go to the handlers (a Corefile's stage answers CHAOS and
   * refuses the rest) instead of being refused here.
   */
  readonly otherClasses?: boolean;
  /** The NSID sent to a request that asks for it (the nsid plugin); none by default. */
  readonly nsid?: Uint8Array | null;
}

type Pending = Reply | null | Promise<Reply | null>;

function isPromiseLike(value: Pending): value is Promise<Reply | null> {
  return typeof (value as { then?: unknown }).then === 'function';
}

export class QueryProcessor {
  readonly stats = new ServerStats();
  #handlers: readonly Handler[];
  #maxUdpSize: number;
  #onError: ((err: unknown) => void) | undefined;
  #counters: QueryCounters | null;
  #onQuery: QueryObserver | null;
  #recordOrder: RecordOrder | null;
  readonly #otherClasses: boolean;
  #nsid: Uint8Array | null;

  constructor(options: QueryProcessorOptions) {
    this.#handlers = [...options.handlers];
    this.#maxUdpSize = Math.max(CLASSIC_UDP_SIZE, Math.min(65535, options.maxUdpSize ?? DEFAULT_MAX_UDP_SIZE));
    this.#onError = options.onError;
    this.#counters = options.counters ?? null;
    this.#onQuery = options.onQuery ?? null;
    this.#recordOrder = options.recordOrder ?? null;
    this.#otherClasses = options.otherClasses === true;
    this.#nsid = options.nsid ?? null;
  }

  /** loadbalance after a Corefile reload: the next replies are copied in the new order. */
  setRecordOrder(order: RecordOrder | null): void {
    this.#recordOrder = order;
  }

  /** nsid after a Corefile reload. */
  setNsid(nsid: Uint8Array | null): void {
    this.#nsid = nsid;
  }

  /** The query log after a Corefile reload. */
  setOnQuery(onQuery: QueryObserver | null): void {
    this.#onQuery = onQuery;
  }

  /**
   * New handlers after a Corefile reload, under the same names in the same order: the counters'
   * plugin labels are indexes into them.
   */
  setHandlers(handlers: readonly Handler[]): void {
    const names = (list: readonly Handler[]) => list.map((h) => h.name).join(' ');
    if (names(handlers) !== names(this.#handlers)) throw new Error(`setHandlers: ${names(handlers)} is not ${names(this.#handlers)}`);
    this.#handlers = [...handlers];
  }

  get counters(): QueryCounters | null {
    return this.#counters;
  }

  get maxUdpSize(): number {
    return this.#maxUdpSize;
  }

  /** The wire reply to `msg`, or null when it must go unanswered. Never throws or rejects. */
  process(msg: Buffer, context: ServerContext): Buffer | null | Promise<Buffer | null> {
    // Two clock reads per query are the whole cost of the duration histogram (see bench/metrics-cost.ts);
    // the query log's duration reads the same clock.
    const start = this.#counters === null && this.#onQuery === null ? 0 : performance.now();
    const stats = this.stats;
    stats.received++;
    if (context.protocol === 'udp') stats.udp++;
    else stats.tcp++;

    const read = readQuery(msg);
    if (read.kind === 'drop') {
      if (read.reason === 'short') stats.droppedShort++;
      else stats.droppedResponse++;
      return null;
    }
    if (read.kind === 'error') {
      stats.countRcode(read.rcode);
      const out = errorReply(msg, read.id, read.flags, read.rcode, read.questionEnd, read.edns, this.#maxUdpSize);
      const counters = this.#counters;
      if (counters !== null) {
        // CoreDNS counts what never entered a handler chain under zone "dropped".
        const qtype = read.questionEnd > 0 ? msg.readUInt16BE(read.questionEnd - 4) : 0;
        const server = context.listener ?? 0;
        counters.count(
          server,
          ZONE_DROPPED,
          context.protocol === 'udp' ? 0 : 1,
          familyIndex(context.remoteAddress),
          qtype,
          read.edns?.dnssecOk ?? false,
          msg.length,
          read.rcode,
          0,
          out.length,
        );
        counters.observeDuration(server, ZONE_DROPPED, (performance.now() - start) / 1000);
      }
      const onQuery = this.#onQuery;
      if (onQuery !== null) {
        // What was read of the request: the question only when it is echoed (questionEnd > 0).
        const { id, flags, questionEnd, name, type, edns } = read;
        const query: Query = { id, flags, name, type, class: questionEnd > 0 ? msg.readUInt16BE(questionEnd - 2) : 0, questionEnd, edns };
        this.#observe(onQuery, query, context, read.rcode, -1, out, msg.length, (performance.now() - start) / 1000);
      }
      return out;
    }

    const query = read.query;
    const edns = query.edns;
    let limit = TCP_LIMIT;
    if (context.protocol === 'udp') {
      limit = edns === null ? CLASSIC_UDP_SIZE : Math.min(edns.udpSize, this.#maxUdpSize);
    }
    // RFC 6891 §6.1.3: an unknown EDNS version is answered BADVERS before anything else.
    if (edns !== null && edns.version !== 0) return this.#finish(msg, query, context, emptyReply(RCODE.BADVERS), limit, -1, start);
    if ((query.class !== CLASS.IN && !this.#otherClasses) || query.type === TYPE.AXFR || query.type === TYPE.IXFR) {
      return this.#finish(msg, query, context, emptyReply(RCODE.REFUSED), limit, -1, start);
    }
    return this.#run(msg, query, context, limit, 0, start);
  }

  /** Handlers from `first` on; returns to the sync caller until a handler hands back a Promise. */
  #run(
    msg: Buffer,
    query: Query,
    context: ServerContext,
    limit: number,
    first: number,
    start: number,
  ): Buffer | null | Promise<Buffer | null> {
    const handlers = this.#handlers;
    try {
      for (let i = first; i < handlers.length; i++) {
        const reply = (handlers[i] as Handler).serve(query, context);
        if (reply === null || reply === undefined) continue;
        if (isPromiseLike(reply)) return this.#await(reply, msg, query, context, limit, i, start);
        return this.#finish(msg, query, context, reply, limit, i, start);
      }
    } catch (err) {
      return this.#panic(err, msg, query, context, limit, start);
    }
    return this.#finish(msg, query, context, emptyReply(RCODE.REFUSED), limit, -1, start);
  }

  async #await(
    pending: Promise<Reply | null>,
    msg: Buffer,
    query: Query,
    context: ServerContext,
    limit: number,
    current: number,
    start: number,
  ): Promise<Buffer | null> {
    let reply: Reply | null;
    try {
      reply = await pending;
    } catch (err) {
      return this.#panic(err, msg, query, context, limit, start);
    }
    if (reply === null || reply === undefined) return this.#run(msg, query, context, limit, current + 1, start);
    try {
      return this.#finish(msg, query, context, reply, limit, current, start);
    } catch (err) {
      return this.#panic(err, msg, query, context, limit, start);
    }
  }

  /** `handler`: index of the handler that wrote `reply`, -1 for the server itself; null for NO_REPLY. */
  #finish(msg: Buffer, query: Query, context: ServerContext, reply: Reply, limit: number, handler: number, start: number): Buffer | null {
    const stats = this.stats;
    if (reply === NO_REPLY) {
      stats.unanswered++;
      return null;
    }
    const out = assemble(msg, query, reply, limit, this.#maxUdpSize, this.#recordOrder, this.#nsid);
    stats.countRcode(reply.rcode);
    if (((out[2] as number) & (FLAG.TC >>> 8)) !== 0) stats.truncated++;
    const counters = this.#counters;
    const onQuery = this.#onQuery;
    const seconds = counters === null && onQuery === null ? 0 : (performance.now() - start) / 1000;
    if (counters !== null) {
      const server = context.listener ?? 0;
      const zone = counters.zoneOfWire(msg, query.questionEnd);
      counters.count(
        server,
        zone,
        context.protocol === 'udp' ? 0 : 1,
        familyIndex(context.remoteAddress),
        query.type,
        query.edns?.dnssecOk ?? false,
        msg.length,
        reply.rcode,
        handler + 1,
        out.length,
      );
      counters.observeDuration(server, zone, seconds);
    }
    if (onQuery !== null) this.#observe(onQuery, query, context, reply.rcode, handler, out, msg.length, seconds);
    return out;
  }

  #observe(
    onQuery: QueryObserver,
    query: Query,
    context: ServerContext,
    rcode: number,
    handler: number,
    reply: Buffer,
    requestSize: number,
    seconds: number,
  ): void {
    try {
      onQuery(query, context, rcode, handler < 0 ? '' : (this.#handlers[handler] as Handler).name, reply, requestSize, seconds);
    } catch {
      // Logging must never cost an answer.
    }
  }

  #panic(err: unknown, msg: Buffer, query: Query, context: ServerContext, limit: number, start: number): Buffer | null {
    this.stats.panics++;
    try {
      this.#onError?.(err);
    } catch {
      // A failing error hook must not turn one bad query into a crashed server.
    }
    return this.#finish(msg, query, context, emptyReply(RCODE.SERVFAIL), limit, -1, start);
  }
}
