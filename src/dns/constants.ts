// Wire constants (RFC 1035, 3596, 2782, 6891). `as const` objects instead of enums so that
// Node runs this file by type stripping alone.

export const TYPE = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
} as const;
export type RRType = (typeof TYPE)[keyof typeof TYPE];

export const CLASS = { IN: 1, CH: 3, NONE: 254, ANY: 255 } as const;

export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  /** Extended rcode 16 (RFC 6891): the upper 8 bits travel in the OPT record. */
  BADVERS: 16,
} as const;
export type Rcode = (typeof RCODE)[keyof typeof RCODE];

export const OPCODE_QUERY = 0;

/** Header flag bits in the second 16-bit word. */
export const FLAG = {
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  AD: 0x0020,
  CD: 0x0010,
} as const;

export const HEADER_SIZE = 12;
/** Without EDNS a UDP answer may not exceed this (RFC 1035 §4.2.1). */
export const CLASSIC_UDP_SIZE = 512;
/** Our own advertised EDNS buffer and default cap on what a client may ask for (DNS Flag Day 2020). */
export const DEFAULT_MAX_UDP_SIZE = 1232;
export const MAX_NAME_OCTETS = 255;
export const MAX_LABEL_OCTETS = 63;

const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(TYPE).map(([name, code]) => [code, name]));
export function typeName(code: number): string {
  return TYPE_NAMES[code] ?? `TYPE${code}`;
}

const RCODE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(RCODE).map(([name, code]) => [code, name]));
export function rcodeName(code: number): string {
  return RCODE_NAMES[code] ?? `RCODE${code}`;
}
