// Service (core/v1): its kind (ClusterIP, headless, ExternalName), addresses, ports and whether
// not-ready endpoints are published.
import { address, type Json, fail, optionalList, optionalObject, optionalString } from './check.ts';
import {
  type ApiObject,
  type ObjectKind,
  type ObjectMeta,
  type RawObject,
  NONE,
  exact,
  objectKey,
  objectMeta,
  readObjectMeta,
} from './meta.ts';
import { type PortObject, type PortRecord, checkPorts, portObjects, ports, readPort } from './ports.ts';
import { WireReader, append } from './wire.ts';

export type ServiceKind = 'ClusterIP' | 'Headless' | 'ExternalName';

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

interface ServiceSpec {
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  externalName?: string;
  ports?: PortObject[];
  publishNotReadyAddresses?: boolean;
}

interface ServiceObject extends ApiObject {
  spec?: ServiceSpec;
}

export function toService(obj: ServiceObject): ServiceRecord {
  const { name, namespace } = objectMeta(obj, 'Service', true);
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

function checkService(where: string, obj: Json): void {
  const spec = optionalObject(where, obj.spec, 'spec');
  optionalString(where, spec.type, 'spec.type');
  optionalString(where, spec.externalName, 'spec.externalName');
  const ips = [
    ...(spec.clusterIP === undefined || spec.clusterIP === null ? [] : [spec.clusterIP]),
    ...optionalList(where, spec.clusterIPs, 'spec.clusterIPs'),
  ];
  if (spec.type !== 'ExternalName') {
    for (const ip of ips) if (ip !== 'None' && ip !== '') address(where, ip, 'spec.clusterIP(s)');
  }
  if (spec.publishNotReadyAddresses !== undefined && typeof spec.publishNotReadyAddresses !== 'boolean')
    fail(where, 'spec.publishNotReadyAddresses must be true or false');
  checkPorts(where, spec.ports, 'spec.ports', true);
}

function serviceObject(svc: ServiceRecord): { kind: 'Service' } & Record<string, unknown> {
  const spec: Record<string, unknown> =
    svc.kind === 'ExternalName'
      ? { type: 'ExternalName', externalName: svc.externalName }
      : svc.kind === 'Headless'
        ? { clusterIP: 'None' }
        : { clusterIPs: svc.clusterIPs };
  if (svc.ports.length > 0) spec.ports = portObjects(svc.ports);
  if (svc.publishNotReadyAddresses) spec.publishNotReadyAddresses = true;
  return { kind: 'Service', metadata: { namespace: svc.namespace, name: svc.name }, spec };
}

// ---- protobuf ----

interface ServiceShape extends RawObject {
  metadata: ObjectMeta;
  spec: ServiceSpec;
}

/** Service: metadata = 1, spec = 2. */
export const readService = (buf: Buffer, start: number, end: number): ServiceShape => {
  const service: ServiceShape = { metadata: {}, spec: {} };
  const r = new WireReader(buf, start, end);
  for (let field = r.next(); field !== 0; field = r.next()) {
    if (field === 1) readObjectMeta(r, service.metadata);
    else if (field === 2) readServiceSpec(r, service.spec);
    else r.skip();
  }
  return service;
};

/**
 * ServiceSpec: ports = 1, clusterIP = 3, type = 4, externalName = 10, publishNotReadyAddresses =
 * 13, clusterIPs = 18.
 */
function readServiceSpec(r: WireReader, into: ServiceSpec): void {
  const outer = r.enter();
  for (let field = r.next(); field !== 0; field = r.next()) {
    if (field === 1) into.ports = append(into.ports, readPort(r));
    else if (field === 3) into.clusterIP = r.string();
    else if (field === 4) into.type = r.string();
    else if (field === 10) into.externalName = r.string();
    else if (field === 13) into.publishNotReadyAddresses = r.bool();
    else if (field === 18) into.clusterIPs = append(into.clusterIPs, r.string());
    else r.skip();
  }
  r.leave(outer);
}

export const SERVICE: ObjectKind<'Service', ServiceRecord> = {
  kind: 'Service',
  namespaced: true,
  path: '/api/v1/services',
  protobuf: readService,
  convert: toService as (obj: RawObject) => ServiceRecord,
  keyOf: (obj) => objectKey(obj, 'Service', true),
  check: checkService,
  toObject: serviceObject,
};
