// Names as configuration writes them (hosts files, Corefile arguments, zone-file text) turned into
// the one form readQuery gives a query's name, so that a configured name and an asked one compare
// as plain strings: lower-case, labels joined by '.', no trailing dot ('' for the root), every
// byte outside [a-z0-9-_*] as \DDD. Also the zone test every handler with ZONES arguments needs.
import { MAX_LABEL_OCTETS, MAX_NAME_OCTETS } from './constants.ts';

/** Whether readQuery keeps byte `c` (already lower-cased) as a plain character. */
function plain(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f || c === 0x2a;
}

function escaped(byte: number): string {
  return `\\${String(byte).padStart(3, '0')}`;
}

/**
 * The canonical form of a presentation-format name (`Example.COM.`, `a\.b.example`, `\065.x`), or
 * null when it is not a valid domain name: an empty label, a label over 63 octets, a name over
 * 255, a bad escape. A trailing dot is optional ('.' and '' are the root). Non-ASCII text counts
 * as its UTF-8 bytes.
 */
export function canonicalName(text: string): string | null {
  if (text === '' || text === '.') return '';
  const quick = plainName(text);
  if (quick !== undefined) return quick;
  let out = '';
  let labelOctets = 0;
  let nameOctets = 1; // the root label
  let i = 0;
  const n = text.length;
  const addByte = (b: number): boolean => {
    const lower = b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
    out += plain(lower) ? String.fromCharCode(lower) : escaped(lower);
    return ++labelOctets <= MAX_LABEL_OCTETS;
  };
  // Bounded: every turn consumes at least one character of `text`.
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x2e /* . */) {
      if (labelOctets === 0) return null;
      nameOctets += labelOctets + 1;
      labelOctets = 0;
      i++;
      if (i === n) break; // the trailing dot
      out += '.';
      continue;
    }
    let cp: number;
    if (c === 0x5c /* \ */) {
      const d = text.slice(i + 1, i + 4);
      if (/^[0-9]{3}$/.test(d)) {
        const byte = Number(d);
        if (byte > 255) return null;
        i += 4;
        if (!addByte(byte)) return null;
        continue;
      }
      if (i + 1 >= n) return null;
      cp = text.codePointAt(i + 1) as number;
      i += cp > 0xffff ? 3 : 2;
    } else {
      cp = text.codePointAt(i) as number;
      i += cp > 0xffff ? 2 : 1;
    }
    if (cp < 0x80) {
      if (!addByte(cp)) return null;
    } else {
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) if (!addByte(b)) return null;
    }
  }
  if (labelOctets > 0) nameOctets += labelOctets + 1;
  return nameOctets > MAX_NAME_OCTETS ? null : out;
}

/**
 * The common case without building a string: already lower-case plain characters and dots. The
 * name (null when a label is empty or too long), or undefined when the full parse is needed.
 */
function plainName(text: string): string | null | undefined {
  const end = text.charCodeAt(text.length - 1) === 0x2e ? text.length - 1 : text.length;
  if (end > MAX_NAME_OCTETS - 2) return undefined;
  let label = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      if (label === 0) return null;
      label = 0;
    } else if (plain(c)) {
      if (++label > MAX_LABEL_OCTETS) return null;
    } else {
      return undefined;
    }
  }
  if (label === 0) return null;
  return end === text.length ? text : text.slice(0, end);
}

/** The name with its trailing dot, as CoreDNS's plugins see it ('.' for the root). */
export function fqdn(name: string): string {
  return name === '' ? '.' : `${name}.`;
}

/**
 * A set of zones (canonical names, '' for the root) and the longest one a name falls in, as
 * CoreDNS's `plugin.Zones.Matches`. The dotted suffixes are built once so a lookup allocates
 * nothing: it runs for every query that reaches a handler with ZONES.
 */
export class ZoneSet {
  readonly zones: readonly string[];
  readonly #suffixes: readonly string[];
  readonly #hasRoot: boolean;

  constructor(zones: readonly string[]) {
    // Longest first, so the first hit is the most specific zone.
    this.zones = [...new Set(zones)].sort((a, b) => b.length - a.length);
    this.#suffixes = this.zones.map((z) => `.${z}`);
    this.#hasRoot = this.zones.includes('');
  }

  /** The most specific zone holding `name`, or null. */
  match(name: string): string | null {
    const zones = this.zones;
    for (let i = 0; i < zones.length; i++) {
      const zone = zones[i] as string;
      if (zone === '') return '';
      if (name === zone || name.endsWith(this.#suffixes[i] as string)) return zone;
    }
    return null;
  }

  has(name: string): boolean {
    return this.#hasRoot || this.match(name) !== null;
  }
}
