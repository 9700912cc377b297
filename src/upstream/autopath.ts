// --autopath: a pod with `search <ns>.svc.<zone> svc.<zone> <zone>` and `ndots:5` asks for
// `api.example.com` as `api.example.com.<ns>.svc.<zone>` first, then walks the rest of its search
// list: 3-4 wasted round trips, twice for A and AAAA. When the first expansion arrives from an IP
// the index knows as a pod of that namespace, the whole search list is resolved here and the
// answer is a CNAME from the asked name to the first name that exists, with that name's records:
// one round trip (CoreDNS's autopath). After <ns>.svc, svc and zone come the node's search domains
// (a pod inherits them from the kubelet), then the name itself. The trade-off: answers depend on
// who asks (a pod of another namespace asking the same name gets the plain NXDOMAIN), and the pod
// index must be on.
import type { ClusterIndex } from '../index/index.ts';
import { CLASS, FLAG, RCODE, TYPE } from '../dns/constants.ts';
import type { Query, Reply, RequestContext, Handler } from '../dns/message.ts';
import { encodeReply, type ResourceRecord, type WireRecord } from '../dns/writer.ts';
import { encodeRecords, recordsOf, type Forwarder, type SectionsHandler } from './forward.ts';

export interface AutopathOptions {
  readonly index: ClusterIndex;
  readonly zone: SectionsHandler;
  readonly zoneName: string;
  readonly forwarder: Forwarder | null;
  readonly ttl: number;
  /** The node's search domains (from --resolv-conf), tried after the cluster's, before the bare name. */
  readonly search?: readonly string[];
}

export class Autopath implements Handler {
  readonly name = 'autopath';
  readonly #o: AutopathOptions;
  readonly #suffix: string;
  readonly #dotZone: string;

  constructor(options: AutopathOptions) {
    this.#o = options;
    this.#suffix = `.svc.${options.zoneName}`;
    this.#dotZone = `.${options.zoneName}`;
  }

  serve(query: Query, context: RequestContext): Reply | null | Promise<Reply | null> {
    const name = query.name;
    if (!name.endsWith(this.#suffix) || query.type === TYPE.ANY) return null;
    const rest = name.slice(0, -this.#suffix.length);
    const dot = rest.lastIndexOf('.');
    if (dot <= 0) return null;
    const namespace = rest.slice(dot + 1);
    const base = rest.slice(0, dot);
    // Only the first search domain, and only for a pod of that namespace: that is what says the
    // rest of the search list is <ns>.svc, svc, zone.
    if (!this.#o.index.hasPodIP(namespace, podAddress(context.remoteAddress))) return null;
    // The asked name as it is (from the zone's prepared answers): when it exists, that is the answer.
    const own = this.#o.zone.serve(query, context);
    if (own === null || own instanceof Promise || own.rcode !== RCODE.NXDOMAIN) return own;
    const zone = this.#o.zoneName;
    const candidates = [`${base}.svc.${zone}`, `${base}.${zone}`, ...(this.#o.search ?? []).map((d) => `${base}.${d}`), base];
    return this.#walk(query, context.remoteAddress, candidates, 0);
  }

  /**
   * The first candidate that exists, as a CNAME from the asked name; null (the zone's own
   * NXDOMAIN) when none does or an upstream fails, so the client walks its list as usual.
   * Synchronous while the answers are (the zone, cache hits); async from the first upstream wait.
   */
  #walk(query: Query, client: string, candidates: readonly string[], from: number): Reply | null | Promise<Reply | null> {
    const forwarder = this.#o.forwarder;
    for (let i = from; i < candidates.length; i++) {
      const candidate = candidates[i]!;
      // The cluster's names (and its reverse names) from the index; null means not the zone's.
      const found = this.#o.zone.sections(candidate, query.type);
      if (found !== null) {
        if (found.rcode === RCODE.NXDOMAIN || found.rcode === RCODE.SERVFAIL) continue;
        // All of it is the zone's own data (the CNAME is ours too): authoritative, as the zone's answers are.
        const cname: ResourceRecord = { name: query.name, type: TYPE.CNAME, ttl: this.#o.ttl, target: candidate };
        const chain = encodeReply(query.name, {
          rcode: found.rcode,
          authoritative: true,
          answer: [cname, ...found.answer],
          authority: found.authority,
          additional: found.additional,
        });
        if (found.chase === undefined || !forwarder?.enabled) return chain;
        // An ExternalName leaving the zone: its target's records from upstream, as the chaser does.
        const target = found.chase;
        const upstream = forwarder.resolve(target, query.type, CLASS.IN, query.edns?.dnssecOk ?? false, false, client);
        const append = (r: Reply) => this.#appendUpstream(query.name, candidate, [...found.answer], target, query.type, r) ?? chain;
        return upstream instanceof Promise ? upstream.then(append) : append(upstream);
      }
      if (!forwarder?.enabled) return null;
      const reply = forwarder.resolve(candidate, query.type, CLASS.IN, query.edns?.dnssecOk ?? false, (query.flags & FLAG.CD) !== 0, client);
      if (reply instanceof Promise) {
        return reply.then((r) => (r.rcode === RCODE.NXDOMAIN ? this.#walk(query, client, candidates, i + 1) : this.#fromUpstream(query.name, candidate, query.type, r)));
      }
      if (reply.rcode !== RCODE.NXDOMAIN) return this.#fromUpstream(query.name, candidate, query.type, reply);
    }
    // Nothing anywhere on the search list: the zone's own NXDOMAIN, as without autopath.
    return null;
  }

  /** CNAME asked → `candidate`, the zone's chain from there, the upstream's records for `target`; null when unusable. */
  #appendUpstream(name: string, candidate: string, zoneAnswer: WireRecord[], target: string, type: number, reply: Reply): Reply | null {
    if (reply.rcode !== RCODE.NOERROR && reply.rcode !== RCODE.NXDOMAIN) return null;
    let records: ReturnType<typeof recordsOf>;
    try {
      records = recordsOf(target, type, reply);
    } catch {
      return null;
    }
    const cname: WireRecord = { name, type: TYPE.CNAME, ttl: this.#o.ttl, target: candidate };
    return encodeRecords(name, reply.rcode, [cname, ...zoneAnswer, ...records.answer], records.authority, [], false);
  }

  #fromUpstream(name: string, target: string, type: number, reply: Reply): Reply | null {
    // SERVFAIL, REFUSED: not an answer to hand out under a CNAME; the client asks again itself.
    if (reply.rcode !== RCODE.NOERROR) return null;
    let records: ReturnType<typeof recordsOf>;
    try {
      records = recordsOf(target, type, reply);
    } catch {
      return null;
    }
    return this.#cname(name, target, RCODE.NOERROR, records.answer, records.authority, []);
  }

  #cname(name: string, target: string, rcode: number, answer: WireRecord[], authority: WireRecord[], additional: WireRecord[]): Reply {
    const cname: WireRecord = { name, type: TYPE.CNAME, ttl: this.#o.ttl, target };
    return encodeRecords(name, rcode, [cname, ...answer], authority, additional, false);
  }
}

/** A dual-stack listener (`[::]:53`) sees IPv4 clients as `::ffff:a.b.c.d`; pods are indexed by `a.b.c.d`. */
function podAddress(remote: string): string {
  return remote.startsWith('::ffff:') && remote.includes('.') ? remote.slice(7) : remote;
}
