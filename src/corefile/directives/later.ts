// The kubernetes-plugin features cluster-dns does not answer yet (issue 21): their directives and
// properties are read like any other, so their syntax errors are reported as usual, and then
// refused by the one table below. When a feature lands, its row is deleted.
import type { Directive } from '../parse.ts';
import { argCount, fail, flat, inZone, integerIn, lines, unknownProperty, zoneList, type Site } from './args.ts';
import type { BlockContext } from './context.ts';
import type { KubernetesSettings } from './kubernetes.ts';

export interface TransferSettings {
  readonly zones: readonly string[];
  /** `to ADDRESS|CIDR|*…`: who may transfer. */
  readonly to: readonly string[];
}

/** `transfer [ZONES…] { to ADDRESS… }`. */
export function readTransfer(d: Directive, ctx: BlockContext): TransferSettings {
  const P = 'transfer';
  const zones = d.args.length > 0 ? zoneList(d.args, d, P) : [...ctx.zones];
  const to: string[] = [];
  for (const p of lines(d)) {
    flat(p, P);
    if (p.name !== 'to') unknownProperty(p, P);
    argCount(p, P, 1, Infinity);
    to.push(...p.args);
  }
  if (to.length === 0) fail(d, P, 'needs a block with at least one "to ADDRESS" line');
  return { zones, to };
}

export interface K8sExternalSettings {
  readonly zones: readonly string[];
  /** The apex's NS name, below the zone (CoreDNS "dns"). */
  readonly apex: string;
  readonly ttl: number;
  readonly headless: boolean;
  readonly fallthrough: readonly string[] | null;
}

/** `k8s_external [ZONES…] { apex APEX; ttl TTL; headless; fallthrough [ZONES…] }`. */
export function readK8sExternal(d: Directive, ctx: BlockContext): K8sExternalSettings {
  const P = 'k8s_external';
  const zones = d.args.length > 0 ? zoneList(d.args, d, P) : [...ctx.zones];
  let apex = 'dns';
  let ttl = 5;
  let headless = false;
  let fallthrough: string[] | null = null;
  for (const p of lines(d)) {
    flat(p, P);
    switch (p.name) {
      case 'apex':
        argCount(p, P, 1, 1);
        apex = p.args[0] as string;
        break;
      case 'ttl':
        argCount(p, P, 1, 1);
        ttl = integerIn(p.args[0] as string, p, P, 'ttl', 0, 65535);
        break;
      case 'headless':
        argCount(p, P, 0, 0);
        headless = true;
        break;
      case 'fallthrough':
        fallthrough = p.args.length === 0 ? ['.'] : zoneList(p.args, p, P);
        break;
      default:
        unknownProperty(p, P);
    }
  }
  return { zones, apex, ttl, headless, fallthrough };
}

/** One feature not built yet: where an entry uses it, or null. */
export interface NotYet {
  readonly directive: string;
  readonly feature: string;
  /** What answering it needs, for the message. */
  readonly needs: string;
  readonly find: (settings: never, at: Site) => Site | null;
}

const k8s = (feature: string, needs: string, find: (k: KubernetesSettings, at: Site) => Site | null): NotYet => ({
  directive: 'kubernetes',
  feature,
  needs,
  find: find as NotYet['find'],
});
const prop = (name: string) => (k: KubernetesSettings) => k.at[name] ?? null;

/** The reverse zones the block serves whose misses cluster-dns passes on, as it does today. */
function passedOn(k: KubernetesSettings, zone: string): boolean {
  return (zone === 'in-addr.arpa' || zone === 'ip6.arpa') && k.fallthrough !== null && k.fallthrough.some((f) => inZone(zone, f));
}

/**
 * The single table of issue 21's features. cluster-dns today answers one cluster zone, PTRs of
 * cluster addresses, and passes every other reverse name on: that is the kubeadm shape
 * `kubernetes cluster.local in-addr.arpa ip6.arpa { fallthrough in-addr.arpa ip6.arpa }`, which
 * is accepted; what goes beyond it is refused here.
 */
export const NOT_YET: readonly NotYet[] = [
  k8s('labels', 'filtering Services by label', prop('labels')),
  k8s('namespace_labels', 'filtering namespaces by label', prop('namespace_labels')),
  k8s('multicluster', 'multicluster (MCS) zones', prop('multicluster')),
  k8s('several cluster zones', 'serving more than one cluster zone', (k, at) =>
    k.zones.filter((z) => !z.endsWith('.arpa')).length > 1 ? at : null,
  ),
  k8s(
    'authoritative reverse zones',
    'answering a reverse zone with its own SOA instead of passing it on (list it in fallthrough)',
    (k, at) => (k.reverseZones.some((z) => !passedOn(k, z)) ? at : null),
  ),
  { directive: 'transfer', feature: 'zone transfer', needs: 'AXFR of the cluster zone', find: (_s: never, at: Site) => at },
  {
    directive: 'k8s_external',
    feature: 'k8s_external',
    needs: 'the external zone of LoadBalancer and external IPs',
    find: (_s: never, at: Site) => at,
  },
];

/** Throws `FILE:LINE: DIRECTIVE: FEATURE is not supported yet (…)` for the first row that applies. */
export function refuseNotYet(directive: string, settings: unknown, at: Site): void {
  for (const row of NOT_YET) {
    if (row.directive !== directive) continue;
    const where = row.find(settings as never, at);
    if (where !== null)
      fail(where, directive, `${row.feature} is not supported yet (it needs ${row.needs}, which cluster-dns does not do yet)`);
  }
}
