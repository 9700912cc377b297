// One resource record in zone-file presentation format (RFC 1035 §5.1), as the template plugin's
// `answer "…"` lines produce it: `NAME [TTL] [CLASS] TYPE RDATA`, TTL and class in either order,
// parentheses and `;` comments, quoted strings with escapes. The origin is the root, so a name
// without a trailing dot is absolute anyway (as miekg/dns's NewRR reads it). Only the types the
// writer can encode are accepted; anything else is an error naming what is wrong.
import { TYPE, typeName } from './constants.ts';
import { canonicalName } from './name.ts';
import { canonicalIPv6, ipv4Bytes, type WireRecord } from './writer.ts';
import { ClusterDnsError } from '../base/errors.ts';

export class RecordTextError extends ClusterDnsError {
  override name = 'RecordTextError';
  readonly code = 'CDNS_ERR_RECORD_TEXT';
}

/** TTL when the text gives none: miekg/dns's default for NewRR. */
export const DEFAULT_RECORD_TTL = 3600;

interface Token {
  readonly text: string;
  readonly quoted: boolean;
}

function fail(text: string, why: string): never {
  throw new RecordTextError(`${why} in record "${text}"`);
}

function isBreak(c: string, quoted: boolean): boolean {
  if (quoted) return c === '"';
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '(' || c === ')' || c === ';' || c === '"';
}

/** The token from `i` to its end (backslash escapes kept whole for the reader) and where it ends. */
function scan(text: string, i: number, quoted: boolean): [string, number] {
  let value = '';
  while (i < text.length) {
    const c = text[i] as string;
    if (isBreak(c, quoted)) return [value, i];
    const escaped = c === '\\' && i + 1 < text.length;
    value += escaped ? c + (text[i + 1] as string) : c;
    i += escaped ? 2 : 1;
  }
  return [value, i];
}

/** Splits on blanks outside quotes; drops parentheses and comments; keeps escapes for the reader. */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = text.length;
  // Bounded: each branch consumes at least one character.
  while (i < n) {
    const c = text[i] as string;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '(' || c === ')') {
      i++;
    } else if (c === ';') {
      while (i < n && text[i] !== '\n') i++;
    } else if (c === '"') {
      const [value, end] = scan(text, i + 1, true);
      if (end >= n) fail(text, 'unterminated quoted string');
      tokens.push({ text: value, quoted: true });
      i = end + 1;
    } else {
      const [value, end] = scan(text, i, false);
      tokens.push({ text: value, quoted: false });
      i = end;
    }
  }
  return tokens;
}

const TTL_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** A TTL as digits, or BIND's unit form (`1h30m`, `2d`); null when it is neither. */
function ttlValue(token: string): number | null {
  if (/^[0-9]+$/.test(token)) {
    const v = Number(token);
    return v <= 0xffffffff ? v : null;
  }
  const parts = /^(?:[0-9]+[smhdwSMHDW])+$/.test(token) ? token.match(/[0-9]+[a-zA-Z]/g) : null;
  if (parts === null) return null;
  let total = 0;
  for (const p of parts) total += Number(p.slice(0, -1)) * (TTL_UNITS[p.slice(-1).toLowerCase()] ?? 0);
  return total <= 0xffffffff ? total : null;
}

const CLASSES = new Set(['IN', 'CH', 'CS', 'HS', 'NONE', 'ANY']);

function nameValue(text: string, token: Token | undefined, what: string): string {
  if (token === undefined) fail(text, `missing ${what}`);
  if (token.text === '@') return '';
  const name = canonicalName(token.text);
  if (name === null) fail(text, `bad ${what} "${token.text}"`);
  return name;
}

function u16(text: string, token: Token | undefined, what: string): number {
  if (token === undefined || !/^[0-9]+$/.test(token.text) || Number(token.text) > 0xffff) fail(text, `bad ${what} "${token?.text ?? ''}"`);
  return Number(token.text);
}

function u32(text: string, token: Token | undefined, what: string): number {
  const v = token === undefined ? null : ttlValue(token.text);
  if (v === null) fail(text, `bad ${what} "${token?.text ?? ''}"`);
  return v;
}

/** A <character-string>'s bytes: \DDD and \X escapes resolved, other text as UTF-8. */
function stringBytes(text: string, token: Token): number[] {
  const out: number[] = [];
  const s = token.text;
  for (let i = 0; i < s.length; ) {
    const c = s[i] as string;
    if (c === '\\' && i + 1 < s.length) {
      const d = s.slice(i + 1, i + 4);
      if (/^[0-9]{3}$/.test(d)) {
        if (Number(d) > 255) fail(text, `bad escape "\\${d}"`);
        out.push(Number(d));
        i += 4;
        continue;
      }
      const cp = s.codePointAt(i + 1) as number;
      out.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
      i += cp > 0xffff ? 3 : 2;
      continue;
    }
    const cp = s.codePointAt(i) as number;
    out.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
    i += cp > 0xffff ? 2 : 1;
  }
  return out;
}

/** TXT RDATA: one <character-string> per token; longer than 255 octets is split, as miekg/dns does. */
function txtRdata(text: string, tokens: readonly Token[]): Uint8Array {
  if (tokens.length === 0) fail(text, 'TXT without a string');
  const out: number[] = [];
  for (const token of tokens) {
    const bytes = stringBytes(text, token);
    if (bytes.length === 0) out.push(0);
    for (let i = 0; i < bytes.length; i += 255) {
      const chunk = bytes.slice(i, i + 255);
      out.push(chunk.length, ...chunk);
    }
  }
  if (out.length > 0xffff) fail(text, 'TXT longer than 65535 octets');
  return Uint8Array.from(out);
}

function expectEnd(text: string, rest: readonly Token[], count: number, type: string): void {
  if (rest.length > count) fail(text, `extra data after the ${type} RDATA: "${rest[count]?.text}"`);
}

/**
 * The record `text` describes, its names in canonical form. Throws RecordTextError for malformed
 * text, a class other than IN, or a type other than A, AAAA, CNAME, PTR, NS, MX, SRV, TXT, SOA.
 */
export function parseRecordText(text: string): WireRecord {
  const tokens = tokenize(text);
  const owner = nameValue(text, tokens[0], 'owner name');
  let at = 1;
  let ttl: number | null = null;
  let cls: string | null = null;
  // TTL and class, in either order, each at most once.
  for (let k = 0; k < 2 && at < tokens.length; k++) {
    const t = (tokens[at] as Token).text;
    const asTtl: number | null = ttl === null ? ttlValue(t) : null;
    if (asTtl !== null) {
      ttl = asTtl;
      at++;
    } else if (cls === null && (CLASSES.has(t.toUpperCase()) || /^CLASS[0-9]+$/i.test(t))) {
      cls = t.toUpperCase();
      at++;
    }
  }
  if (cls !== null && cls !== 'IN') fail(text, `class ${cls} (only IN records can be answered)`);
  const typeToken = tokens[at++];
  if (typeToken === undefined) fail(text, 'missing type');
  const typeText = typeToken.text.toUpperCase();
  const rest = tokens.slice(at);
  const base = { name: owner, ttl: ttl ?? DEFAULT_RECORD_TTL };
  switch (typeText) {
    case 'A': {
      const address = rest[0]?.text ?? '';
      if (!ipv4Bytes(address, new Uint8Array(4), 0) || !/^[0-9.]+$/.test(address)) fail(text, `bad IPv4 address "${address}"`);
      expectEnd(text, rest, 1, 'A');
      return { ...base, type: TYPE.A, address };
    }
    case 'AAAA': {
      const address = canonicalIPv6(rest[0]?.text ?? '');
      if (address === null || (rest[0]?.text ?? '').includes('%')) fail(text, `bad IPv6 address "${rest[0]?.text ?? ''}"`);
      expectEnd(text, rest, 1, 'AAAA');
      return { ...base, type: TYPE.AAAA, address };
    }
    case 'CNAME':
    case 'PTR':
    case 'NS': {
      const type = TYPE[typeText];
      const target = nameValue(text, rest[0], `${typeText} target`);
      expectEnd(text, rest, 1, typeText);
      return { ...base, type, target };
    }
    case 'MX': {
      const preference = u16(text, rest[0], 'MX preference');
      const exchange = nameValue(text, rest[1], 'MX exchange');
      expectEnd(text, rest, 2, 'MX');
      return { ...base, type: TYPE.MX, preference, exchange };
    }
    case 'SRV': {
      const priority = u16(text, rest[0], 'SRV priority');
      const weight = u16(text, rest[1], 'SRV weight');
      const port = u16(text, rest[2], 'SRV port');
      const target = nameValue(text, rest[3], 'SRV target');
      expectEnd(text, rest, 4, 'SRV');
      return { ...base, type: TYPE.SRV, priority, weight, port, target };
    }
    case 'SOA': {
      const mname = nameValue(text, rest[0], 'SOA mname');
      const rname = nameValue(text, rest[1], 'SOA rname');
      const [serial, refresh, retry, expire, minimum] = [2, 3, 4, 5, 6].map((i, k) =>
        u32(text, rest[i], ['SOA serial', 'SOA refresh', 'SOA retry', 'SOA expire', 'SOA minimum'][k] as string),
      ) as [number, number, number, number, number];
      expectEnd(text, rest, 7, 'SOA');
      return { ...base, type: TYPE.SOA, mname, rname, serial, refresh, retry, expire, minimum };
    }
    case 'TXT':
      return { ...base, type: TYPE.TXT, rdata: txtRdata(text, rest) };
    default: {
      const known = Object.values(TYPE).some((code) => typeName(code) === typeText) || /^TYPE[0-9]+$/.test(typeText);
      fail(
        text,
        known ? `type ${typeText} is not supported (A, AAAA, CNAME, PTR, NS, MX, SRV, TXT, SOA are)` : `unknown type "${typeToken.text}"`,
      );
    }
  }
}
