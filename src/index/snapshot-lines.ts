// The snapshot's lines written as bytes straight into a reused buffer: exactly the text of
// records.ts objectLine (JSON.stringify of toObject), without the objects, strings and arrays
// that building it makes. At 150k pods that garbage started a major GC of the whole heap every
// other write; this makes none per line.
import type { IndexView } from './index.ts';
import type { PlainPodsCopy } from './pod-table.ts';
import type { AnyRecord } from '../objects/kinds.ts';
import type { EndpointSliceRecord } from '../objects/endpoint-slice.ts';
import type { NamespaceRecord } from '../objects/namespace.ts';
import type { PodRecord } from '../objects/pod.ts';
import type { PortRecord } from '../objects/ports.ts';
import type { ServiceRecord } from '../objects/service.ts';

const ascii = (text: string) => Buffer.from(text, 'latin1');
const NAMESPACE_START = ascii('{"kind":"Namespace","metadata":{"name":');
const NAMESPACE_END = ascii('}}\n');
const SERVICE_START = ascii('{"kind":"Service","metadata":{"namespace":');
const NAME = ascii(',"name":');
const SPEC_EXTERNAL = ascii('},"spec":{"type":"ExternalName","externalName":');
const SPEC_HEADLESS = ascii('},"spec":{"clusterIP":"None"');
const SPEC_CLUSTER_IPS = ascii('},"spec":{"clusterIPs":[');
const PORTS = ascii(',"ports":[');
const PORT_NAME = ascii('{"name":');
const PORT_PROTOCOL = ascii(',"protocol":');
const PORT_PORT = ascii(',"port":');
const PUBLISH_NOT_READY = ascii(',"publishNotReadyAddresses":true');
const SLICE_START = ascii('{"kind":"EndpointSlice","metadata":{"namespace":');
const SLICE_LABELS = ascii(',"labels":{"kubernetes.io/service-name":');
const SLICE_ENDPOINTS = ascii('},"endpoints":[');
const ENDPOINT_ADDRESSES = ascii('{"addresses":[');
const ENDPOINT_HOSTNAME = ascii('],"hostname":');
const ENDPOINT_READY = ascii('],"conditions":{"ready":true}}');
const ENDPOINT_NOT_READY = ascii('],"conditions":{"ready":false}}');
const ENDPOINT_HOSTNAME_READY = ascii(',"conditions":{"ready":true}}');
const ENDPOINT_HOSTNAME_NOT_READY = ascii(',"conditions":{"ready":false}}');
const POD_START = ascii('{"kind":"Pod","metadata":{"namespace":');
const POD_SPEC = ascii('},"spec":{"hostname":');
const POD_SUBDOMAIN = ascii(',"subdomain":');
const POD_STATUS = ascii('},"status":{"podIPs":[');
const POD_IP = ascii('{"ip":');
const POD_READY_END = ascii('],"conditions":[{"type":"Ready","status":"True"}]}}\n');
const POD_END = ascii(']}}\n');
const LINE_END = ascii('}\n');
const SERVICE_END = ascii('}}\n');
const HEX = ascii('0123456789abcdef');
/** JSON.stringify's short escapes, by character code (0: none). */
const SHORT_ESCAPE = new Uint8Array(0x60);
for (const [code, letter] of [
  [0x08, 'b'],
  [0x09, 't'],
  [0x0a, 'n'],
  [0x0c, 'f'],
  [0x0d, 'r'],
  [0x22, '"'],
  [0x5c, '\\'],
] as const)
  SHORT_ESCAPE[code] = letter.charCodeAt(0);

/**
 * The buffer lines are written into. A line is written between begin() and end(); when it does
 * not fit, end() says so and commits nothing, and the caller writes the buffer out and tries the
 * line again (grow() for a line longer than the whole buffer).
 */
export class LineBuffer {
  buffer: Buffer;
  /** Bytes of complete lines. */
  used = 0;
  #at = 0;
  #full = false;

  constructor(bytes: number) {
    this.buffer = Buffer.allocUnsafe(bytes);
  }

  begin(): void {
    this.#at = this.used;
    this.#full = false;
  }

  /** True when the line fit, and it is committed; false when nothing of it is. */
  end(): boolean {
    if (this.#full) return false;
    this.used = this.#at;
    return true;
  }

  /** For a line that does not fit an empty buffer. */
  grow(): void {
    const bigger = Buffer.allocUnsafe(this.buffer.length * 2);
    this.buffer.copy(bigger, 0, 0, this.used);
    this.buffer = bigger;
  }

  /** Room for `bytes` more at the cursor; else the line is marked as not fitting. */
  #room(bytes: number): boolean {
    if (this.#full) return false;
    if (this.#at + bytes <= this.buffer.length) return true;
    this.#full = true;
    return false;
  }

  bytes(piece: Uint8Array): void {
    if (!this.#room(piece.length)) return;
    this.buffer.set(piece, this.#at);
    this.#at += piece.length;
  }

  byte(b: number): void {
    if (this.#room(1)) this.buffer[this.#at++] = b;
  }

  /** `text` as a JSON string, quotes included: JSON.stringify's text, as UTF-8. */
  string(text: string, from = 0, to = text.length): void {
    // At most 6 bytes a UTF-16 unit (`\u00XX`, `\udXXX`; UTF-8 takes at most 3, or 4 for two).
    if (!this.#room(2 + 6 * (to - from))) return;
    const out = this.buffer;
    let at = this.#at;
    out[at++] = 0x22;
    for (let i = from; i < to; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x80) {
        if (c >= 0x20 && c !== 0x22 && c !== 0x5c) out[at++] = c;
        else at = writeEscape(out, at, c);
      } else if (c < 0x800) {
        out[at++] = 0xc0 | (c >> 6);
        out[at++] = 0x80 | (c & 63);
      } else if (c >= 0xd800 && c <= 0xdfff) {
        const next = i + 1 < to ? text.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          out[at++] = 0xf0 | (cp >> 18);
          out[at++] = 0x80 | ((cp >> 12) & 63);
          out[at++] = 0x80 | ((cp >> 6) & 63);
          out[at++] = 0x80 | (cp & 63);
          i++;
        } else {
          at = writeEscape(out, at, c); // a lone surrogate: JSON.stringify writes it as \udXXX
        }
      } else {
        out[at++] = 0xe0 | (c >> 12);
        out[at++] = 0x80 | ((c >> 6) & 63);
        out[at++] = 0x80 | (c & 63);
      }
    }
    out[at++] = 0x22;
    this.#at = at;
  }

  /** UTF-8 bytes `src[from, to)` as a JSON string, quotes included. */
  utf8String(src: Uint8Array, from: number, to: number): void {
    if (!this.#room(2 + 6 * (to - from))) return;
    const out = this.buffer;
    let at = this.#at;
    out[at++] = 0x22;
    for (let i = from; i < to; i++) {
      const b = src[i] as number;
      if (b >= 0x20 && b !== 0x22 && b !== 0x5c) out[at++] = b;
      else at = writeEscape(out, at, b);
    }
    out[at++] = 0x22;
    this.#at = at;
  }

  /** A number as JSON writes it. */
  number(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) {
      const text = JSON.stringify(n); // not a port number a record holds; rare enough to allocate
      if (this.#room(text.length)) this.#at += this.buffer.write(text, this.#at, 'latin1');
      return;
    }
    let digits = 1;
    for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    if (!this.#room(digits)) return;
    let at = this.#at + digits;
    this.#at = at;
    let rest = n;
    do {
      this.buffer[--at] = 0x30 + (rest % 10);
      rest = Math.floor(rest / 10);
    } while (rest > 0);
  }

  /** An IPv4 address held as an int32, as a JSON string. */
  v4String(v4: number): void {
    if (!this.#room(17)) return;
    const out = this.buffer;
    let at = this.#at;
    out[at++] = 0x22;
    at = octet(out, at, (v4 >>> 24) & 255);
    out[at++] = 0x2e;
    at = octet(out, at, (v4 >>> 16) & 255);
    out[at++] = 0x2e;
    at = octet(out, at, (v4 >>> 8) & 255);
    out[at++] = 0x2e;
    at = octet(out, at, v4 & 255);
    out[at++] = 0x22;
    this.#at = at;
  }
}

/** Writes the JSON escape of a code unit below 0x80 that needs one, or of a lone surrogate. */
function writeEscape(out: Buffer, at: number, c: number): number {
  out[at++] = 0x5c;
  const short = c < 0x60 ? (SHORT_ESCAPE[c] as number) : 0;
  if (short !== 0) {
    out[at++] = short;
    return at;
  }
  out[at++] = 0x75;
  out[at++] = HEX[(c >> 12) & 15] as number;
  out[at++] = HEX[(c >> 8) & 15] as number;
  out[at++] = HEX[(c >> 4) & 15] as number;
  out[at++] = HEX[c & 15] as number;
  return at;
}

function octet(out: Buffer, at: number, n: number): number {
  if (n >= 100) out[at++] = 0x30 + Math.floor(n / 100);
  if (n >= 10) out[at++] = 0x30 + (Math.floor(n / 10) % 10);
  out[at++] = 0x30 + (n % 10);
  return at;
}

function stringList(out: LineBuffer, list: readonly string[]): void {
  for (let i = 0; i < list.length; i++) {
    if (i > 0) out.byte(0x2c);
    out.string(list[i] as string);
  }
}

function ports(out: LineBuffer, list: readonly PortRecord[]): void {
  out.bytes(PORTS);
  for (let i = 0; i < list.length; i++) {
    const p = list[i] as PortRecord;
    if (i > 0) out.byte(0x2c);
    out.bytes(PORT_NAME);
    out.string(p.name);
    out.bytes(PORT_PROTOCOL);
    out.string(p.protocol);
    out.bytes(PORT_PORT);
    out.number(p.port);
    out.byte(0x7d);
  }
  out.byte(0x5d);
}

export function namespaceLine(out: LineBuffer, ns: NamespaceRecord): void {
  out.bytes(NAMESPACE_START);
  out.string(ns.name);
  out.bytes(NAMESPACE_END);
}

export function serviceLine(out: LineBuffer, svc: ServiceRecord): void {
  out.bytes(SERVICE_START);
  out.string(svc.namespace);
  out.bytes(NAME);
  out.string(svc.name);
  if (svc.kind === 'ExternalName') {
    out.bytes(SPEC_EXTERNAL);
    out.string(svc.externalName);
  } else if (svc.kind === 'Headless') {
    out.bytes(SPEC_HEADLESS);
  } else {
    out.bytes(SPEC_CLUSTER_IPS);
    stringList(out, svc.clusterIPs);
    out.byte(0x5d);
  }
  if (svc.ports.length > 0) ports(out, svc.ports);
  if (svc.publishNotReadyAddresses) out.bytes(PUBLISH_NOT_READY);
  out.bytes(SERVICE_END);
}

export function sliceLine(out: LineBuffer, slice: EndpointSliceRecord): void {
  out.bytes(SLICE_START);
  out.string(slice.namespace);
  out.bytes(NAME);
  out.string(slice.name);
  if (slice.service) {
    out.bytes(SLICE_LABELS);
    out.string(slice.service);
    out.byte(0x7d);
  }
  out.bytes(SLICE_ENDPOINTS);
  const endpoints = slice.endpoints;
  for (let i = 0; i < endpoints.length; i++) {
    const e = endpoints[i]!;
    if (i > 0) out.byte(0x2c);
    out.bytes(ENDPOINT_ADDRESSES);
    stringList(out, e.addresses);
    if (e.hostname) {
      out.bytes(ENDPOINT_HOSTNAME);
      out.string(e.hostname);
      out.bytes(e.ready ? ENDPOINT_HOSTNAME_READY : ENDPOINT_HOSTNAME_NOT_READY);
    } else {
      out.bytes(e.ready ? ENDPOINT_READY : ENDPOINT_NOT_READY);
    }
  }
  out.byte(0x5d);
  if (slice.ports.length > 0) ports(out, slice.ports);
  out.bytes(LINE_END);
}

export function podLine(out: LineBuffer, pod: PodRecord): void {
  out.bytes(POD_START);
  out.string(pod.namespace);
  out.bytes(NAME);
  out.string(pod.name);
  if (pod.hostname || pod.subdomain) {
    out.bytes(POD_SPEC);
    out.string(pod.hostname);
    out.bytes(POD_SUBDOMAIN);
    out.string(pod.subdomain);
  }
  out.bytes(POD_STATUS);
  for (let i = 0; i < pod.ips.length; i++) {
    if (i > 0) out.byte(0x2c);
    out.bytes(POD_IP);
    out.string(pod.ips[i] as string);
    out.byte(0x7d);
  }
  out.bytes(pod.ready ? POD_READY_END : POD_END);
}

/**
 * The line of a plain pod as the pod table holds it, without making its record: `key` is
 * `ns/name`, `ips` an IPv4 address as an int32 or the addresses joined by ' '. Plain pods are
 * written as ready (the table does not keep readiness: DNS never reads it for them).
 */
export function plainPodLine(out: LineBuffer, key: string, ips: number | string): void {
  const slash = key.indexOf('/');
  out.bytes(POD_START);
  out.string(key, 0, slash);
  out.bytes(NAME);
  out.string(key, slash + 1);
  out.bytes(POD_STATUS);
  if (typeof ips === 'number') {
    out.bytes(POD_IP);
    out.v4String(ips);
    out.byte(0x7d);
  } else {
    let from = 0;
    while (from < ips.length) {
      let space = ips.indexOf(' ', from);
      if (space < 0) space = ips.length;
      if (from > 0) out.byte(0x2c);
      out.bytes(POD_IP);
      out.string(ips, from, space);
      out.byte(0x7d);
      from = space + 1;
    }
  }
  out.bytes(POD_READY_END);
}

/**
 * The line of a plain pod from the pod table's arrays: its key's bytes (`ns/name`, after a 2-byte
 * little-endian length) at `offset` of `arena`, and its IPv4 address as an int32.
 */
export function tablePodLine(out: LineBuffer, arena: Uint8Array, offset: number, v4: number): void {
  const start = offset + 2;
  const end = start + ((arena[offset] as number) | ((arena[offset + 1] as number) << 8));
  let slash = start;
  while (slash < end && arena[slash] !== 0x2f) slash++;
  out.bytes(POD_START);
  out.utf8String(arena, start, slash);
  out.bytes(NAME);
  out.utf8String(arena, slash + 1, end);
  out.bytes(POD_STATUS);
  out.bytes(POD_IP);
  out.v4String(v4);
  out.byte(0x7d);
  out.bytes(POD_READY_END);
}

/** Why ViewLines.fill returned. */
export const FULL = 0;
export const SLICE_OVER = 1;
export const DONE = 2;

/** Lines between two looks at the clock. */
const CLOCK_EVERY = 64;

/**
 * The lines of a view, in the file's order (namespaces, services, slices, pods), a slice at a
 * time: fill() writes lines until the buffer is full or the slice's time is up, and the next
 * call goes on from there.
 */
export class ViewLines {
  /** Lines written: the count on the end line. */
  objects = 0;
  readonly #lists: readonly (readonly AnyRecord[])[];
  readonly #table: PlainPodsCopy;
  #phase = 0;
  #i = 0;

  constructor(view: IndexView) {
    const list = <T>(records: Iterable<T>): readonly T[] => (Array.isArray(records) ? records : [...records]);
    this.#lists = [list(view.records('Namespace')), list(view.records('Service')), list(view.records('EndpointSlice')), view.pods.named];
    this.#table = view.pods.table;
  }

  /** FULL (the line that did not fit is written by the next call), SLICE_OVER or DONE. */
  fill(out: LineBuffer, deadline: number): number {
    for (; this.#phase < this.#lists.length; this.#phase++, this.#i = 0) {
      const list = this.#lists[this.#phase]!;
      const phase = this.#phase;
      while (this.#i < list.length) {
        out.begin();
        const record = list[this.#i]!;
        if (phase === 0) namespaceLine(out, record as NamespaceRecord);
        else if (phase === 1) serviceLine(out, record as ServiceRecord);
        else if (phase === 2) sliceLine(out, record as EndpointSliceRecord);
        else podLine(out, record as PodRecord);
        if (!out.end()) return FULL;
        this.#i++;
        if (this.#counted(deadline)) return SLICE_OVER;
      }
    }
    const table = this.#table;
    if (this.#phase === this.#lists.length) {
      const arena = table.arena;
      for (; this.#i < table.slots; this.#i++) {
        const at = table.at(this.#i);
        if (at === 0) continue;
        out.begin();
        tablePodLine(out, arena, at - 1, table.v4(this.#i));
        if (!out.end()) return FULL;
        if (this.#counted(deadline)) {
          this.#i++;
          return SLICE_OVER;
        }
      }
      this.#phase++;
      this.#i = 0;
    }
    const other = table.other;
    while (this.#i < other.length) {
      const entry = other[this.#i]!;
      out.begin();
      plainPodLine(out, entry[0], entry[1]);
      if (!out.end()) return FULL;
      this.#i++;
      if (this.#counted(deadline)) return SLICE_OVER;
    }
    return DONE;
  }

  /** Counts a line; true when the slice is over. */
  #counted(deadline: number): boolean {
    return ++this.objects % CLOCK_EVERY === 0 && performance.now() >= deadline;
  }
}
