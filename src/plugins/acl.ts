// CoreDNS's `acl` plugin: rules by query type and source network, in order. Each `acl` line
// covers its zones; the first of its policies whose types and networks match decides: `allow`
// ends the checks, `block` answers REFUSED, `filter` an empty NOERROR, `drop` nothing at all.
// A rule none of whose policies match leaves the query to the next rule, then to the chain.
import { BlockList, isIPv4 } from 'node:net';
import { RCODE } from '../dns/constants.ts';
import { emptyReply, NO_REPLY, type Handler, type Query, type Reply, type RequestContext } from '../dns/message.ts';
import { ZoneSet } from '../dns/name.ts';
import { PluginOptionError } from './errors.ts';

export type AclAction = 'allow' | 'block' | 'filter' | 'drop';

export interface AclPolicyOptions {
  readonly action: AclAction;
  /** Query type codes; none: every type. */
  readonly types: readonly number[];
  /** Source networks, CIDR or address; none: every source. */
  readonly nets: readonly string[];
}

export interface AclRuleOptions {
  /** Canonical zones ('' the root). */
  readonly zones: readonly string[];
  readonly policies: readonly AclPolicyOptions[];
}

interface Policy {
  readonly action: AclAction;
  readonly types: ReadonlySet<number> | null;
  readonly nets: BlockList | null;
}

interface Rule {
  readonly zones: ZoneSet;
  readonly policies: readonly Policy[];
}

const REFUSED = emptyReply(RCODE.REFUSED);
const FILTERED = emptyReply(RCODE.NOERROR);

function netsOf(nets: readonly string[]): BlockList | null {
  if (nets.length === 0) return null;
  const list = new BlockList();
  for (const net of nets) {
    const [address = '', bits] = net.split('/');
    const family = isIPv4(address) ? 'ipv4' : 'ipv6';
    const prefix = bits === undefined ? (family === 'ipv4' ? 32 : 128) : Number(bits);
    try {
      list.addSubnet(address, prefix, family);
    } catch {
      throw new PluginOptionError('acl', `illegal CIDR or IP address: "${net}"`);
    }
  }
  return list;
}

/** BlockList matches an IPv4-mapped IPv6 client (a dual-stack socket) against IPv4 networks too. */
function inNets(nets: BlockList, address: string): boolean {
  return nets.check(address, isIPv4(address) ? 'ipv4' : 'ipv6');
}

export class AclHandler implements Handler {
  readonly name = 'acl';
  readonly #rules: readonly Rule[];

  constructor(rules: readonly AclRuleOptions[]) {
    this.#rules = rules.map((r) => ({
      zones: new ZoneSet(r.zones),
      policies: r.policies.map((p) => ({ action: p.action, types: p.types.length === 0 ? null : new Set(p.types), nets: netsOf(p.nets) })),
    }));
  }

  /** The action that decides `query` from `address`, or null when no policy matches. */
  decide(query: Query, address: string): AclAction | null {
    for (const rule of this.#rules) {
      if (!rule.zones.has(query.name)) continue;
      for (const p of rule.policies) {
        if (p.types !== null && !p.types.has(query.type)) continue;
        if (p.nets !== null && !inNets(p.nets, address)) continue;
        return p.action;
      }
    }
    return null;
  }

  serve(query: Query, context: RequestContext): Reply | null {
    switch (this.decide(query, context.remoteAddress)) {
      case 'block':
        return REFUSED;
      case 'filter':
        return FILTERED;
      case 'drop':
        return NO_REPLY;
      default:
        return null;
    }
  }
}
