// The apiserver's protobuf encoding, written from JSON objects by the field numbers of the real
// .proto files (k8s-proto-schema.ts), for the double to serve lists as the apiserver does to a
// client that accepts `application/vnd.kubernetes.protobuf`. A JSON field the schema does not
// know is an error, not silently dropped: what the double serves must be the whole object.
// Fields are written in field-number order, as Go's generated marshallers do; a JSON null is
// left out (an unset pointer).
import { MESSAGES, type FieldSpec } from './k8s-proto-schema.ts';

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

const VARINT = 0;
const FIXED64 = 1;
const BYTES = 2;

const SMALL = Array.from({ length: 128 }, (_, i) => Buffer.from([i]));

function varint(value: number | bigint): Buffer {
  if (typeof value === 'number' && value >= 0 && Number.isSafeInteger(value)) {
    return value < 128 ? SMALL[value]! : Buffer.from(varintLatin1(value), 'latin1');
  }
  // Negative int32/int64 values are ten bytes of two's complement, as Go writes them.
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}

function tag(field: number, wireType: number): Buffer {
  return varint(field * 8 + wireType);
}

function delimited(field: number, bytes: Buffer): Buffer[] {
  return [tag(field, BYTES), varint(bytes.length), bytes];
}

const JSON_NAMES = new Map<string, Set<string>>();
const SORTED = new Map<string, readonly FieldSpec[]>();

/** JSON names of a message's fields, following inlined (embedded) messages. */
function jsonNames(type: string): Set<string> {
  const known = JSON_NAMES.get(type);
  if (known) return known;
  const names = new Set<string>();
  JSON_NAMES.set(type, names);
  for (const spec of Object.values(messageOf(type))) {
    if (spec.json === '') for (const name of jsonNames(spec.type)) names.add(name);
    else names.add(spec.json);
  }
  return names;
}

function messageOf(type: string): Readonly<Record<string, FieldSpec>> {
  const message = MESSAGES[type];
  if (!message) throw new Error(`the protobuf schema has no message ${type}`);
  return message;
}

/** A message from its JSON form. */
export function encodeMessage(type: string, json: unknown): Buffer {
  switch (type) {
    // The types whose JSON form is a scalar.
    case 'Time': {
      const ms = Date.parse(String(json));
      if (Number.isNaN(ms)) throw new Error(`not a time: ${String(json)}`);
      const seconds = Math.floor(ms / 1000);
      return Buffer.concat([tag(1, VARINT), varint(seconds), ...(ms % 1000 ? [tag(2, VARINT), varint((ms % 1000) * 1e6)] : [])]);
    }
    case 'Quantity':
      return Buffer.concat(delimited(1, Buffer.from(String(json))));
    case 'IntOrString':
      return typeof json === 'number'
        ? Buffer.concat([tag(1, VARINT), varint(0), tag(2, VARINT), varint(json)])
        : Buffer.concat([tag(1, VARINT), varint(1), ...delimited(3, Buffer.from(String(json)))]);
    case 'FieldsV1':
      return Buffer.concat(delimited(1, Buffer.from(JSON.stringify(json))));
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error(`${type}: not an object: ${JSON.stringify(json)}`);
  const object = json as Record<string, unknown>;
  const known = jsonNames(type);
  for (const key of Object.keys(object)) if (!known.has(key)) throw new Error(`the protobuf schema has no field ${type}.${key}`);
  let fields = SORTED.get(type);
  if (!fields) SORTED.set(type, (fields = Object.values(messageOf(type)).sort((a, b) => a.n - b.n)));
  const parts: Buffer[] = [];
  for (const spec of fields) {
    if (spec.json === '') {
      // Inlined in JSON: the embedded message takes its fields from the same object.
      const own = jsonNames(spec.type);
      const slice = Object.fromEntries(Object.entries(object).filter(([k]) => own.has(k)));
      if (Object.keys(slice).length > 0) parts.push(...delimited(spec.n, encodeMessage(spec.type, slice)));
      continue;
    }
    const value = object[spec.json];
    if (value === undefined || value === null) continue;
    if (spec.map) {
      for (const [key, entry] of Object.entries(value as Record<string, unknown>)) {
        if (entry === null) continue;
        parts.push(...delimited(spec.n, Buffer.concat([...delimited(1, Buffer.from(key)), ...encodeField(2, spec.type, entry)])));
      }
    } else if (spec.repeated) {
      if (!Array.isArray(value)) throw new Error(`${type}.${spec.json}: not an array`);
      for (const item of value) parts.push(...encodeField(spec.n, spec.type, item));
    } else parts.push(...encodeField(spec.n, spec.type, value));
  }
  return Buffer.concat(parts);
}

function encodeField(field: number, type: string, value: unknown): Buffer[] {
  switch (type) {
    case 'string':
      return delimited(field, Buffer.from(String(value)));
    case 'bytes':
      return delimited(field, Buffer.from(String(value), 'base64'));
    case 'bool':
      return [tag(field, VARINT), varint(value ? 1 : 0)];
    case 'int32':
    case 'int64':
      return [tag(field, VARINT), varint(Number(value))];
    case 'double': {
      const bytes = Buffer.alloc(8);
      bytes.writeDoubleLE(Number(value));
      return [tag(field, FIXED64), bytes];
    }
    default:
      return delimited(field, encodeMessage(type, value));
  }
}

// Lists are put together as latin1 strings (one char per byte), not Buffers: the double keeps
// 150k encoded pods, and Buffers are external memory, whose growth makes V8 run full collections
// of the double's heap (gigabytes with real-sized pods) on both cores, under the server measured.

function varintLatin1(value: number): string {
  let out = '';
  while (value >= 0x80) {
    out += String.fromCharCode((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  return out + String.fromCharCode(value);
}

function delimitedLatin1(field: number, bytes: string): string {
  return varintLatin1(field * 8 + BYTES) + varintLatin1(bytes.length) + bytes;
}

/** The `k8s\0` prefix and runtime.Unknown around an encoded object, as latin1. */
export function envelopeLatin1(apiVersion: string, kind: string, raw: string): string {
  const typeMeta = delimitedLatin1(1, apiVersion) + delimitedLatin1(2, kind);
  // contentEncoding and contentType are written empty, as Go writes every non-pointer string.
  return (
    MAGIC.toString('latin1') + delimitedLatin1(1, typeMeta) + delimitedLatin1(2, raw) + delimitedLatin1(3, '') + delimitedLatin1(4, '')
  );
}

/** A `…List` message, as latin1: ListMeta, then each item's already encoded bytes. */
export function encodeListLatin1(metadata: Record<string, unknown>, items: readonly string[]): string {
  let list = delimitedLatin1(1, encodeMessage('ListMeta', metadata).toString('latin1'));
  for (const item of items) list += delimitedLatin1(2, item);
  return list;
}

export function envelope(apiVersion: string, kind: string, raw: Buffer): Buffer {
  return Buffer.from(envelopeLatin1(apiVersion, kind, raw.toString('latin1')), 'latin1');
}

export function encodeList(metadata: Record<string, unknown>, items: readonly Buffer[]): Buffer {
  return Buffer.from(
    encodeListLatin1(
      metadata,
      items.map((item) => item.toString('latin1')),
    ),
    'latin1',
  );
}

/** Whether an Accept header takes the protobuf encoding. */
export function acceptsProtobuf(accept: string | undefined): boolean {
  return accept?.split(',').some((type) => type.trim().split(';')[0] === PROTOBUF) ?? false;
}
