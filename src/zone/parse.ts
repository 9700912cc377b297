// The cluster name grammar, read in one place (as CoreDNS's parseRequest reads it): what a name
// under the zone, or a reverse name, stands for, with its parts. Pure: it knows the names, not the
// index, so whether the namespace, service or pod exists is the caller's to ask. Callers that
// answer from prepared replies look those up by name first and parse only to build one.
import { ipFromDashed, ipFromReverse, reverseNetwork, reverseNetworkV6, stripUnderscore } from './names.ts';

export type Branch = 'svc' | 'pod';

export type ClusterName =
  /** Neither the zone nor a reverse name we can read (a malformed one, or too many labels). */
  | { readonly kind: 'outside' }
  /** `<zone>` */
  | { readonly kind: 'apex' }
  /** `dns-version.<zone>` (spec §2.1) */
  | { readonly kind: 'dns-version' }
  /** `dns.<zone>`: the empty non-terminal above ns.dns */
  | { readonly kind: 'dns' }
  /** `ns.dns.<zone>` */
  | { readonly kind: 'nameserver' }
  /** `svc.<zone>`, `pod.<zone>` */
  | { readonly kind: 'branch'; readonly branch: Branch }
  /** `<ns>.svc.<zone>`, `<ns>.pod.<zone>` */
  | { readonly kind: 'namespace'; readonly branch: Branch; readonly namespace: string }
  /** `<service>.<ns>.svc.<zone>` */
  | { readonly kind: 'service'; readonly namespace: string; readonly service: string }
  /**
   * `<endpoint>.<service>.<ns>.svc.<zone>`: a hostname or a dashed IP; or `_<proto>.<service>…`, the
   * name above SRV names, whose label read as a protocol (underscore stripped) is `protocol`.
   */
  | {
      readonly kind: 'endpoint';
      readonly namespace: string;
      readonly service: string;
      readonly endpoint: string;
      readonly protocol: string;
    }
  /** `_<port>._<proto>.<service>.<ns>.svc.<zone>`, underscores stripped ('' matches any) */
  | { readonly kind: 'srv'; readonly namespace: string; readonly service: string; readonly port: string; readonly protocol: string }
  /** `<dashed-ip>.<ns>.pod.<zone>`; `ip` null when the label is no address */
  | { readonly kind: 'pod'; readonly namespace: string; readonly label: string; readonly ip: string | null }
  /** A full reverse name (in-addr.arpa, ip6.arpa) */
  | { readonly kind: 'reverse'; readonly ip: string }
  /** A partial in-addr.arpa name: the first `octets` octets of `address` */
  | { readonly kind: 'reverse-network'; readonly address: number; readonly octets: number }
  /** A partial ip6.arpa name: the address prefix it stands for, 1-31 hex nibbles */
  | { readonly kind: 'reverse-network-v6'; readonly prefix: string }
  /**
   * Under the zone, but no name of the grammar: `branch` is the label next to the zone; below
   * svc and pod (a name too long), `namespace` is the label in its place, and so is `service`
   * below svc.
   */
  | { readonly kind: 'invalid'; readonly branch: string; readonly namespace: string | null; readonly service: string | null };

const OUTSIDE: ClusterName = { kind: 'outside' };
const APEX: ClusterName = { kind: 'apex' };
const DNS_VERSION: ClusterName = { kind: 'dns-version' };
const DNS: ClusterName = { kind: 'dns' };
const NAMESERVER: ClusterName = { kind: 'nameserver' };
const SVC: ClusterName = { kind: 'branch', branch: 'svc' };
const POD: ClusterName = { kind: 'branch', branch: 'pod' };

/** What `name` (lower-cased, no trailing dot) stands for in the cluster zone `zone`. */
export function parseName(name: string, zone: string): ClusterName {
  if (name === zone) return APEX;
  if (!(name.length >= zone.length + 1 && name.endsWith(zone) && name.charCodeAt(name.length - zone.length - 1) === 0x2e))
    return reverse(name);
  const labels = name.slice(0, -zone.length - 1).split('.');
  const n = labels.length;
  const branch = labels[n - 1]!;
  switch (branch) {
    case 'svc':
    case 'pod': {
      if (n === 1) return branch === 'svc' ? SVC : POD;
      const namespace = labels[n - 2]!;
      if (n === 2) return { kind: 'namespace', branch, namespace };
      const service = labels[n - 3]!;
      if (branch === 'pod') {
        if (n === 3) return { kind: 'pod', namespace, label: service, ip: ipFromDashed(service) };
      } else if (n === 3) {
        return { kind: 'service', namespace, service };
      } else if (n === 4) {
        const endpoint = labels[0]!;
        return { kind: 'endpoint', namespace, service, endpoint, protocol: stripUnderscore(endpoint) };
      } else if (n === 5) {
        return { kind: 'srv', namespace, service, port: stripUnderscore(labels[0]!), protocol: stripUnderscore(labels[1]!) };
      }
      return { kind: 'invalid', branch, namespace, service: branch === 'svc' ? service : null };
    }
    case 'dns-version':
      return n === 1 ? DNS_VERSION : invalid(branch);
    case 'dns':
      if (n === 1) return DNS;
      return n === 2 && labels[0] === 'ns' ? NAMESERVER : invalid(branch);
    default:
      return invalid(branch);
  }
}

/** The namespace a name under `<ns>.svc` or `<ns>.pod` is read from (too long ones too), or null. */
export function namespaceOf(parsed: ClusterName): string | null {
  return 'namespace' in parsed ? parsed.namespace : null;
}

/** The service a name at or below `<service>.<ns>.svc` is read from (too long ones too), or null. */
export function serviceOf(parsed: ClusterName): string | null {
  return 'service' in parsed ? parsed.service : null;
}

function invalid(branch: string): ClusterName {
  return { kind: 'invalid', branch, namespace: null, service: null };
}

function reverse(name: string): ClusterName {
  const ip = ipFromReverse(name);
  if (ip !== null) return { kind: 'reverse', ip };
  const network = reverseNetwork(name);
  if (network !== null) return { kind: 'reverse-network', address: network.address, octets: network.octets };
  const prefix = reverseNetworkV6(name);
  return prefix === null ? OUTSIDE : { kind: 'reverse-network-v6', prefix };
}
