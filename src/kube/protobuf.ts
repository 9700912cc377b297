// Lists in the apiserver's protobuf encoding (`application/vnd.kubernetes.protobuf`), the one
// client-go, and so CoreDNS, asks for. A Pod as JSON is ~5.5 KB once managedFields, containers and
// statuses are in it, and JSON.parse must build all of it for us to keep six fields. In protobuf
// every field is a tag and a length: a field DNS does not read is skipped with one jump, and only
// the few strings DNS keeps are ever decoded. Watches stay JSON: one small object per event.
//
// The body is `k8s\0` then a runtime.Unknown whose `raw` holds the list message; this reads the
// envelope, the list and a Status, and each kind's module (src/objects/) reads its items. The
// readers are written by hand from the field numbers of k8s.io/api core/v1 and discovery/v1 and
// apimachinery meta/v1 (generated.proto); the tests check them against the double's encoder, which
// takes its numbers from those files.
import type { ListPage } from './types.ts';
import type { ItemReader, RawObject } from '../objects/meta.ts';
import { ProtobufError, WireReader } from '../objects/wire.ts';

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

const MAGIC = [0x6b, 0x38, 0x73, 0x00]; // "k8s\0"

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
    } else if (field === 3) {
      // contentEncoding: the apiserver never compresses inside the envelope; if it ever did, the
      // bytes would not be a list and had better fail here, by name.
      const encoding = unknown.string();
      if (encoding !== '') throw new ProtobufError(`content encoding "${encoding}" inside the envelope`);
    } else unknown.skip();
  }
  if (!raw) throw new ProtobufError('the envelope holds no object');
  return { kind, object: new WireReader(body, raw[0], raw[1]) };
}

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
    } else list.skip();
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
