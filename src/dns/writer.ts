// Encodes the sections after the question into a Reply body, linear in its size. Names are
// compressed against earlier names, the question's included (it sits at offset 12 in every reply,
// in whatever case the client used, so an owner equal to the question name keeps that case).
// SRV targets are written uncompressed (RFC 2782).
import { TYPE } from './constants.ts';
import type { Reply } from './message.ts';

export type ResourceRecord =
  | { name: string; type: typeof TYPE.A | typeof TYPE.AAAA; ttl: number; address: string }
  | { name: string; type: typeof TYPE.CNAME | typeof TYPE.PTR | typeof TYPE.NS; ttl: number; target: string }
  | { name: string; type: typeof TYPE.SRV; ttl: number; priority: number; weight: number; port: number; target: string }
  | { name: string; type: typeof TYPE.TXT; ttl: number; text: readonly string[] }
  | { name: string; type: typeof TYPE.HINFO; ttl: number; cpu: string; os: string }
  | { name: string; type: typeof TYPE.MX; ttl: number; preference: number; exchange: string }
  | {
      name: string;
      type: typeof TYPE.SOA;
      ttl: number;
      mname: string;
      rname: string;
      serial: number;
      refresh: number;
      retry: number;
      expire: number;
      minimum: number;
    };

/** Any other type, RDATA as received from an upstream (RFC 3597: such RDATA is never compressed). */
export interface RawRecord {
  readonly name: string;
  readonly type: number;
  readonly ttl: number;
  readonly rdata: Uint8Array;
}

export type WireRecord = ResourceRecord | RawRecord;

export interface Sections {
  readonly rcode: number;
  readonly authoritative: boolean;
  readonly answer: readonly ResourceRecord[];
  readonly authority: readonly ResourceRecord[];
  readonly additional: readonly ResourceRecord[];
  /** See Reply.chase. */
  readonly chase?: string;
}

const POINTER_LIMIT = 0x3fff;

/** Octets a presentation-form label takes on the wire (`\DDD` is one octet). */
function labelOctets(label: string): number {
  let n = label.length;
  for (let i = 0; i < label.length; i++) if (label.charCodeAt(i) === 92 /* \ */) n -= 3;
  return n;
}

/** Wire length of a name as the query parser writes it (lower-case, `\DDD` escapes, no trailing dot). */
export function nameOctets(name: string): number {
  if (name === '') return 1;
  let n = 1;
  for (const label of name.split('.')) n += labelOctets(label) + 1;
  return n;
}

export function ipv4Bytes(address: string, out: Uint8Array, at: number): boolean {
  const parts = address.split('.');
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const v = Number(parts[i]);
    if (!Number.isInteger(v) || v < 0 || v > 255 || parts[i] === '') return false;
    out[at + i] = v;
  }
  return true;
}

/** Parses any valid IPv6 text form (`::`, embedded IPv4) into 16 bytes. */
export function ipv6Bytes(address: string, out: Uint8Array, at: number): boolean {
  let text = address;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const words: number[] = [];
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const parseHalf = (half: string, allowV4: boolean): number[] | null => {
    if (half === '') return [];
    const out16: number[] = [];
    const groups = half.split(':');
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i] ?? '';
      if (allowV4 && i === groups.length - 1 && g.includes('.')) {
        const v4 = new Uint8Array(4);
        if (!ipv4Bytes(g, v4, 0)) return null;
        out16.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out16.push(parseInt(g, 16));
    }
    return out16;
  };
  if (halves.length === 2) {
    const head = parseHalf(halves[0] ?? '', false);
    const tail = parseHalf(halves[1] ?? '', true);
    if (!head || !tail || head.length + tail.length > 7) return false;
    words.push(...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail);
  } else {
    const all = parseHalf(text, true);
    if (all?.length !== 8) return false;
    words.push(...all);
  }
  for (let i = 0; i < 8; i++) {
    const w = words[i] ?? 0;
    out[at + 2 * i] = w >> 8;
    out[at + 2 * i + 1] = w & 0xff;
  }
  return true;
}

/** Canonical (RFC 5952) text of an IPv6 address, or null when it does not parse. */
export function canonicalIPv6(address: string): string | null {
  const b = new Uint8Array(16);
  if (!ipv6Bytes(address, b, 0)) return null;
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(((b[2 * i] ?? 0) << 8) | (b[2 * i + 1] ?? 0));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export class ReplyWriter {
  #buf: Buffer;
  #len = 0;
  /** Message offset of body byte 0: just past the question. */
  readonly #base: number;
  readonly #names = new Map<string, number>();
  readonly #compress: boolean;

  /**
   * With `compress` false no name is written as a pointer, so the body is valid after a question
   * of any length (a template's fixed records, encoded once for every name they answer).
   */
  constructor(questionName: string, initialSize = 256, compress = true) {
    this.#buf = Buffer.allocUnsafe(initialSize);
    this.#compress = compress;
    this.#base = 12 + nameOctets(questionName) + 4;
    // Register the question's suffixes so answers can point into it.
    if (questionName !== '') {
      const labels = questionName.split('.');
      let offset = 12;
      for (let i = 0; i < labels.length && offset <= POINTER_LIMIT; i++) {
        this.#names.set(labels.slice(i).join('.'), offset);
        offset += labelOctets(labels[i] ?? '') + 1;
      }
    }
  }

  #ensure(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.#buf.copy(next, 0, 0, this.#len);
    this.#buf = next;
  }

  #u8(v: number): void {
    this.#ensure(1);
    this.#buf[this.#len++] = v;
  }
  #u16(v: number): void {
    this.#ensure(2);
    this.#buf.writeUInt16BE(v, this.#len);
    this.#len += 2;
  }
  #u32(v: number): void {
    this.#ensure(4);
    this.#buf.writeUInt32BE(v >>> 0, this.#len);
    this.#len += 4;
  }

  #label(label: string): void {
    const octets = labelOctets(label);
    this.#ensure(octets + 1);
    this.#buf[this.#len++] = octets;
    for (let i = 0; i < label.length; i++) {
      const c = label.charCodeAt(i);
      if (c === 92 && i + 3 < label.length) {
        this.#buf[this.#len++] = Number(label.slice(i + 1, i + 4));
        i += 3;
      } else {
        this.#buf[this.#len++] = c & 0xff;
      }
    }
  }

  #name(name: string, compress: boolean): void {
    if (name === '') {
      this.#u8(0);
      return;
    }
    const labels = name.split('.');
    for (let i = 0; i < labels.length; i++) {
      const suffix = i === 0 ? name : labels.slice(i).join('.');
      const known = compress && this.#compress ? this.#names.get(suffix) : undefined;
      if (known !== undefined) {
        this.#u16(0xc000 | known);
        return;
      }
      const offset = this.#base + this.#len;
      if (offset <= POINTER_LIMIT && !this.#names.has(suffix)) this.#names.set(suffix, offset);
      this.#label(labels[i] ?? '');
    }
    this.#u8(0);
  }

  #characterString(text: string): void {
    const bytes = Buffer.from(text, 'utf8');
    const n = Math.min(bytes.length, 255);
    this.#u8(n);
    this.#ensure(n);
    bytes.copy(this.#buf, this.#len, 0, n);
    this.#len += n;
  }

  record(rr: WireRecord): void {
    this.#name(rr.name, true);
    this.#u16(rr.type);
    this.#u16(1); // class IN
    this.#u32(rr.ttl);
    this.#u16(0); // RDLENGTH, patched below
    const rdStart = this.#len;
    if ('rdata' in rr) {
      this.#ensure(rr.rdata.length);
      this.#buf.set(rr.rdata, this.#len);
      this.#len += rr.rdata.length;
      this.#buf.writeUInt16BE(rr.rdata.length, rdStart - 2);
      return;
    }
    switch (rr.type) {
      case TYPE.A:
        this.#ensure(4);
        if (!ipv4Bytes(rr.address, this.#buf, this.#len)) throw new Error(`not an IPv4 address: ${rr.address}`);
        this.#len += 4;
        break;
      case TYPE.AAAA:
        this.#ensure(16);
        if (!ipv6Bytes(rr.address, this.#buf, this.#len)) throw new Error(`not an IPv6 address: ${rr.address}`);
        this.#len += 16;
        break;
      case TYPE.CNAME:
      case TYPE.PTR:
      case TYPE.NS:
        this.#name(rr.target, true);
        break;
      case TYPE.SRV:
        this.#u16(rr.priority);
        this.#u16(rr.weight);
        this.#u16(rr.port);
        this.#name(rr.target, false);
        break;
      case TYPE.TXT:
        for (const t of rr.text) this.#characterString(t);
        break;
      case TYPE.HINFO:
        this.#characterString(rr.cpu);
        this.#characterString(rr.os);
        break;
      case TYPE.MX:
        this.#u16(rr.preference);
        this.#name(rr.exchange, true);
        break;
      case TYPE.SOA:
        this.#name(rr.mname, true);
        this.#name(rr.rname, true);
        this.#u32(rr.serial);
        this.#u32(rr.refresh);
        this.#u32(rr.retry);
        this.#u32(rr.expire);
        this.#u32(rr.minimum);
        break;
    }
    this.#buf.writeUInt16BE(this.#len - rdStart, rdStart - 2);
  }

  /** The body bytes, copied out so the writer's spare capacity isn't kept alive. */
  bytes(): Uint8Array {
    // A fresh Uint8Array, not Buffer.from: small Buffers come from the shared pool, and a
    // long-lived one would pin an 8 KiB slab.
    const out = new Uint8Array(this.#len);
    out.set(this.#buf.subarray(0, this.#len));
    return out;
  }
}

/** What a reply says besides its records. */
export interface ReplyHead {
  readonly rcode: number;
  readonly authoritative: boolean;
  readonly recursionAvailable?: boolean;
  readonly chase?: string;
}

/**
 * A Reply holding `answer`, `authority` and `additional` written after `questionName`; with
 * `compress` false, without pointers (see ReplyWriter).
 */
export function writeReply(
  questionName: string,
  head: ReplyHead,
  answer: readonly WireRecord[],
  authority: readonly WireRecord[],
  additional: readonly WireRecord[],
  compress = true,
): Reply {
  const writer = new ReplyWriter(questionName, 256, compress);
  for (const rr of answer) writer.record(rr);
  for (const rr of authority) writer.record(rr);
  for (const rr of additional) writer.record(rr);
  return {
    rcode: head.rcode,
    authoritative: head.authoritative,
    ...(head.recursionAvailable === true ? { recursionAvailable: true } : {}),
    ancount: answer.length,
    nscount: authority.length,
    arcount: additional.length,
    body: writer.bytes(),
    ...(head.chase !== undefined ? { chase: head.chase } : {}),
  };
}

export function encodeReply(questionName: string, sections: Sections): Reply {
  return writeReply(questionName, sections, sections.answer, sections.authority, sections.additional);
}
