// The two shapes every layer agrees on: what a query is once its header and question have been
// read (`Query`), and what a handler hands back (`Reply`): the sections after the question,
// already encoded, independent of the query's ID, flags, case and EDNS. The server adds those.

export interface Edns {
  /** The requester's UDP payload size, never below 512. */
  readonly udpSize: number;
  readonly version: number;
  /** The DO bit (DNSSEC OK). */
  readonly dnssecOk: boolean;
  /** The request carries an NSID option (RFC 5001): the reply may name the server. */
  readonly nsid: boolean;
}

export interface Query {
  readonly id: number;
  /** The raw flags word of the request (opcode, RD, CD, …). */
  readonly flags: number;
  /**
   * Lower-cased name, labels joined by '.', no trailing dot ('' for the root). Bytes that are not
   * letters, digits, '-', '_' or '*' are written as \DDD (a '.' inside a label too), so such a
   * name never matches a cluster name by accident.
   */
  readonly name: string;
  readonly type: number;
  readonly class: number;
  /** Offset just past the question in the request: bytes 12..questionEnd are echoed verbatim. */
  readonly questionEnd: number;
  readonly edns: Edns | null;
}

export interface Reply {
  /** RCODE; values above 15 travel partly in the OPT record (BADVERS). */
  readonly rcode: number;
  /** Set AA: the answer comes from our own zone data. */
  readonly authoritative: boolean;
  /** Set RA: the answer came through recursion (forwarded upstream, or from their cache). */
  readonly recursionAvailable?: boolean;
  /**
   * The zone's CNAME chain ends at this name outside the cluster zone (an ExternalName): the
   * forwarder may resolve it and append what it finds.
   */
  readonly chase?: string;
  readonly ancount: number;
  readonly nscount: number;
  readonly arcount: number;
  /**
   * Answer, authority and additional sections, encoded as if the question's name sat at offset
   * 12, so compression pointers into the question stay valid whatever case the client used.
   */
  readonly body: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/**
 * The reply that is no reply: the server sends nothing (acl's `drop`). Compared by identity;
 * its fields are never read.
 */
export const NO_REPLY: Reply = Object.freeze({
  rcode: 5,
  authoritative: false,
  ancount: 0,
  nscount: 0,
  arcount: 0,
  body: new Uint8Array(0),
});

/** A reply with no records: REFUSED, SERVFAIL, NOTIMP, FORMERR. */
export function emptyReply(rcode: number, authoritative = false): Reply {
  return { rcode, authoritative, ancount: 0, nscount: 0, arcount: 0, body: EMPTY };
}

export interface RequestContext {
  readonly protocol: 'udp' | 'tcp';
  /**
   * The client's address (for pod-aware features such as autopath, and each client's fair share
   * of upstream questions). The transports pass a string they already have: the batch path's
   * cached text per IPv4 sender, node:dgram's rinfo, a TCP connection's peer; nothing is built
   * for it per query.
   */
  readonly remoteAddress: string;
  /** The client's port (the query log's `{port}`, whoami's SRV); absent where a caller has none. */
  readonly remotePort?: number;
}

/**
 * One link of the handler chain. Returns the reply, or null to pass the query on (CoreDNS's
 * fallthrough). Synchronous replies stay on the hot path; a Promise is for upstream work.
 */
export interface Handler {
  readonly name: string;
  serve(query: Query, context: RequestContext): Reply | null | Promise<Reply | null>;
}

/**
 * Changes the order of a reply's records while the server copies them into the message
 * (CoreDNS's loadbalance), so prepared bytes are never re-encoded: `permute` gets the message
 * with the first `copied` octets of `reply.body` at `at` and may swap whole records among them.
 */
export interface RecordOrder {
  permute(out: Buffer, at: number, reply: Reply, copied: number): void;
}
