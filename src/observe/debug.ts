// GET /debug/resolve?name=&type= on --debug-endpoints (opt-in, loopback only): the cluster zone's
// answer for a question, in presentation form, with the index objects it came from. For "why does
// this name answer that?" without reading the API server and the spec side by side. The objects
// say more than DNS does (the Pod behind an IP under --pods disabled, the Pod and EndpointSlice
// behind an NXDOMAIN), hence no listener but loopback. Reads only; off the DNS path.
import type { ClusterIndex } from '../index/index.ts';
import { rcodeName, TYPE, typeName } from '../dns/constants.ts';
import type { ResourceRecord } from '../dns/writer.ts';
import type { KubernetesZone } from '../zone/kubernetes.ts';
import { namespaceOf, parseName, serviceOf } from '../zone/parse.ts';
import type { Route } from './health.ts';
import { ClusterDnsError } from '../base/errors.ts';

export interface ObjectRef {
  readonly kind: 'Namespace' | 'Service' | 'EndpointSlice' | 'Pod';
  readonly namespace?: string;
  readonly name?: string;
  /** For pods the index keeps by address only. */
  readonly ip?: string;
}

export interface Resolution {
  readonly name: string;
  readonly type: string;
  /** Null when the name is not the cluster zone's (it would be forwarded). */
  readonly rcode: string | null;
  readonly authoritative: boolean;
  readonly answer: readonly string[];
  readonly authority: readonly string[];
  readonly additional: readonly string[];
  readonly objects: readonly ObjectRef[];
  readonly indexVersion: number;
  readonly synced: boolean;
}

export class DebugInputError extends ClusterDnsError {
  override name = 'DebugInputError';
  readonly code = 'CDNS_ERR_DEBUG_INPUT';
}

const TYPE_BY_NAME = new Map<string, number>(Object.entries(TYPE));

function parseType(text: string): number {
  const upper = text.toUpperCase();
  const byName = TYPE_BY_NAME.get(upper);
  if (byName !== undefined) return byName;
  const m = /^TYPE(\d{1,5})$/.exec(upper);
  if (m && Number(m[1]) <= 65535) return Number(m[1]);
  throw new DebugInputError(`unknown type "${text}"`);
}

function fqdn(name: string): string {
  return name === '' ? '.' : `${name}.`;
}

export function presentRecord(rr: ResourceRecord): string {
  const head = `${fqdn(rr.name)} ${rr.ttl} IN ${typeName(rr.type)}`;
  switch (rr.type) {
    case TYPE.A:
    case TYPE.AAAA:
      return `${head} ${rr.address}`;
    case TYPE.CNAME:
    case TYPE.PTR:
    case TYPE.NS:
      return `${head} ${fqdn(rr.target)}`;
    case TYPE.SRV:
      return `${head} ${rr.priority} ${rr.weight} ${rr.port} ${fqdn(rr.target)}`;
    case TYPE.TXT:
      return `${head} ${rr.text.map((t) => JSON.stringify(t)).join(' ')}`;
    case TYPE.HINFO:
      return `${head} ${JSON.stringify(rr.cpu)} ${JSON.stringify(rr.os)}`;
    case TYPE.SOA:
      return `${head} ${fqdn(rr.mname)} ${fqdn(rr.rname)} ${rr.serial} ${rr.refresh} ${rr.retry} ${rr.expire} ${rr.minimum}`;
    case TYPE.MX:
      return `${head} ${rr.preference} ${fqdn(rr.exchange)}`;
  }
}

/** The index objects behind a cluster-zone or reverse name. */
function objectsFor(index: ClusterIndex, zone: string, name: string): ObjectRef[] {
  const out: ObjectRef[] = [];
  const add = (ref: ObjectRef) => {
    if (!out.some((o) => o.kind === ref.kind && o.namespace === ref.namespace && o.name === ref.name && o.ip === ref.ip)) out.push(ref);
  };
  const parsed = parseName(name, zone);
  if (parsed.kind === 'reverse') {
    for (const s of index.servicesByClusterIP(parsed.ip)) add({ kind: 'Service', namespace: s.namespace, name: s.name });
    for (const slice of index.slicesByAddress(parsed.ip)) add({ kind: 'EndpointSlice', namespace: slice.namespace, name: slice.name });
    return out;
  }
  // Names too long for the grammar show what their labels would have been read from.
  const namespace = namespaceOf(parsed);
  if (namespace === null) return out;
  if (index.hasNamespace(namespace)) add({ kind: 'Namespace', name: namespace });
  if (parsed.kind === 'pod') {
    if (parsed.ip !== null && index.hasPodIP(namespace, parsed.ip)) add({ kind: 'Pod', namespace, ip: parsed.ip });
    return out;
  }
  const service = serviceOf(parsed);
  if (service === null) return out;
  const svc = index.service(namespace, service);
  if (svc) add({ kind: 'Service', namespace, name: svc.name });
  // An endpoint or hostname label (`host.svc.ns.svc.zone`), or the SRV forms: the slices and
  // pods that can answer for the service.
  for (const slice of index.slicesOf(namespace, service)) add({ kind: 'EndpointSlice', namespace, name: slice.name });
  if (parsed.kind === 'endpoint') {
    for (const p of index.podsBySubdomain(namespace, service))
      if (p.hostname === parsed.endpoint) add({ kind: 'Pod', namespace, name: p.name });
  }
  return out;
}

export function resolveForDebug(
  zone: KubernetesZone,
  index: ClusterIndex,
  zoneName: string,
  nameText: string,
  typeText: string,
): Resolution {
  const name = nameText.trim().toLowerCase().replace(/\.$/, '');
  if (name === '' || name.length > 253) throw new DebugInputError('name must be a domain name of at most 253 characters');
  const type = parseType(typeText || 'A');
  const sections = zone.sections(name, type);
  return {
    name: fqdn(name),
    type: typeName(type),
    rcode: sections ? rcodeName(sections.rcode) : null,
    authoritative: sections?.authoritative ?? false,
    answer: sections?.answer.map(presentRecord) ?? [],
    authority: sections?.authority.map(presentRecord) ?? [],
    additional: sections?.additional.map(presentRecord) ?? [],
    objects: sections ? objectsFor(index, zoneName, name) : [],
    indexVersion: index.version,
    synced: index.synced,
  };
}

/** `zone`: the running zone, or how to get it (a Corefile reload may replace it). */
export function debugRoutes(zone: KubernetesZone | (() => KubernetesZone), index: ClusterIndex, zoneName: string): Record<string, Route> {
  const current = typeof zone === 'function' ? zone : () => zone;
  return {
    '/debug/resolve': (url) => {
      try {
        const result = resolveForDebug(current(), index, zoneName, url.searchParams.get('name') ?? '', url.searchParams.get('type') ?? 'A');
        return { status: 200, body: `${JSON.stringify(result, null, 2)}\n`, contentType: 'application/json' };
      } catch (err) {
        if (!(err instanceof DebugInputError)) throw err;
        return { status: 400, body: `${JSON.stringify({ error: err.message })}\n`, contentType: 'application/json' };
      }
    },
  };
}
