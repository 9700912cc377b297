// --autopath: a pod with `search <ns>.svc.<zone> svc.<zone> <zone>` and `ndots:5` asks for
// `api.example.com` as `api.example.com.<ns>.svc.<zone>` first, then walks the rest of its search
// list: 3-4 wasted round trips, twice for A and AAAA. When the first expansion arrives from an IP
// the index knows as a pod of that namespace, the whole search list is resolved here and the
// answer is a CNAME from the asked name to the first name that exists, with that name's records:
// one round trip (CoreDNS's autopath). After <ns>.svc, svc and zone come the node's search domains
// (a pod inherits them from the kubelet), then the name itself. The trade-off: answers depend on
// who asks (a pod of another namespace asking the same name gets the plain NXDOMAIN), and the pod
// index must be on.
import { unmappedIPv4 } from '../base/address.ts';
import type { ClusterIndex } from '../index/index.ts';
import { CLASS, FLAG, RCODE, TYPE } from '../dns/constants.ts';
import type { Query, Reply, RequestContext, Handler } from '../dns/message.ts';
import { encodeReply, type ResourceRecord, type WireRecord } from '../dns/writer.ts';
import { appendUpstream, chaseUpstream, type SectionsHandler } from './chase.ts';
import type { Forwarder } from './forward.ts';
import { namespaceOf, parseName, serviceOf } from '../zone/parse.ts';

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

  constructor(options: AutopathOptions) {
    this.#o = options;
    this.#suffix = `.svc.${options.zoneName}`;
  }

  serve(query: Query, context: RequestContext): Reply | null | Promise<Reply | null> {
    const name = query.name;
    if (!name.endsWith(this.#suffix) || query.type === TYPE.ANY) return null;
    // Something asked below `<ns>.svc.<zone>` (where a service would be, or deeper).
    const parsed = parseName(name, this.#o.zoneName);
    const namespace = serviceOf(parsed) === null ? null : namespaceOf(parsed);
    if (namespace === null) return null;
    // What the pod asked, before the first search domain (`<ns>.svc.<zone>`) was appended.
    const base = name.slice(0, name.length - this.#suffix.length - namespace.length - 1);
    // Only the first search domain, and only for a pod of that namespace: that is what says the
    // rest of the search list is <ns>.svc, svc, zone.
    if (!this.#o.index.hasPodIP(namespace, unmappedIPv4(context.remoteAddress))) return null;
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
        const lead = [cname, ...found.answer];
        const chased = chaseUpstream(forwarder, query, client, found.chase, () => lead);
        return chased instanceof Promise ? chased.then((r) => r ?? chain) : (chased ?? chain);
      }
      if (!forwarder?.enabled) return null;
      const dnssecOk = query.edns?.dnssecOk ?? false;
      const reply = forwarder.resolve(
        { name: candidate, type: query.type, class: CLASS.IN, dnssecOk, checkingDisabled: (query.flags & FLAG.CD) !== 0 },
        client,
      );
      if (reply instanceof Promise) {
        return reply.then((r) =>
          r.rcode === RCODE.NXDOMAIN ? this.#walk(query, client, candidates, i + 1) : this.#fromUpstream(query.name, candidate, r),
        );
      }
      if (reply.rcode !== RCODE.NXDOMAIN) return this.#fromUpstream(query.name, candidate, reply);
    }
    // Nothing anywhere on the search list: the zone's own NXDOMAIN, as without autopath.
    return null;
  }

  #fromUpstream(name: string, target: string, reply: Reply): Reply | null {
    // SERVFAIL, REFUSED: not an answer to hand out under a CNAME; the client asks again itself.
    if (reply.rcode !== RCODE.NOERROR) return null;
    const cname: WireRecord = { name, type: TYPE.CNAME, ttl: this.#o.ttl, target };
    return appendUpstream(name, [cname], target, reply);
  }
}
