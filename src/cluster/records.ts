// Slim records: the only parts of Kubernetes objects that DNS answers depend on. API objects are
// converted here, at the edge, and dropped at once (a Pod costs ~3.9 KB of heap as an API object,
// ~0.2 KB as a PodRecord). Don't add fields lightly: every one is multiplied by 150k pods.
import { isIP } from 'node:net';

export type ServiceKind = 'ClusterIP' | 'Headless' | 'ExternalName';

export interface PortRecord {
  /** Lower-cased port name; '' for an unnamed port (no `_port._proto` SRV for it). */
  readonly name: string;
  /** Lower-cased protocol: 'tcp', 'udp' or 'sctp'. */
  readonly protocol: string;
  readonly port: number;
}

export interface ServiceRecord {
  readonly namespace: string;
  readonly name: string;
  readonly kind: ServiceKind;
  /** IPv4 and IPv6 addresses of spec.clusterIPs (empty for headless and ExternalName). */
  readonly clusterIPs: readonly string[];
  /** Lower-cased, no trailing dot; '' unless kind is ExternalName. */
  readonly externalName: string;
  readonly ports: readonly PortRecord[];
  readonly publishNotReadyAddresses: boolean;
}

export interface EndpointRecord {
  readonly addresses: readonly string[];
  /** Lower-cased endpoint hostname, '' when the slice gives none. */
  readonly hostname: string;
  /** conditions.ready; a missing value counts as ready (discovery/v1 API doc, CoreDNS). */
  readonly ready: boolean;
}

export interface EndpointSliceRecord {
  readonly namespace: string;
  /** The slice's own name (key of the record). */
  readonly name: string;
  /** The `kubernetes.io/service-name` label: the Service this slice belongs to. */
  readonly service: string;
  readonly endpoints: readonly EndpointRecord[];
  readonly ports: readonly PortRecord[];
}

export interface PodRecord {
  readonly namespace: string;
  readonly name: string;
  /** status.podIPs (falling back to status.podIP). */
  readonly ips: readonly string[];
  /** Lower-cased spec.hostname and spec.subdomain, '' when unset. */
  readonly hostname: string;
  readonly subdomain: string;
  /** The Ready condition is True. */
  readonly ready: boolean;
}

export interface NamespaceRecord {
  readonly name: string;
}

export type Kind = 'Namespace' | 'Service' | 'EndpointSlice' | 'Pod';
export const KINDS: readonly Kind[] = ['Namespace', 'Service', 'EndpointSlice', 'Pod'];

export interface RecordOf {
  Namespace: NamespaceRecord;
  Service: ServiceRecord;
  EndpointSlice: EndpointSliceRecord;
  Pod: PodRecord;
}
export type AnyRecord = RecordOf[Kind];

/** The map key of a record: `ns/name`, or `name` for a Namespace. */
export function recordKey(record: AnyRecord): string {
  return 'namespace' in record ? `${record.namespace}/${record.name}` : record.name;
}

// ---- Converters from API objects (raw watch JSON or client-node models: same field names) ----

/** The loosely typed shape both raw JSON and client-node models satisfy. */
interface ObjectMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  deletionTimestamp?: unknown;
}
interface ApiObject {
  metadata?: ObjectMeta;
}
interface ServiceObject extends ApiObject {
  spec?: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    externalName?: string;
    ports?: { name?: string; protocol?: string; port?: number }[];
    publishNotReadyAddresses?: boolean;
  };
}
interface EndpointSliceObject extends ApiObject {
  addressType?: string;
  endpoints?: {
    addresses?: string[];
    hostname?: string;
    conditions?: { ready?: boolean | null };
  }[];
  ports?: { name?: string; protocol?: string; port?: number }[] | null;
}
interface PodObject extends ApiObject {
  spec?: { hostname?: string; subdomain?: string; hostNetwork?: boolean };
  status?: {
    phase?: string;
    podIP?: string;
    podIPs?: { ip?: string }[];
    conditions?: { type?: string; status?: string }[];
  };
}

export class InvalidObjectError extends Error {
  override name = 'InvalidObjectError';
  readonly code = 'CDNS_ERR_INVALID_OBJECT';
}

function meta(obj: ApiObject, kind: string, namespaced: boolean): { name: string; namespace: string } {
  const name = obj.metadata?.name;
  if (typeof name !== 'string' || name === '') throw new InvalidObjectError(`${kind} without metadata.name`);
  const namespace = obj.metadata?.namespace ?? (namespaced ? 'default' : '');
  return { name: name.toLowerCase(), namespace: namespace.toLowerCase() };
}

// Records live as long as their objects, tens of thousands of them: their arrays are copied to
// their exact length (an array grown by push keeps room for 17 elements, ~140 bytes for one
// port), empty ones share one frozen array, and what repeats across objects is shared: port
// names and protocols, and whole port lists (a Service and its slices, and most Services of a
// cluster, list the same few ports). ~7 MB less heap with 10,000 Services and their slices.
const NONE: readonly never[] = Object.freeze([]);

function exact<T>(list: readonly T[]): readonly T[] {
  return list.length === 0 ? NONE : list.slice();
}

/** Bounded: what is seen after the cap is kept as is, unshared. */
const MAX_SHARED = 4096;

/** Shared copies of port names and protocols. */
const shared = new Map<string, string>();
function share(text: string): string {
  const known = shared.get(text);
  if (known !== undefined) return known;
  if (shared.size < MAX_SHARED) shared.set(text, text);
  return text;
}

/** Shared port lists, frozen (records are never changed, only replaced), by their contents. */
const sharedPorts = new Map<string, readonly PortRecord[]>();

function ports(list: readonly { name?: string; protocol?: string; port?: number }[] | null | undefined): readonly PortRecord[] {
  if (!list) return NONE;
  const out: PortRecord[] = [];
  let key = '';
  for (const p of list) {
    if (typeof p.port !== 'number') continue;
    const port: PortRecord = Object.freeze({ name: share((p.name ?? '').toLowerCase()), protocol: share((p.protocol ?? 'TCP').toLowerCase()), port: p.port });
    out.push(port);
    key += `${port.name}/${port.protocol}/${port.port} `;
  }
  if (out.length === 0) return NONE;
  const known = sharedPorts.get(key);
  if (known !== undefined) return known;
  const frozen = Object.freeze(out.slice());
  if (sharedPorts.size < MAX_SHARED) sharedPorts.set(key, frozen);
  return frozen;
}

export function toNamespace(obj: ApiObject): NamespaceRecord {
  return { name: meta(obj, 'Namespace', false).name };
}

export function toService(obj: ServiceObject): ServiceRecord {
  const { name, namespace } = meta(obj, 'Service', true);
  const spec = obj.spec ?? {};
  const ips = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
  let kind: ServiceKind;
  if (spec.type === 'ExternalName') kind = 'ExternalName';
  else if (ips.length === 0 || ips[0] === 'None' || ips[0] === '') kind = 'Headless';
  else kind = 'ClusterIP';
  return {
    namespace,
    name,
    kind,
    clusterIPs: kind === 'ClusterIP' ? exact(ips.filter((ip) => ip !== 'None' && ip !== '')) : NONE,
    externalName: kind === 'ExternalName' ? (spec.externalName ?? '').toLowerCase().replace(/\.$/, '') : '',
    ports: ports(spec.ports),
    publishNotReadyAddresses: spec.publishNotReadyAddresses === true,
  };
}

export function toEndpointSlice(obj: EndpointSliceObject): EndpointSliceRecord {
  const { name, namespace } = meta(obj, 'EndpointSlice', true);
  const service = (obj.metadata?.labels?.['kubernetes.io/service-name'] ?? '').toLowerCase();
  // FQDN slices carry names, not addresses: nothing DNS can answer from.
  const usable = obj.addressType === 'IPv4' || obj.addressType === 'IPv6' || obj.addressType === undefined;
  const endpoints: EndpointRecord[] = [];
  if (usable) {
    for (const ep of obj.endpoints ?? []) {
      if (!ep.addresses?.length) continue;
      endpoints.push({
        addresses: exact(ep.addresses),
        hostname: (ep.hostname ?? '').toLowerCase(),
        ready: ep.conditions?.ready == null ? true : ep.conditions.ready === true,
      });
    }
  }
  return { namespace, name, service, endpoints: exact(endpoints), ports: ports(obj.ports) };
}

/** Returns null for a pod DNS must not answer for: finished, or being deleted. */
export function toPod(obj: PodObject): PodRecord | null {
  const { name, namespace } = meta(obj, 'Pod', true);
  const phase = obj.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed' || phase === 'Unknown') return null;
  if (obj.metadata?.deletionTimestamp) return null;
  const ips: string[] = [];
  for (const entry of obj.status?.podIPs ?? []) if (entry.ip) ips.push(entry.ip);
  if (ips.length === 0 && obj.status?.podIP) ips.push(obj.status.podIP);
  const ready = obj.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  return {
    namespace,
    name,
    ips: exact(ips),
    hostname: (obj.spec?.hostname ?? '').toLowerCase(),
    subdomain: (obj.spec?.subdomain ?? '').toLowerCase(),
    ready,
  };
}

/** Converts any supported API object by its `kind` field; null for kinds and objects DNS ignores. */
export function toRecord(obj: { kind?: string } & ApiObject): { kind: Kind; record: AnyRecord } | null {
  switch (obj.kind) {
    case 'Namespace':
      return { kind: 'Namespace', record: toNamespace(obj) };
    case 'Service':
      return { kind: 'Service', record: toService(obj) };
    case 'EndpointSlice':
      return { kind: 'EndpointSlice', record: toEndpointSlice(obj) };
    case 'Pod': {
      const record = toPod(obj);
      return record ? { kind: 'Pod', record } : null;
    }
    default:
      return null;
  }
}

/**
 * The smallest API object the converter above turns back into `record` (what --snapshot files
 * hold, so that restoring one runs the same checks and converters as any other file).
 */
export function toObject<K extends Kind>(kind: K, record: RecordOf[K]): { kind: K } & Record<string, unknown> {
  const ports = (list: readonly PortRecord[]) => list.map((p) => ({ name: p.name, protocol: p.protocol, port: p.port }));
  switch (kind) {
    case 'Namespace':
      return { kind, metadata: { name: record.name } };
    case 'Service': {
      const svc = record as ServiceRecord;
      const spec: Record<string, unknown> =
        svc.kind === 'ExternalName' ? { type: 'ExternalName', externalName: svc.externalName } : svc.kind === 'Headless' ? { clusterIP: 'None' } : { clusterIPs: svc.clusterIPs };
      if (svc.ports.length > 0) spec.ports = ports(svc.ports);
      if (svc.publishNotReadyAddresses) spec.publishNotReadyAddresses = true;
      return { kind, metadata: { namespace: svc.namespace, name: svc.name }, spec };
    }
    case 'EndpointSlice': {
      const slice = record as EndpointSliceRecord;
      return {
        kind,
        metadata: { namespace: slice.namespace, name: slice.name, ...(slice.service ? { labels: { 'kubernetes.io/service-name': slice.service } } : {}) },
        endpoints: slice.endpoints.map((e) => ({ addresses: e.addresses, ...(e.hostname ? { hostname: e.hostname } : {}), conditions: { ready: e.ready } })),
        ...(slice.ports.length > 0 ? { ports: ports(slice.ports) } : {}),
      };
    }
    case 'Pod': {
      const pod = record as PodRecord;
      const spec = pod.hostname || pod.subdomain ? { spec: { hostname: pod.hostname, subdomain: pod.subdomain } } : {};
      const status: Record<string, unknown> = { podIPs: pod.ips.map((ip) => ({ ip })) };
      if (pod.ready) status.conditions = [{ type: 'Ready', status: 'True' }];
      return { kind, metadata: { namespace: pod.namespace, name: pod.name }, ...spec, status };
    }
  }
  throw new TypeError(`no such kind: ${String(kind)}`);
}

/**
 * `toObject` as one line of JSON. Pods are most of a cluster: theirs is written directly (half
 * the CPU time and a fraction of the garbage of building the object first; the same text).
 */
export function objectLine<K extends Kind>(kind: K, record: RecordOf[K]): string {
  if (kind !== 'Pod') return `${JSON.stringify(toObject(kind, record))}\n`;
  const pod = record as PodRecord;
  const q = JSON.stringify;
  let ips = '';
  for (const ip of pod.ips) ips += `${ips === '' ? '' : ','}{"ip":${q(ip)}}`;
  const spec = pod.hostname || pod.subdomain ? `,"spec":{"hostname":${q(pod.hostname)},"subdomain":${q(pod.subdomain)}}` : '';
  const ready = pod.ready ? ',"conditions":[{"type":"Ready","status":"True"}]' : '';
  return `{"kind":"Pod","metadata":{"namespace":${q(pod.namespace)},"name":${q(pod.name)}}${spec},"status":{"podIPs":[${ips}]${ready}}}\n`;
}

// ---- What a file may hold. The API server guarantees the shape of what a watch delivers; a file
// (--manifests, a --snapshot) guarantees nothing, and an object of the wrong shape must be
// refused by name, never turn into a TypeError in a converter or into answers that fail at query
// time (an A record for "banana"). Only the fields DNS reads are checked.

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(where: string, what: string): never {
  throw new InvalidObjectError(`${where}: ${what}`);
}

function optionalObject(where: string, value: unknown, field: string): Json {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) fail(where, `${field} must be an object`);
  return value;
}

function optionalString(where: string, value: unknown, field: string): void {
  if (value !== undefined && value !== null && typeof value !== 'string') fail(where, `${field} must be a string`);
}

function optionalList(where: string, value: unknown, field: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail(where, `${field} must be a list`);
  return value;
}

function address(where: string, value: unknown, field: string, family?: 4 | 6): void {
  const version = typeof value === 'string' ? isIP(value) : 0;
  if (version === 0 || (family !== undefined && version !== family)) {
    fail(where, `${field} ${JSON.stringify(value)} is not an ${family === undefined ? 'IP' : `IPv${family}`} address`);
  }
}

function checkPorts(where: string, value: unknown, field: string, portRequired: boolean): void {
  optionalList(where, value, field).forEach((p, i) => {
    const at = `${field}[${i}]`;
    if (!isObject(p)) fail(where, `${at} must be an object`);
    optionalString(where, p.name, `${at}.name`);
    optionalString(where, p.protocol, `${at}.protocol`);
    const port = p.port;
    if ((port !== undefined && port !== null) || portRequired) {
      if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535) fail(where, `${at}.port must be a number from 1 to 65535`);
    }
  });
}

/** Refuses (InvalidObjectError), naming the object and the field, what the converters above cannot take. */
export function checkObject(obj: Json): void {
  const metadata = optionalObject(String(obj.kind), obj.metadata, 'metadata');
  const where = `${String(obj.kind)} ${typeof metadata.namespace === 'string' ? `${metadata.namespace}/` : ''}${typeof metadata.name === 'string' ? metadata.name : '(no name)'}`;
  // A missing name is records.ts's own error ("Service without metadata.name").
  optionalString(where, metadata.name, 'metadata.name');
  optionalString(where, metadata.namespace, 'metadata.namespace');
  const labels = optionalObject(where, metadata.labels, 'metadata.labels');
  for (const [key, value] of Object.entries(labels)) optionalString(where, value, `metadata.labels["${key}"]`);
  switch (obj.kind) {
    case 'Service': {
      const spec = optionalObject(where, obj.spec, 'spec');
      optionalString(where, spec.type, 'spec.type');
      optionalString(where, spec.externalName, 'spec.externalName');
      const ips = [...(spec.clusterIP === undefined || spec.clusterIP === null ? [] : [spec.clusterIP]), ...optionalList(where, spec.clusterIPs, 'spec.clusterIPs')];
      if (spec.type !== 'ExternalName') {
        for (const ip of ips) if (ip !== 'None' && ip !== '') address(where, ip, 'spec.clusterIP(s)');
      }
      if (spec.publishNotReadyAddresses !== undefined && typeof spec.publishNotReadyAddresses !== 'boolean') fail(where, 'spec.publishNotReadyAddresses must be true or false');
      checkPorts(where, spec.ports, 'spec.ports', true);
      break;
    }
    case 'EndpointSlice': {
      optionalString(where, obj.addressType, 'addressType');
      const family = obj.addressType === 'IPv4' ? 4 : obj.addressType === 'IPv6' ? 6 : undefined;
      optionalList(where, obj.endpoints, 'endpoints').forEach((e, i) => {
        const at = `endpoints[${i}]`;
        if (!isObject(e)) fail(where, `${at} must be an object`);
        optionalString(where, e.hostname, `${at}.hostname`);
        const conditions = optionalObject(where, e.conditions, `${at}.conditions`);
        if (conditions.ready !== undefined && conditions.ready !== null && typeof conditions.ready !== 'boolean') fail(where, `${at}.conditions.ready must be true or false`);
        // FQDN slices hold names, which DNS ignores; addresses of the slice's family otherwise.
        if (obj.addressType !== 'FQDN') optionalList(where, e.addresses, `${at}.addresses`).forEach((a, j) => address(where, a, `${at}.addresses[${j}]`, family));
      });
      checkPorts(where, obj.ports, 'ports', false);
      break;
    }
    case 'Pod': {
      const spec = optionalObject(where, obj.spec, 'spec');
      optionalString(where, spec.hostname, 'spec.hostname');
      optionalString(where, spec.subdomain, 'spec.subdomain');
      const status = optionalObject(where, obj.status, 'status');
      optionalString(where, status.phase, 'status.phase');
      if (status.podIP !== undefined && status.podIP !== null && status.podIP !== '') address(where, status.podIP, 'status.podIP');
      optionalList(where, status.podIPs, 'status.podIPs').forEach((entry, i) => {
        if (!isObject(entry)) fail(where, `status.podIPs[${i}] must be an object`);
        if (entry.ip !== undefined && entry.ip !== '') address(where, entry.ip, `status.podIPs[${i}].ip`);
      });
      optionalList(where, status.conditions, 'status.conditions').forEach((c, i) => {
        if (!isObject(c)) fail(where, `status.conditions[${i}] must be an object`);
      });
      break;
    }
    default:
  }
}
