// Pod (core/v1): its addresses, its hostname and subdomain, and whether it is Ready. Most of a
// big cluster, so its converter, its protobuf reader and its snapshot line are written for
// 150,000 of them. Pods are watched without the finished ones, as CoreDNS does, so a cluster
// full of completed Jobs costs nothing.
import { address, type Json, fail, isObject, optionalList, optionalObject, optionalString } from './check.ts';
import { type ApiObject, type ObjectKind, type ObjectMeta, type RawObject, exact, objectKey, objectMeta, readObjectMeta } from './meta.ts';
import { WireReader, append, knownOrDecoded, knownStrings, readFirstString, valueWhereKey } from './wire.ts';

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

/** CoreDNS's pod field selector: Succeeded, Failed and Unknown pods never answer. */
export const POD_FIELD_SELECTOR = 'status.phase!=Succeeded,status.phase!=Failed,status.phase!=Unknown';

interface PodSpec {
  hostname?: string;
  subdomain?: string;
  hostNetwork?: boolean;
}
interface PodStatus {
  phase?: string;
  podIP?: string;
  podIPs?: { ip?: string }[];
  conditions?: { type?: string; status?: string }[];
}
interface PodObject extends ApiObject {
  spec?: PodSpec;
  status?: PodStatus;
}

/** Returns null for a pod DNS must not answer for: finished, or being deleted. */
export function toPod(obj: PodObject): PodRecord | null {
  const { name, namespace } = objectMeta(obj, 'Pod', true);
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

function checkPod(where: string, obj: Json): void {
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
}

function podObject(pod: PodRecord): { kind: 'Pod' } & Record<string, unknown> {
  const spec = pod.hostname || pod.subdomain ? { spec: { hostname: pod.hostname, subdomain: pod.subdomain } } : {};
  const status: Record<string, unknown> = { podIPs: pod.ips.map((ip) => ({ ip })) };
  if (pod.ready) status.conditions = [{ type: 'Ready', status: 'True' }];
  return { kind: 'Pod', metadata: { namespace: pod.namespace, name: pod.name }, ...spec, status };
}

/**
 * podObject as one line of JSON, written directly (half the CPU time and a fraction of the
 * garbage of building the object first; the same text).
 */
function podLine(pod: PodRecord): string {
  const q = JSON.stringify;
  let ips = '';
  for (const ip of pod.ips) ips += `${ips === '' ? '' : ','}{"ip":${q(ip)}}`;
  const spec = pod.hostname || pod.subdomain ? `,"spec":{"hostname":${q(pod.hostname)},"subdomain":${q(pod.subdomain)}}` : '';
  const ready = pod.ready ? ',"conditions":[{"type":"Ready","status":"True"}]' : '';
  return `{"kind":"Pod","metadata":{"namespace":${q(pod.namespace)},"name":${q(pod.name)}}${spec},"status":{"podIPs":[${ips}]${ready}}}\n`;
}

// ---- protobuf: the fields toPod reads ----

interface PodShape extends RawObject {
  metadata: ObjectMeta;
  spec: { hostname?: string; subdomain?: string };
  status: { phase?: string; podIP?: string; podIPs?: { ip: string }[]; conditions?: { type: 'Ready'; status: string }[] };
}

/** Pod: metadata = 1, spec = 2, status = 3. */
export const readPod = (buf: Buffer, start: number, end: number): PodShape => {
  const pod: PodShape = { metadata: {}, spec: {}, status: {} };
  const r = new WireReader(buf, start, end);
  for (let field = r.next(); field !== 0; field = r.next()) {
    if (field === 1) readObjectMeta(r, pod.metadata);
    else if (field === 2) readPodSpec(r, pod.spec);
    else if (field === 3) readPodStatus(r, pod.status);
    else r.skip();
  }
  return pod;
};

const PHASES = knownStrings('Running', 'Pending', 'Succeeded', 'Failed', 'Unknown');
const CONDITION_STATUSES = knownStrings('True', 'False', 'Unknown');
const READY = Buffer.from('Ready');

/** PodSpec: hostname = 16, subdomain = 17. */
function readPodSpec(r: WireReader, into: PodShape['spec']): void {
  const outer = r.enter();
  for (let field = r.next(); field !== 0; field = r.next()) {
    if (field === 16) into.hostname = r.string();
    else if (field === 17) into.subdomain = r.string();
    else r.skip();
  }
  r.leave(outer);
}

/**
 * PodStatus: phase = 1, conditions = 2, podIP = 6, podIPs = 12 (ip = 1). Of the conditions only
 * Ready is kept: a pod has five or so, and their type is compared as bytes, not decoded.
 */
function readPodStatus(r: WireReader, into: PodShape['status']): void {
  const outer = r.enter();
  let podIPStart = -1;
  let podIPEnd = -1;
  for (let field = r.next(); field !== 0; field = r.next()) {
    if (field === 1) {
      r.bytes();
      into.phase = knownOrDecoded(r.buf, r.valueStart, r.valueEnd, PHASES);
    } else if (field === 2) {
      const status = valueWhereKey(r, READY, CONDITION_STATUSES);
      if (status !== null) into.conditions = append(into.conditions, { type: 'Ready', status });
    } else if (field === 6) {
      r.bytes();
      podIPStart = r.valueStart;
      podIPEnd = r.valueEnd;
    } else if (field === 12) into.podIPs = append(into.podIPs, { ip: readFirstString(r) });
    else r.skip();
  }
  // toPod reads podIP only when podIPs is empty (an apiserver older than 1.16).
  if (podIPStart >= 0 && into.podIPs === undefined) into.podIP = knownOrDecoded(r.buf, podIPStart, podIPEnd);
  r.leave(outer);
}

export const POD: ObjectKind<'Pod', PodRecord> = {
  kind: 'Pod',
  namespaced: true,
  path: '/api/v1/pods',
  fieldSelector: POD_FIELD_SELECTOR,
  protobuf: readPod,
  convert: toPod as (obj: RawObject) => PodRecord | null,
  keyOf: (obj) => objectKey(obj, 'Pod', true),
  check: checkPod,
  toObject: podObject,
  line: podLine,
};
