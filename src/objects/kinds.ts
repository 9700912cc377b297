// Slim records: the only parts of Kubernetes objects that DNS answers depend on. API objects are
// converted at the edge, and dropped at once (a Pod costs ~3.9 KB of heap as an API object,
// ~0.2 KB as a PodRecord). Don't add fields lightly: every one is multiplied by 150k pods.
// One module per kind (namespace.ts, service.ts, endpoint-slice.ts, pod.ts) holds its record,
// converter, checks, protobuf reader, API path and key; this one dispatches over them.
import type { Json } from './check.ts';
import { checkMeta } from './check.ts';
import { type EndpointSliceOptions, type EndpointSliceRecord, ENDPOINT_SLICE, endpointSliceKind } from './endpoint-slice.ts';
import { type ApiObject, type ObjectKind, type RawObject, namespacedKey } from './meta.ts';
import { type NamespaceRecord, NAMESPACE } from './namespace.ts';
import { type PodRecord, POD } from './pod.ts';
import { type ServiceRecord, SERVICE } from './service.ts';

export { InvalidObjectError } from './meta.ts';

export interface RecordOf {
  Namespace: NamespaceRecord;
  Service: ServiceRecord;
  EndpointSlice: EndpointSliceRecord;
  Pod: PodRecord;
}
export type Kind = keyof RecordOf;
export type AnyRecord = RecordOf[Kind];

/** Every kind, in the order the sources list them (namespaces first). */
export const OBJECT_KINDS: { readonly [K in Kind]: ObjectKind<K, RecordOf[K]> } = {
  Namespace: NAMESPACE,
  Service: SERVICE,
  EndpointSlice: ENDPOINT_SLICE,
  Pod: POD,
};
export const KINDS: readonly Kind[] = Object.keys(OBJECT_KINDS) as Kind[];
/** The kinds a source reads (EndpointSlice left out under noEndpoints). */
export type ObjectKinds = { readonly [K in Kind]?: ObjectKind<K, RecordOf[K]> };

/** What the cluster zone's options change in the records a source makes (empty: nothing). */
export interface ConvertOptions extends EndpointSliceOptions {
  /** CoreDNS's `noendpoints`: no EndpointSlice is read, listed or watched. */
  readonly noEndpoints?: boolean;
  /** CoreDNS's `namespaces`: only these namespaces' objects are kept (lower-case); empty: all. */
  readonly namespaces?: readonly string[];
}

/** The kinds as `options` read them: OBJECT_KINDS itself when they change nothing. */
export function objectKinds(options: ConvertOptions = {}): ObjectKinds {
  const slices = endpointSliceKind(options);
  let kinds: ObjectKinds = slices === ENDPOINT_SLICE ? OBJECT_KINDS : { ...OBJECT_KINDS, EndpointSlice: slices };
  if (options.noEndpoints === true) {
    const { EndpointSlice: _left, ...rest } = kinds;
    kinds = rest;
  }
  const namespaces = options.namespaces ?? [];
  if (namespaces.length > 0) {
    kinds = Object.fromEntries(
      Object.entries(kinds).map(([name, kind]) => [name, inNamespaces(kind as ObjectKind<Kind, AnyRecord>, namespaces)]),
    );
  }
  return kinds;
}

/**
 * A kind that keeps only the objects of `namespaces` (a Namespace by its name): the rest convert
 * to null, so the index never holds them. With one namespace the API is asked for it alone.
 */
function inNamespaces<K extends Kind, R extends AnyRecord>(kind: ObjectKind<K, R>, namespaces: readonly string[]): ObjectKind<K, R> {
  const keep = new Set(namespaces);
  const field = kind.namespaced ? 'metadata.namespace' : 'metadata.name';
  const only = namespaces.length === 1 ? `${field}=${namespaces[0]}` : null;
  const inScope = (obj: RawObject) =>
    keep.has((kind.namespaced ? (obj.metadata?.namespace ?? 'default') : (obj.metadata?.name ?? '')).toLowerCase());
  return {
    ...kind,
    convert: (obj: RawObject) => (inScope(obj) ? kind.convert(obj) : null),
    ...(only ? { fieldSelector: kind.fieldSelector ? `${kind.fieldSelector},${only}` : only } : {}),
  };
}

/** The kind named by an object's `kind` field; undefined for the kinds DNS ignores. */
function kindOf(name: unknown, kinds: ObjectKinds = OBJECT_KINDS): ObjectKind<Kind, AnyRecord> | undefined {
  return typeof name === 'string' && Object.hasOwn(kinds, name) ? (kinds[name as Kind] as ObjectKind<Kind, AnyRecord>) : undefined;
}

/** The map key of a record: `ns/name`, or `name` for a Namespace (what each kind's keyOf gives its object). */
export function recordKey(record: AnyRecord): string {
  return 'namespace' in record ? namespacedKey(record.namespace, record.name) : record.name;
}

/** Converts any supported API object by its `kind` field; null for kinds and objects DNS ignores. */
export function toRecord(obj: { kind?: string } & ApiObject, kinds: ObjectKinds = OBJECT_KINDS): { kind: Kind; record: AnyRecord } | null {
  const kind = kindOf(obj.kind, kinds);
  if (!kind) return null;
  const record = kind.convert(obj as RawObject);
  return record ? { kind: kind.kind, record } : null;
}

/**
 * The smallest API object the converter turns back into `record` (what --snapshot files hold, so
 * that restoring one runs the same checks and converters as any other file).
 */
export function toObject<K extends Kind>(kind: K, record: RecordOf[K]): { kind: K } & Record<string, unknown> {
  const spec = kindOf(kind);
  if (!spec) throw new TypeError(`no such kind: ${String(kind)}`);
  return spec.toObject(record) as { kind: K } & Record<string, unknown>;
}

/** `toObject` as one line of JSON (Pods, most of a cluster, write theirs directly). */
export function objectLine<K extends Kind>(kind: K, record: RecordOf[K]): string {
  const spec = kindOf(kind);
  if (!spec) throw new TypeError(`no such kind: ${String(kind)}`);
  return spec.line ? spec.line(record) : `${JSON.stringify(spec.toObject(record))}\n`;
}

/** Refuses (InvalidObjectError), naming the object and the field, what the converters cannot take. */
export function checkObject(obj: Json): void {
  const where = checkMeta(obj);
  kindOf(obj.kind)?.check(where, obj);
}
