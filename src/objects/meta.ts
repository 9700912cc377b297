// What every kind shares: the loosely typed API object (raw watch JSON, the protobuf readers'
// output and client-node models all have these field names), its ObjectMeta and the key an
// object is stored under, and the shape of a kind's module (ObjectKind).
import { type WireReader, valueWhereKey, sameBytes } from './wire.ts';
import { ClusterDnsError } from '../base/errors.ts';

/** An API object as JSON. */
export type Json = Record<string, unknown>;

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  /** Set while the object is being deleted; only its presence is read. */
  deletionTimestamp?: unknown;
}

/** What a watch delivers: the raw JSON object (only the fields DNS reads are ever looked at). */
export interface RawObject {
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

/** The converters' view of an object: its metadata, and per kind the fields it reads. */
export interface ApiObject {
  metadata?: ObjectMeta;
}

/** Reads one list item in place; the object has the JSON field names and only what DNS reads. */
export type ItemReader = (buf: Buffer, start: number, end: number) => RawObject;

export class InvalidObjectError extends ClusterDnsError {
  override name = 'InvalidObjectError';
  readonly code = 'CDNS_ERR_INVALID_OBJECT';
}

/** A kind: its record, how its objects are listed, read, converted, checked, keyed and written back. */
export interface ObjectKind<K extends string, R> {
  readonly kind: K;
  /** In a namespace (keyed `namespace/name`), or cluster-wide (keyed `name`). */
  readonly namespaced: boolean;
  /** The cluster-wide collection path, e.g. `/api/v1/services`. */
  readonly path: string;
  /** What the API server is asked to leave out of lists and watches. */
  readonly fieldSelector?: string;
  /** Reads one item of a protobuf list. */
  readonly protobuf: ItemReader;
  /** The slim record, or null for an object DNS must not answer for; InvalidObjectError if it has no name. */
  convert(obj: RawObject): R | null;
  /** The index key of an object, from its metadata alone (all a DELETED event is sure to carry). */
  keyOf(obj: RawObject): string;
  /** This kind's checks of an object from a file (checkObject has checked the metadata). */
  check(where: string, obj: Json): void;
  /** The smallest API object `convert` turns back into `record`. */
  toObject(record: R): { kind: K } & Record<string, unknown>;
  /** `toObject` as one line of JSON, when the kind writes it directly (else JSON.stringify of it). */
  line?(record: R): string;
}

/** The lower-cased name and namespace (`default` when a namespaced object gives none). */
export function objectMeta(obj: ApiObject, kind: string, namespaced: boolean): { name: string; namespace: string } {
  const name = obj.metadata?.name;
  if (typeof name !== 'string' || name === '') throw new InvalidObjectError(`${kind} without metadata.name`);
  const namespace = obj.metadata?.namespace ?? (namespaced ? 'default' : '');
  return { name: name.toLowerCase(), namespace: namespace.toLowerCase() };
}

/** The key of a namespaced object or record: `namespace/name`. A cluster-wide one's is its name. */
export function namespacedKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** The key of an object: the key its record is stored under, from the metadata the record is made of. */
export function objectKey(obj: ApiObject, kind: string, namespaced: boolean): string {
  const { name, namespace } = objectMeta(obj, kind, namespaced);
  return namespaced ? namespacedKey(namespace, name) : name;
}

// Records live as long as their objects, tens of thousands of them: their arrays are copied to
// their exact length (an array grown by push keeps room for 17 elements, ~140 bytes for one
// port) and empty ones share one frozen array.
export const NONE: readonly never[] = Object.freeze([]);

export function exact<T>(list: readonly T[]): readonly T[] {
  return list.length === 0 ? NONE : list.slice();
}

// ---- meta/v1 ObjectMeta in protobuf ----

/**
 * ObjectMeta: name = 1, namespace = 3, deletionTimestamp = 9, labels = 11 (map entries: key = 1,
 * value = 2). Of the labels only `label` is kept, found by its bytes. An item's resourceVersion
 * (6) is not read: a list resumes from its own, in ListMeta.
 */
export function readObjectMeta(r: WireReader, into: ObjectMeta, label?: Buffer): void {
  const outer = r.enter();
  for (let field = r.next(); field !== 0; field = r.next()) {
    if (field === 1) into.name = r.string();
    else if (field === 3) into.namespace = namespaceString(r);
    else if (field === 9) {
      // Only its presence matters: a pod being deleted gets no answers.
      r.bytes();
      into.deletionTimestamp = true;
    } else if (field === 11 && label) {
      const value = valueWhereKey(r, label);
      if (value !== null) (into.labels ??= {})[label.toString()] = value;
    } else r.skip();
  }
  r.leave(outer);
}

// A list comes in key order, namespace first, so an item's namespace is nearly always the one
// before it: that string is reused, not decoded again. Records of the same namespace then share
// one copy, as V8's JSON.parse shares the short strings it internalizes.
let lastNamespace = '';
let lastNamespaceBytes = Buffer.alloc(0);

function namespaceString(r: WireReader): string {
  r.bytes();
  const start = r.valueStart;
  const end = r.valueEnd;
  if (sameBytes(r.buf, start, end, lastNamespaceBytes)) return lastNamespace;
  lastNamespaceBytes = Buffer.from(r.buf.subarray(start, end));
  lastNamespace = r.buf.toString('utf8', start, end);
  return lastNamespace;
}
