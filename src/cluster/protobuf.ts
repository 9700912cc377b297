// Lists in the apiserver's protobuf encoding (`application/vnd.kubernetes.protobuf`), the one
// client-go, and so CoreDNS, asks for. A Pod as JSON is ~5.5 KB once managedFields, containers and
// statuses are in it, and JSON.parse must build all of it for us to keep six fields. In protobuf
// every field is a tag and a length: a field DNS does not read is skipped with one jump, and only
// the few strings DNS keeps are ever decoded. Watches stay JSON: one small object per event.
//
// The body is `k8s\0` then a runtime.Unknown whose `raw` holds the list message. The readers
// below are written by hand from the field numbers of k8s.io/api core/v1 and discovery/v1 and
// apimachinery meta/v1 (generated.proto); the tests check them against the double's encoder, which
// takes its numbers from those files. Fields are read wherever they appear and unknown ones are
// skipped, as protobuf allows a newer apiserver to add them.
import type { ListPage } from './api.ts';
import type { RawObject } from './reflector.ts';

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

const MAGIC = [0x6b, 0x38, 0x73, 0x00]; // "k8s\0"

/** A body that is not the protobuf it claims to be: truncated, or a wire type that cannot be. */
export class ProtobufError extends Error {
  override name = 'ProtobufError';
  readonly code = 'CDNS_ERR_PROTOBUF';
}

const VARINT = 0;
const FIXED64 = 1;
const BYTES = 2;
const FIXED32 = 5;

/**
 * A cursor over one message: `next()` moves to the next field and returns its number (0 at the
 * end), then exactly one of the read or skip methods consumes its value. Length-delimited values
 * are left as [valueStart, valueEnd) offsets, and a nested message is read in place by the same
 * cursor (enter, then leave), never copied.
 */
export class WireReader {
  readonly buf: Buffer;
  at: number;
  end: number;
  wireType = 0;
  valueStart = 0;
  valueEnd = 0;

  constructor(buf: Buffer, start = 0, end = buf.length) {
    if (end > buf.length || start > end) throw new ProtobufError(`bounds ${start}..${end} outside ${buf.length} bytes`);
    this.buf = buf;
    this.at = start;
    this.end = end;
  }

  /** The next field's number, or 0 when the message is done. */
  next(): number {
    if (this.at >= this.end) return 0;
    const key = this.varint();
    this.wireType = key & 7;
    const field = key >>> 3;
    if (field === 0) throw new ProtobufError(`field number 0 at byte ${this.at}`);
    return field;
  }

  varint(): number {
    const buf = this.buf;
    let at = this.at;
    let byte = at < this.end ? buf[at++]! : this.#truncated();
    let value = byte & 0x7f;
    let scale = 128;
    while (byte >= 0x80) {
      if (at >= this.end) this.#truncated();
      if (scale > 2 ** 63) throw new ProtobufError(`varint over 10 bytes at byte ${this.at}`);
      byte = buf[at++]!;
      // Multiplication, not shifts: lengths and counts pass 2^31 before they pass 2^53.
      value += (byte & 0x7f) * scale;
      scale *= 128;
    }
    this.at = at;
    return value;
  }

  /**
   * Moves past a length-delimited value and leaves its bounds in [valueStart, valueEnd): fields,
   * not a returned pair, as this runs for most fields of every item and a pair would be garbage.
   */
  bytes(): void {
    if (this.wireType !== BYTES) throw new ProtobufError(`wire type ${this.wireType} where bytes were expected at byte ${this.at}`);
    const length = this.varint();
    const start = this.at;
    const end = start + length;
    if (end > this.end) this.#truncated();
    this.valueStart = start;
    this.valueEnd = end;
    this.at = end;
  }

  /**
   * Continues inside the current field's value, a nested message, until leave(outer) with what
   * this returned: the same reader goes in and out, so a nested message costs no object.
   */
  enter(): number {
    this.bytes();
    const outer = this.end;
    this.at = this.valueStart;
    this.end = this.valueEnd;
    return outer;
  }

  /** Back in the enclosing message, after the nested one (whose fields must all have been read). */
  leave(outer: number): void {
    this.at = this.end;
    this.end = outer;
  }

  string(): string {
    this.bytes();
    return this.valueStart === this.valueEnd ? '' : this.buf.toString('utf8', this.valueStart, this.valueEnd);
  }

  /** An int32 field (ports, counts); negative values, ten bytes on the wire, are not expected. */
  int32(): number {
    if (this.wireType !== VARINT) throw new ProtobufError(`wire type ${this.wireType} where an integer was expected at byte ${this.at}`);
    const value = this.varint();
    return value > 0x7fffffff ? value - 2 ** 64 : value;
  }

  bool(): boolean {
    if (this.wireType !== VARINT) throw new ProtobufError(`wire type ${this.wireType} where a bool was expected at byte ${this.at}`);
    return this.varint() !== 0;
  }

  /** Moves past the current field's value, whatever it is. */
  skip(): void {
    switch (this.wireType) {
      case VARINT:
        this.varint();
        return;
      case BYTES:
        this.bytes();
        return;
      case FIXED64:
        this.#advance(8);
        return;
      case FIXED32:
        this.#advance(4);
        return;
      default:
        // Groups (3, 4) are proto2 relics no Kubernetes message uses; 6 and 7 do not exist.
        throw new ProtobufError(`wire type ${this.wireType} at byte ${this.at}`);
    }
  }

  #advance(count: number): void {
    if (this.at + count > this.end) this.#truncated();
    this.at += count;
  }

  #truncated(): never {
    throw new ProtobufError(`message truncated at byte ${this.at} of ${this.end}`);
  }
}

/**
 * The object inside the `k8s\0` envelope: runtime.Unknown's `raw` (field 2), and its kind (from
 * typeMeta = 1: apiVersion = 1, kind = 2).
 */
export function unwrapEnvelope(body: Buffer): { kind: string; object: WireReader } {
  if (body.length < MAGIC.length || MAGIC.some((byte, i) => body[i] !== byte)) {
    throw new ProtobufError('the body does not start with the k8s protobuf prefix');
  }
  const unknown = new WireReader(body, MAGIC.length);
  let raw: [number, number] | null = null;
  let kind = '';
  for (let field = unknown.next(); field !== 0; field = unknown.next()) {
    if (field === 1) {
      const outer = unknown.enter();
      for (let f = unknown.next(); f !== 0; f = unknown.next()) {
        if (f === 2) kind = unknown.string();
        else unknown.skip();
      }
      unknown.leave(outer);
    } else if (field === 2) {
      unknown.bytes();
      raw = [unknown.valueStart, unknown.valueEnd];
    }
    else if (field === 3) {
      // contentEncoding: the apiserver never compresses inside the envelope; if it ever did, the
      // bytes would not be a list and had better fail here, by name.
      const encoding = unknown.string();
      if (encoding !== '') throw new ProtobufError(`content encoding "${encoding}" inside the envelope`);
    } else unknown.skip();
  }
  if (!raw) throw new ProtobufError('the envelope holds no object');
  return { kind, object: new WireReader(body, raw[0], raw[1]) };
}

/** Reads one list item in place; the object has the JSON field names and only what DNS reads. */
export type ItemReader = (buf: Buffer, start: number, end: number) => RawObject;

/**
 * A `…List` message (every kind's list: ListMeta metadata = 1, repeated items = 2). The items'
 * offsets are found up front, which checks the page's framing (a body cut short) before any item
 * reaches the index; each item is decoded, and can fail, only when the iteration reaches it.
 */
export function readList(body: Buffer, readItem: ItemReader): ListPage {
  const { kind, object: list } = unwrapEnvelope(body);
  // Any message would read as some list; only a list is one.
  if (!kind.endsWith('List')) throw new ProtobufError(`a ${kind || 'message without a kind'}, not a list`);
  const metadata: { resourceVersion?: string; continue?: string } = {};
  const bounds: number[] = [];
  for (let field = list.next(); field !== 0; field = list.next()) {
    if (field === 1) readListMeta(list, metadata);
    else if (field === 2) {
      list.bytes();
      bounds.push(list.valueStart, list.valueEnd);
    }
    else list.skip();
  }
  return { metadata, items: new PageItems(body, bounds, readItem) };
}

/**
 * A page's items, each decoded when the iteration reaches it. One pass, and one result object
 * reused for every item: a generator would make one per item, and a list has 150,000.
 */
class PageItems implements IterableIterator<RawObject> {
  readonly #body: Buffer;
  readonly #bounds: readonly number[];
  readonly #readItem: ItemReader;
  #next = 0;
  readonly #result: IteratorYieldResult<RawObject> = { value: {}, done: false };

  constructor(body: Buffer, bounds: readonly number[], readItem: ItemReader) {
    this.#body = body;
    this.#bounds = bounds;
    this.#readItem = readItem;
  }

  next(): IteratorResult<RawObject> {
    const at = this.#next;
    if (at >= this.#bounds.length) return { value: undefined, done: true };
    this.#next = at + 2;
    this.#result.value = this.#readItem(this.#body, this.#bounds[at]!, this.#bounds[at + 1]!);
    return this.#result;
  }

  [Symbol.iterator](): this {
    return this;
  }
}

/** meta/v1 ListMeta: resourceVersion = 2, continue = 3. */
function readListMeta(r: WireReader, into: { resourceVersion?: string; continue?: string }): void {
  const outer = r.enter();
  for (let field = r.next(); field !== 0; field = r.next()) {
    if (field === 2) into.resourceVersion = r.string();
    else if (field === 3) into.continue = r.string();
    else r.skip();
  }
  r.leave(outer);
}

/** meta/v1 Status, as the apiserver sends an error to a client that accepts protobuf. */
export function readStatus(body: Buffer): { message: string; reason: string } {
  const status = unwrapEnvelope(body).object;
  let message = '';
  let reason = '';
  for (let field = status.next(); field !== 0; field = status.next()) {
    if (field === 3) message = status.string();
    else if (field === 4) reason = status.string();
    else status.skip();
  }
  return { message, reason };
}

// ---- Pod (core/v1): the fields records.ts toPod reads ----

interface PodShape extends RawObject {
  metadata: MetaShape;
  spec: { hostname?: string; subdomain?: string };
  status: { phase?: string; podIP?: string; podIPs?: { ip: string }[]; conditions?: { type: 'Ready'; status: string }[] };
}

/** Pod: metadata = 1, spec = 2, status = 3. */
export const readPod: ItemReader = (buf, start, end) => {
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

interface MetaShape {
  name?: string;
  namespace?: string;
  deletionTimestamp?: true;
  labels?: Record<string, string>;
}

/**
 * ObjectMeta: name = 1, namespace = 3, deletionTimestamp = 9, labels = 11 (map entries: key = 1,
 * value = 2). Of the labels only `label` is kept, found by its bytes. An item's resourceVersion
 * (6) is not read: a list resumes from its own, in ListMeta.
 */
function readObjectMeta(r: WireReader, into: MetaShape, label?: Buffer): void {
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

/**
 * Field 2 of a message whose field 1 holds exactly `key`, else null; nothing else is decoded.
 * A map<string, string> entry (key = 1, value = 2) and a PodCondition (type = 1, status = 2) alike.
 */
function valueWhereKey(r: WireReader, key: Buffer, known?: KnownStrings): string | null {
  const outer = r.enter();
  let match = false;
  let valueStart = -1;
  let valueEnd = -1;
  for (let field = r.next(); field !== 0; field = r.next()) {
    if (field === 1) {
      r.bytes();
      match = sameBytes(r.buf, r.valueStart, r.valueEnd, key);
    } else if (field === 2) {
      r.bytes();
      valueStart = r.valueStart;
      valueEnd = r.valueEnd;
    } else r.skip();
  }
  r.leave(outer);
  if (!match) return null;
  return valueStart < 0 ? '' : knownOrDecoded(r.buf, valueStart, valueEnd, known);
}

/** Strings a field mostly holds (a phase, a condition's status), kept once with their bytes. */
type KnownStrings = readonly (readonly [Buffer, string])[];
const knownStrings = (...texts: string[]): KnownStrings => texts.map((text) => [Buffer.from(text), text] as const);
const PHASES = knownStrings('Running', 'Pending', 'Succeeded', 'Failed', 'Unknown');
const CONDITION_STATUSES = knownStrings('True', 'False', 'Unknown');

/** The known string these bytes spell, without decoding them; else the bytes decoded. */
function knownOrDecoded(buf: Buffer, start: number, end: number, strings?: KnownStrings): string {
  if (strings) for (const [bytes, text] of strings) if (sameBytes(buf, start, end, bytes)) return text;
  return start === end ? '' : buf.toString('utf8', start, end);
}

/**
 * Whether bytes [start, end) of `buf` are `expected`. A loop: the bytes compared here are a few
 * (a namespace, a condition type), and a native compare costs more to call than they take.
 */
function sameBytes(buf: Buffer, start: number, end: number, expected: Uint8Array): boolean {
  const length = expected.length;
  if (end - start !== length) return false;
  for (let i = 0; i < length; i++) if (buf[start + i] !== expected[i]) return false;
  return true;
}

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

/**
 * `item` added to `list`, which starts as a one-element array: most lists here hold one item (a
 * pod's IP, its Ready condition), and an empty array's first push reserves room for seventeen.
 */
function append<T>(list: T[] | undefined, item: T): T[] {
  if (list === undefined) return [item];
  list.push(item);
  return list;
}

const READY = Buffer.from('Ready');

/** Field 1 of a message holding one string (PodIP.ip, HostIP.ip). */
function readFirstString(r: WireReader): string {
  const outer = r.enter();
  let value = '';
  for (let field = r.next(); field !== 0; field = r.next()) {
    if (field === 1) value = r.string();
    else r.skip();
  }
  r.leave(outer);
  return value;
}

// ---- Namespace, Service (core/v1) and EndpointSlice (discovery/v1): what records.ts reads ----

/** Namespace: metadata = 1. */
export const readNamespace: ItemReader = (buf, start, end) => {
  const namespace = { metadata: {} as MetaShape };
  const r = new WireReader(buf, start, end);
  for (let field = r.next(); field !== 0; field = r.next()) {
    if (field === 1) readObjectMeta(r, namespace.metadata);
    else r.skip();
  }
  return namespace;
};

interface PortShape {
  name?: string;
  protocol?: string;
  port?: number;
}

interface ServiceShape extends RawObject {
  metadata: MetaShape;
  spec: { type?: string; clusterIP?: string; clusterIPs?: string[]; externalName?: string; ports?: PortShape[]; publishNotReadyAddresses?: boolean };
}

/** Service: metadata = 1, spec = 2. */
export const readService: ItemReader = (buf, start, end) => {
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
function readServiceSpec(r: WireReader, into: ServiceShape['spec']): void {
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

/** ServicePort and discovery/v1 EndpointPort alike: name = 1, protocol = 2, port = 3. */
function readPort(r: WireReader): PortShape {
  const outer = r.enter();
  const port: PortShape = {};
  for (let field = r.next(); field !== 0; field = r.next()) {
    if (field === 1) port.name = r.string();
    else if (field === 2) port.protocol = r.string();
    else if (field === 3) port.port = r.int32();
    else r.skip();
  }
  r.leave(outer);
  return port;
}

interface EndpointShape {
  addresses?: string[];
  hostname?: string;
  conditions?: { ready?: boolean };
}

interface EndpointSliceShape extends RawObject {
  metadata: MetaShape;
  addressType?: string;
  endpoints?: EndpointShape[];
  ports?: PortShape[];
}

const SERVICE_NAME_LABEL = Buffer.from('kubernetes.io/service-name');

/** EndpointSlice: metadata = 1, endpoints = 2, ports = 3, addressType = 4. */
export const readEndpointSlice: ItemReader = (buf, start, end) => {
  const slice: EndpointSliceShape = { metadata: {} };
  const r = new WireReader(buf, start, end);
  for (let field = r.next(); field !== 0; field = r.next()) {
    if (field === 1) readObjectMeta(r, slice.metadata, SERVICE_NAME_LABEL);
    else if (field === 2) slice.endpoints = append(slice.endpoints, readEndpoint(r));
    else if (field === 3) slice.ports = append(slice.ports, readPort(r));
    else if (field === 4) slice.addressType = r.string();
    else r.skip();
  }
  return slice;
};

/** Endpoint: addresses = 1, conditions = 2 (ready = 1; unset means ready), hostname = 3. */
function readEndpoint(r: WireReader): EndpointShape {
  const outer = r.enter();
  const endpoint: EndpointShape = {};
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
    else r.skip();
  }
  r.leave(outer);
  return endpoint;
}
