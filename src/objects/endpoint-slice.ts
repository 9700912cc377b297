// EndpointSlice (discovery/v1): the endpoints of one Service (the `kubernetes.io/service-name`
// label), their addresses, hostnames and readiness, and the ports they serve.
import { address, type Json, fail, isObject, optionalList, optionalObject, optionalString } from './check.ts';
import { type ApiObject, type ObjectKind, type ObjectMeta, type RawObject, exact, objectKey, objectMeta, readObjectMeta } from './meta.ts';
import { type PortObject, type PortRecord, checkPorts, portObjects, ports, readPort } from './ports.ts';
import { WireReader, append } from './wire.ts';

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

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

interface EndpointObject {
  addresses?: string[];
  hostname?: string;
  conditions?: { ready?: boolean | null };
  /** Read only for endpointPodNames (it would be one more string an endpoint otherwise). */
  targetRef?: { kind?: string; name?: string } | null;
}

/** How EndpointSlices are read: what the `kubernetes` plugin's options change in the record. */
export interface EndpointSliceOptions {
  /** CoreDNS's `endpoint_pod_names`: an endpoint without a hostname is named by its pod. */
  readonly endpointPodNames?: boolean;
}

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The name of an endpoint below its Service: its hostname; else, with endpointPodNames, its
 * pod's name when that is one DNS label (a pod name may have dots, which would be more labels);
 * else '' (the dashed IP, at answer time).
 */
function endpointHostname(ep: EndpointObject, podNames: boolean): string {
  if (ep.hostname) return ep.hostname.toLowerCase();
  if (!podNames || ep.targetRef?.kind !== 'Pod' || !ep.targetRef.name) return '';
  const name = ep.targetRef.name.toLowerCase();
  return DNS_LABEL.test(name) ? name : '';
}

interface EndpointSliceObject extends ApiObject {
  addressType?: string;
  endpoints?: EndpointObject[];
  ports?: PortObject[] | null;
}

export function toEndpointSlice(obj: EndpointSliceObject, options: EndpointSliceOptions = {}): EndpointSliceRecord {
  const podNames = options.endpointPodNames === true;
  const { name, namespace } = objectMeta(obj, 'EndpointSlice', true);
  const service = (obj.metadata?.labels?.[SERVICE_NAME_LABEL] ?? '').toLowerCase();
  // FQDN slices carry names, not addresses: nothing DNS can answer from.
  const usable = obj.addressType === 'IPv4' || obj.addressType === 'IPv6' || obj.addressType === undefined;
  const endpoints: EndpointRecord[] = [];
  if (usable) {
    for (const ep of obj.endpoints ?? []) {
      if (!ep.addresses?.length) continue;
      endpoints.push({
        addresses: exact(ep.addresses),
        hostname: endpointHostname(ep, podNames),
        ready: ep.conditions?.ready == null ? true : ep.conditions.ready === true,
      });
    }
  }
  return { namespace, name, service, endpoints: exact(endpoints), ports: ports(obj.ports) };
}

function checkEndpointSlice(where: string, obj: Json): void {
  optionalString(where, obj.addressType, 'addressType');
  const family = obj.addressType === 'IPv4' ? 4 : obj.addressType === 'IPv6' ? 6 : undefined;
  optionalList(where, obj.endpoints, 'endpoints').forEach((e, i) => {
    const at = `endpoints[${i}]`;
    if (!isObject(e)) fail(where, `${at} must be an object`);
    optionalString(where, e.hostname, `${at}.hostname`);
    const conditions = optionalObject(where, e.conditions, `${at}.conditions`);
    if (conditions.ready !== undefined && conditions.ready !== null && typeof conditions.ready !== 'boolean')
      fail(where, `${at}.conditions.ready must be true or false`);
    // FQDN slices hold names, which DNS ignores; addresses of the slice's family otherwise.
    if (obj.addressType !== 'FQDN')
      optionalList(where, e.addresses, `${at}.addresses`).forEach((a, j) => {
        address(where, a, `${at}.addresses[${j}]`, family);
      });
  });
  checkPorts(where, obj.ports, 'ports', false);
}

function endpointSliceObject(slice: EndpointSliceRecord): { kind: 'EndpointSlice' } & Record<string, unknown> {
  return {
    kind: 'EndpointSlice',
    metadata: {
      namespace: slice.namespace,
      name: slice.name,
      ...(slice.service ? { labels: { [SERVICE_NAME_LABEL]: slice.service } } : {}),
    },
    endpoints: slice.endpoints.map((e) => ({
      addresses: e.addresses,
      ...(e.hostname ? { hostname: e.hostname } : {}),
      conditions: { ready: e.ready },
    })),
    ...(slice.ports.length > 0 ? { ports: portObjects(slice.ports) } : {}),
  };
}

// ---- protobuf ----

interface EndpointSliceShape extends RawObject {
  metadata: ObjectMeta;
  addressType?: string;
  endpoints?: EndpointObject[];
  ports?: PortObject[];
}

const SERVICE_NAME_BYTES = Buffer.from(SERVICE_NAME_LABEL);

/** EndpointSlice: metadata = 1, endpoints = 2, ports = 3, addressType = 4. */
const endpointSliceReader =
  (podNames: boolean) =>
  (buf: Buffer, start: number, end: number): EndpointSliceShape => {
    const slice: EndpointSliceShape = { metadata: {} };
    const r = new WireReader(buf, start, end);
    for (let field = r.next(); field !== 0; field = r.next()) {
      if (field === 1) readObjectMeta(r, slice.metadata, SERVICE_NAME_BYTES);
      else if (field === 2) slice.endpoints = append(slice.endpoints, readEndpoint(r, podNames));
      else if (field === 3) slice.ports = append(slice.ports, readPort(r));
      else if (field === 4) slice.addressType = r.string();
      else r.skip();
    }
    return slice;
  };

export const readEndpointSlice = endpointSliceReader(false);

/**
 * Endpoint: addresses = 1, conditions = 2 (ready = 1; unset means ready), hostname = 3,
 * targetRef = 4 (an ObjectReference: kind = 1, name = 3), read only when podNames.
 */
function readEndpoint(r: WireReader, podNames: boolean): EndpointObject {
  const outer = r.enter();
  const endpoint: EndpointObject = {};
  for (let field = r.next(); field !== 0; field = r.next()) {
    if (field === 1) endpoint.addresses = append(endpoint.addresses, r.string());
    else if (field === 2) {
      const outerConditions = r.enter();
      endpoint.conditions = {};
      for (let f = r.next(); f !== 0; f = r.next()) {
        if (f === 1) endpoint.conditions.ready = r.bool();
        else r.skip();
      }
      r.leave(outerConditions);
    } else if (field === 3) endpoint.hostname = r.string();
    else if (field === 4 && podNames) endpoint.targetRef = readTargetRef(r);
    else r.skip();
  }
  r.leave(outer);
  return endpoint;
}

function readTargetRef(r: WireReader): { kind?: string; name?: string } {
  const outer = r.enter();
  const ref: { kind?: string; name?: string } = {};
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) ref.kind = r.string();
    else if (f === 3) ref.name = r.string();
    else r.skip();
  }
  r.leave(outer);
  return ref;
}

export const ENDPOINT_SLICE: ObjectKind<'EndpointSlice', EndpointSliceRecord> = {
  kind: 'EndpointSlice',
  namespaced: true,
  path: '/apis/discovery.k8s.io/v1/endpointslices',
  protobuf: readEndpointSlice,
  convert: toEndpointSlice as (obj: RawObject) => EndpointSliceRecord,
  keyOf: (obj) => objectKey(obj, 'EndpointSlice', true),
  check: checkEndpointSlice,
  toObject: endpointSliceObject,
};

/** The kind as `options` read it (ENDPOINT_SLICE itself when they change nothing). */
export function endpointSliceKind(options: EndpointSliceOptions): ObjectKind<'EndpointSlice', EndpointSliceRecord> {
  if (options.endpointPodNames !== true) return ENDPOINT_SLICE;
  return {
    ...ENDPOINT_SLICE,
    protobuf: endpointSliceReader(true),
    convert: (obj: RawObject) => toEndpointSlice(obj as EndpointSliceObject, options),
  };
}
