// The protobuf wire format, as the per-kind readers of list items use it (pod.ts, service.ts,
// ...): a cursor over a message's fields, and the few helpers that let a reader keep only the
// strings DNS needs. The envelope and the list around the items are read in kube/protobuf.ts.
// Fields are read wherever they appear and unknown ones are skipped, as protobuf allows a newer
// apiserver to add them.
import { ClusterDnsError } from '../base/errors.ts';

/** A body that is not the protobuf it claims to be: truncated, or a wire type that cannot be. */
export class ProtobufError extends ClusterDnsError {
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
 * Field 2 of a message whose field 1 holds exactly `key`, else null; nothing else is decoded.
 * A map<string, string> entry (key = 1, value = 2) and a PodCondition (type = 1, status = 2) alike.
 */
export function valueWhereKey(r: WireReader, key: Buffer, known?: KnownStrings): string | null {
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
export type KnownStrings = readonly (readonly [Buffer, string])[];
export const knownStrings = (...texts: string[]): KnownStrings => texts.map((text) => [Buffer.from(text), text] as const);

/** The known string these bytes spell, without decoding them; else the bytes decoded. */
export function knownOrDecoded(buf: Buffer, start: number, end: number, strings?: KnownStrings): string {
  if (strings) for (const [bytes, text] of strings) if (sameBytes(buf, start, end, bytes)) return text;
  return start === end ? '' : buf.toString('utf8', start, end);
}

/**
 * Whether bytes [start, end) of `buf` are `expected`. A loop: the bytes compared here are a few
 * (a namespace, a condition type), and a native compare costs more to call than they take.
 */
export function sameBytes(buf: Buffer, start: number, end: number, expected: Uint8Array): boolean {
  const length = expected.length;
  if (end - start !== length) return false;
  for (let i = 0; i < length; i++) if (buf[start + i] !== expected[i]) return false;
  return true;
}

/**
 * `item` added to `list`, which starts as a one-element array: most lists here hold one item (a
 * pod's IP, its Ready condition), and an empty array's first push reserves room for seventeen.
 */
export function append<T>(list: T[] | undefined, item: T): T[] {
  if (list === undefined) return [item];
  list.push(item);
  return list;
}

/** Field 1 of a message holding one string (PodIP.ip, HostIP.ip). */
export function readFirstString(r: WireReader): string {
  const outer = r.enter();
  let value = '';
  for (let field = r.next(); field !== 0; field = r.next()) {
    if (field === 1) value = r.string();
    else r.skip();
  }
  r.leave(outer);
  return value;
}
