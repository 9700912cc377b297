// `kubernetes [ZONES…] { … }` as CoreDNS's plugin/kubernetes setup reads it, with its defaults
// (a Corefile's block follows CoreDNS's defaults, not cluster-dns's flags: pods disabled, ttl 5).
import type { Directive } from '../parse.ts';
import { argCount, duration, fail, flat, integerIn, isReverseZone, lines, siteOf, unknownProperty, zoneList, type Site } from './args.ts';
import type { BlockContext } from './context.ts';

export type KubernetesPodMode = 'disabled' | 'insecure' | 'verified';

export interface KubernetesSettings {
  /** Every zone the block is authoritative for, in order, duplicates dropped. */
  readonly zones: readonly string[];
  /** The first zone that is not a reverse zone (CoreDNS requires one). */
  readonly primaryZone: string;
  readonly reverseZones: readonly string[];
  readonly pods: KubernetesPodMode;
  /** Seconds, 0-3600. */
  readonly ttl: number;
  /** `endpoint URL`: the API server; null for in-cluster (or the kubeconfig's). */
  readonly endpoint: string | null;
  readonly tls: { readonly cert: string; readonly key: string; readonly ca: string } | null;
  readonly kubeconfig: { readonly path: string; readonly context: string | null } | null;
  /** How long start-up waits for the first sync (CoreDNS 5 s). */
  readonly startupTimeoutMs: number;
  /** Zones whose NXDOMAIN goes on to the next plugin; ["."] all; null none. */
  readonly fallthrough: readonly string[] | null;
  readonly namespaces: readonly string[];
  readonly labels: string | null;
  readonly namespaceLabels: string | null;
  readonly endpointPodNames: boolean;
  readonly noEndpoints: boolean;
  readonly ignoreEmptyService: boolean;
  readonly multicluster: readonly string[];
  /** Where each property was written (its first line), for the messages about it. */
  readonly at: Readonly<Record<string, Site>>;
}

const POD_MODES: readonly KubernetesPodMode[] = ['disabled', 'insecure', 'verified'];
const P = 'kubernetes';

/** Properties CoreDNS removed: named with what to do rather than "unknown property". */
const REMOVED: Readonly<Record<string, string>> = {
  upstream: 'was removed in CoreDNS 1.7 (external CNAME targets are resolved without it); delete the line',
  resyncperiod: 'was removed in CoreDNS 1.7 (watches need no resync); delete the line',
  transfer: 'moved to the transfer plugin in CoreDNS 1.7; write `transfer { to … }` in the server block',
};

export function readKubernetes(d: Directive, ctx: BlockContext): KubernetesSettings {
  const zones = d.args.length > 0 ? zoneList(d.args, d, P) : [...ctx.zones];
  const primaryZone = zones.find((z) => !isReverseZone(z));
  if (primaryZone === undefined) fail(d, P, 'non-reverse zone name must be used (every zone given is a reverse zone)');
  const at: Record<string, Site> = {};
  let pods: KubernetesPodMode = 'disabled';
  let ttl = 5;
  let endpoint: string | null = null;
  let tls: KubernetesSettings['tls'] = null;
  let kubeconfig: KubernetesSettings['kubeconfig'] = null;
  let startupTimeoutMs = 5000;
  let fallthrough: string[] | null = null;
  const namespaces: string[] = [];
  let labels: string | null = null;
  let namespaceLabels: string | null = null;
  let endpointPodNames = false;
  let noEndpoints = false;
  let ignoreEmptyService = false;
  const multicluster: string[] = [];

  for (const p of lines(d)) {
    flat(p, P);
    at[p.name] ??= siteOf(p);
    const a = p.args;
    switch (p.name) {
      case 'pods':
        argCount(p, P, 1, 1);
        if (!POD_MODES.includes(a[0] as KubernetesPodMode))
          fail(p, P, `wrong value for pods: ${a[0]}, must be one of: disabled, verified, insecure`);
        pods = a[0] as KubernetesPodMode;
        break;
      case 'ttl':
        argCount(p, P, 1, 1);
        ttl = integerIn(a[0] as string, p, P, 'ttl', 0, 3600);
        break;
      case 'endpoint':
        argCount(p, P, 1, Infinity);
        endpoint = a[0] as string;
        if (!/^https?:\/\/[^/\s]+/.test(endpoint)) fail(p, P, `endpoint "${endpoint}" is not an http(s) URL`);
        if (a.length > 1) ctx.warn(p, `kubernetes: several endpoints are deprecated; only the first (${endpoint}) is used`);
        break;
      case 'tls':
        argCount(p, P, 3, 3);
        tls = { cert: a[0] as string, key: a[1] as string, ca: a[2] as string };
        break;
      case 'kubeconfig':
        argCount(p, P, 1, 2);
        kubeconfig = { path: a[0] as string, context: a[1] ?? null };
        break;
      case 'startup_timeout':
        argCount(p, P, 1, 1);
        startupTimeoutMs = duration(a[0] as string, p, P, 'startup_timeout');
        break;
      case 'fallthrough':
        fallthrough = a.length === 0 ? ['.'] : zoneList(a, p, P);
        break;
      case 'namespaces':
        argCount(p, P, 1, Infinity);
        for (const ns of a) if (!namespaces.includes(ns)) namespaces.push(ns);
        break;
      case 'labels':
        argCount(p, P, 1, Infinity);
        labels = a.join(' ');
        break;
      case 'namespace_labels':
        argCount(p, P, 1, Infinity);
        namespaceLabels = a.join(' ');
        break;
      case 'endpoint_pod_names':
        argCount(p, P, 0, 0);
        endpointPodNames = true;
        break;
      case 'noendpoints':
        argCount(p, P, 0, 0);
        noEndpoints = true;
        break;
      case 'ignore':
        argCount(p, P, 1, 1);
        if (a[0] !== 'empty_service') fail(p, P, `unable to parse ignore value: "${a[0]}" (only empty_service)`);
        ignoreEmptyService = true;
        break;
      case 'multicluster':
        argCount(p, P, 1, Infinity);
        multicluster.push(...zoneList(a, p, P));
        break;
      default: {
        const removed = REMOVED[p.name];
        if (removed !== undefined) fail(p, P, `property "${p.name}" ${removed}`);
        unknownProperty(p, P);
      }
    }
  }
  if (namespaces.length > 0 && namespaceLabels !== null)
    fail(at.namespace_labels as Site, P, 'namespaces and namespace_labels cannot both be set');

  return {
    zones,
    primaryZone,
    reverseZones: zones.filter(isReverseZone),
    pods,
    ttl,
    endpoint,
    tls,
    kubeconfig,
    startupTimeoutMs,
    fallthrough,
    namespaces,
    labels,
    namespaceLabels,
    endpointPodNames,
    noEndpoints,
    ignoreEmptyService,
    multicluster,
    at,
  };
}
