// The cluster zone's options: its name, the TTL of its answers, the pod records.
import { ConfigError, integerIn, oneOf, optionTable, switchOption, type OptionValues } from '../base/options.ts';
import { POD_MODES } from './kubernetes.ts';

/** A cluster domain: lower-case, no trailing dot, valid labels. */
function zoneName(text: string, name: string): string {
  const zone = text.toLowerCase().replace(/\.$/, '');
  const label = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
  if (zone === '' || zone.length > 253 || !zone.split('.').every((l) => label.test(l))) {
    throw new ConfigError(name, `"${text}" is not a domain name (e.g. cluster.local)`);
  }
  return zone;
}

/** `shop` or `shop,data`: namespace names (DNS labels), lower-cased. */
function namespaceNames(text: string, name: string): readonly string[] {
  const names = text.split(',').map((n) => n.trim().toLowerCase());
  const label = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
  for (const n of names) if (!label.test(n)) throw new ConfigError(name, `"${n}" is not a namespace name`);
  return names;
}

export const ZONE_OPTIONS = optionTable({
  zone: {
    flag: 'zone',
    group: 'dns',
    arg: 'NAME',
    default: 'cluster.local',
    parse: zoneName,
    help: 'cluster domain',
    doc: 'the cluster domain',
  },
  ttl: {
    flag: 'ttl',
    group: 'dns',
    arg: 'SECONDS',
    default: '5',
    parse: integerIn(0, 3600),
    help: 'TTL of cluster answers, 0-3600',
    doc: "TTL of cluster answers (CoreDNS's default); `dns-version` uses 28800",
  },
  pods: {
    flag: 'pods',
    group: 'dns',
    arg: 'MODE',
    default: 'verified',
    parse: oneOf(POD_MODES),
    help: 'disabled | insecure | verified: a-b-c-d.<ns>.pod.<zone> records',
    doc: '`a-b-c-d.<ns>.pod.<zone>`: `disabled` (NXDOMAIN), `insecure` (any IP, no check: anyone can mint a name for any address), `verified` (only an IP a pod of that namespace has)',
  },
  endpointPodNames: switchOption({
    flag: 'endpoint-pod-names',
    group: 'dns',
    help: "name an endpoint without a hostname by its pod's name (CoreDNS: endpoint_pod_names)",
    doc: "an endpoint without a hostname is named by its pod (the EndpointSlice's `targetRef`) instead of its dashed IP, as CoreDNS's `endpoint_pod_names`; a pod name that is not one DNS label keeps the dashed IP",
  }),
  fallthrough: {
    flag: 'fallthrough',
    group: 'dns',
    arg: 'ZONE',
    repeatable: true,
    default: { value: [] as readonly string[], text: '', doc: 'none' },
    parse: (text: string, name: string): readonly string[] => [text === '.' ? '.' : zoneName(text, name)],
    help: 'an NXDOMAIN for a name in ZONE ("." for all) goes on upstream instead of being answered; repeatable (CoreDNS: fallthrough)',
    doc: "an NXDOMAIN of the cluster zone for a name in ZONE (`.`: every name) is not answered but passed on to the cache and upstream, as CoreDNS's `fallthrough [ZONES…]`; repeatable",
  },
  namespaces: {
    flag: 'namespaces',
    group: 'dns',
    arg: 'NAME',
    repeatable: true,
    default: { value: [] as readonly string[], text: '', doc: 'all' },
    parse: namespaceNames,
    help: 'expose only this namespace (repeatable, or NS,NS); others are NXDOMAIN, PTRs too (CoreDNS: namespaces)',
    doc: "expose only these namespaces, as CoreDNS's `namespaces`: names and PTRs of the others are NXDOMAIN and the index never holds their objects; with one, the API is asked for that namespace alone (a field selector)",
  },
  noEndpoints: switchOption({
    flag: 'no-endpoints',
    group: 'dns',
    help: 'no endpoint records, and no EndpointSlice watch (CoreDNS: noendpoints)',
    doc: "no endpoint records and no EndpointSlice list or watch, as CoreDNS's `noendpoints`: ClusterIP Services answer as before; headless ones, endpoint names and their PTRs are NXDOMAIN",
  }),
  ignoreEmptyService: switchOption({
    flag: 'ignore-empty-service',
    group: 'dns',
    help: 'NXDOMAIN for a ClusterIP Service without ready endpoints (CoreDNS: ignore empty_service)',
    doc: "NXDOMAIN for a ClusterIP Service's names while it has no ready endpoints, as CoreDNS's `ignore empty_service`; its PTR stays",
  }),
});

export type ZoneOptions = OptionValues<typeof ZONE_OPTIONS>;
