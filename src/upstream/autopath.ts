// --autopath: a pod with `search <ns>.svc.<zone> svc.<zone> <zone>` and `ndots:5` asks for
// `api.example.com` as `api.example.com.<ns>.svc.<zone>` first, then walks the rest of its search
// list: 3-4 wasted round trips, twice for A and AAAA. When the first expansion arrives from an IP
// the index knows as a pod of that namespace, the whole search list is resolved here and the
// answer is a CNAME from the asked name to the first name that exists, with that name's records:
// one round trip (CoreDNS's autopath). The trade-off: answers depend on who asks (a pod of
// another namespace asking the same name gets the plain NXDOMAIN), and the pod index must be on.
import type { ClusterIndex } from '../cluster/index.ts';
import { CLASS, FLAG, RCODE, TYPE } from '../dns/constants.ts';
import type { Query, Reply, RequestContext, Handler } from '../dns/message.ts';
import type { WireRecord } from '../dns/writer.ts';
import { encodeRecords, recordsOf, type Forwarder, type SectionsHandler } from './forward.ts';

export interface AutopathOptions {
  readonly index: ClusterIndex;
  readonly zone: SectionsHandler;
  readonly zoneName: string;
  readonly forwarder: Forwarder | null;
  readonly ttl: number;
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
    const rest = name.slice(0, -this.#suffix.length);
    const dot = rest.lastIndexOf('.');
    if (dot <= 0) return null;
    const namespace = rest.slice(dot + 1);
    const base = rest.slice(0, dot);
    // Only the first search domain, and only for a pod of that namespace: that is what says the
    // rest of the search list is <ns>.svc, svc, zone.
    if (!this.#o.index.hasPodIP(namespace, context.remoteAddress)) return null;
    // The asked name as it is (from the zone's prepared answers): when it exists, that is the answer.
    const own = this.#o.zone.serve(query, context);
    if (own === null || own instanceof Promise || own.rcode !== RCODE.NXDOMAIN) return own;
    for (const candidate of [`${base}.svc.${this.#o.zoneName}`, `${base}.${this.#o.zoneName}`]) {
      const found = this.#o.zone.sections(candidate, query.type);
      if (found !== null && found.rcode !== RCODE.NXDOMAIN && found.rcode !== RCODE.SERVFAIL) {
        return this.#cname(name, candidate, found.rcode, [...found.answer], [...found.authority], [...found.additional]);
      }
    }
    const forwarder = this.#o.forwarder;
    if (!forwarder?.enabled) return null;
    const upstream = forwarder.resolve(base, query.type, CLASS.IN, query.edns?.dnssecOk ?? false, (query.flags & FLAG.CD) !== 0);
    if (upstream instanceof Promise) return upstream.then((reply) => this.#fromUpstream(name, base, query.type, reply));
    return this.#fromUpstream(name, base, query.type, upstream);
  }

  #fromUpstream(name: string, base: string, type: number, reply: Reply): Reply | null {
    // Nothing anywhere on the search list: the zone's own NXDOMAIN, as without autopath.
    if (reply.rcode !== RCODE.NOERROR) return null;
    let records: ReturnType<typeof recordsOf>;
    try {
      records = recordsOf(base, type, reply);
    } catch {
      return null;
    }
    return this.#cname(name, base, RCODE.NOERROR, records.answer, records.authority, []);
  }

  #cname(name: string, target: string, rcode: number, answer: WireRecord[], authority: WireRecord[], additional: WireRecord[]): Reply {
    const cname: WireRecord = { name, type: TYPE.CNAME, ttl: this.#o.ttl, target };
    return encodeRecords(name, rcode, [cname, ...answer], authority, additional, false);
  }
}
