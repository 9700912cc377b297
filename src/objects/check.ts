// What a file may hold. The API server guarantees the shape of what a watch delivers; a file
// (--manifests, a --snapshot) guarantees nothing, and an object of the wrong shape must be
// refused by name, never turn into a TypeError in a converter or into answers that fail at query
// time (an A record for "banana"). Only the fields DNS reads are checked: the metadata here,
// each kind's own fields in its module (its `check`), through these helpers.
import { isIP } from 'node:net';
import { InvalidObjectError, type Json } from './meta.ts';

export type { Json };

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function fail(where: string, what: string): never {
  throw new InvalidObjectError(`${where}: ${what}`);
}

export function optionalObject(where: string, value: unknown, field: string): Json {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) fail(where, `${field} must be an object`);
  return value;
}

export function optionalString(where: string, value: unknown, field: string): void {
  if (value !== undefined && value !== null && typeof value !== 'string') fail(where, `${field} must be a string`);
}

export function optionalList(where: string, value: unknown, field: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail(where, `${field} must be a list`);
  return value;
}

export function address(where: string, value: unknown, field: string, family?: 4 | 6): void {
  const version = typeof value === 'string' ? isIP(value) : 0;
  if (version === 0 || (family !== undefined && version !== family)) {
    fail(where, `${field} ${JSON.stringify(value)} is not an ${family === undefined ? 'IP' : `IPv${family}`} address`);
  }
}

/** Checks any object's metadata; returns how errors name the object (`Service ns/name`). */
export function checkMeta(obj: Json): string {
  const metadata = optionalObject(String(obj.kind), obj.metadata, 'metadata');
  const where = `${String(obj.kind)} ${typeof metadata.namespace === 'string' ? `${metadata.namespace}/` : ''}${typeof metadata.name === 'string' ? metadata.name : '(no name)'}`;
  // A missing name is the converter's own error ("Service without metadata.name").
  optionalString(where, metadata.name, 'metadata.name');
  optionalString(where, metadata.namespace, 'metadata.namespace');
  const labels = optionalObject(where, metadata.labels, 'metadata.labels');
  for (const [key, value] of Object.entries(labels)) optionalString(where, value, `metadata.labels["${key}"]`);
  return where;
}
