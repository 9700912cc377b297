// Namespace (core/v1): only its name. Lists, since DNS answers NXDOMAIN under a namespace that
// does not exist and the apex of one that does.
import { type ApiObject, type ObjectKind, type ObjectMeta, objectKey, objectMeta, readObjectMeta } from './meta.ts';
import { WireReader } from './wire.ts';

export interface NamespaceRecord {
  readonly name: string;
}

export function toNamespace(obj: ApiObject): NamespaceRecord {
  return { name: objectMeta(obj, 'Namespace', false).name };
}

/** Namespace: metadata = 1. */
export const readNamespace = (buf: Buffer, start: number, end: number): { metadata: ObjectMeta } => {
  const namespace = { metadata: {} as ObjectMeta };
  const r = new WireReader(buf, start, end);
  for (let field = r.next(); field !== 0; field = r.next()) {
    if (field === 1) readObjectMeta(r, namespace.metadata);
    else r.skip();
  }
  return namespace;
};

export const NAMESPACE: ObjectKind<'Namespace', NamespaceRecord> = {
  kind: 'Namespace',
  namespaced: false,
  path: '/api/v1/namespaces',
  protobuf: readNamespace,
  convert: toNamespace,
  keyOf: (obj) => objectKey(obj, 'Namespace', false),
  // Nothing beyond the metadata.
  check: () => {},
  toObject: (record) => ({ kind: 'Namespace', metadata: { name: record.name } }),
};
