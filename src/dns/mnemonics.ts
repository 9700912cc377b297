// Type and class mnemonics as configuration spells them (`rewrite type ANY HINFO`, `template IN
// HTTPS`): every type IANA names, not only the ones this server encodes, plus RFC 3597's TYPEnnn
// and CLASSnnn.

const TYPE_CODES: Readonly<Record<string, number>> = {
  A: 1,
  NS: 2,
  MD: 3,
  MF: 4,
  CNAME: 5,
  SOA: 6,
  MB: 7,
  MG: 8,
  MR: 9,
  NULL: 10,
  WKS: 11,
  PTR: 12,
  HINFO: 13,
  MINFO: 14,
  MX: 15,
  TXT: 16,
  RP: 17,
  AFSDB: 18,
  X25: 19,
  ISDN: 20,
  RT: 21,
  NSAP: 22,
  'NSAP-PTR': 23,
  SIG: 24,
  KEY: 25,
  PX: 26,
  GPOS: 27,
  AAAA: 28,
  LOC: 29,
  NXT: 30,
  EID: 31,
  NIMLOC: 32,
  SRV: 33,
  ATMA: 34,
  NAPTR: 35,
  KX: 36,
  CERT: 37,
  A6: 38,
  DNAME: 39,
  SINK: 40,
  OPT: 41,
  APL: 42,
  DS: 43,
  SSHFP: 44,
  IPSECKEY: 45,
  RRSIG: 46,
  NSEC: 47,
  DNSKEY: 48,
  DHCID: 49,
  NSEC3: 50,
  NSEC3PARAM: 51,
  TLSA: 52,
  SMIMEA: 53,
  HIP: 55,
  NINFO: 56,
  RKEY: 57,
  TALINK: 58,
  CDS: 59,
  CDNSKEY: 60,
  OPENPGPKEY: 61,
  CSYNC: 62,
  ZONEMD: 63,
  SVCB: 64,
  HTTPS: 65,
  SPF: 99,
  UINFO: 100,
  UID: 101,
  GID: 102,
  UNSPEC: 103,
  NID: 104,
  L32: 105,
  L64: 106,
  LP: 107,
  EUI48: 108,
  EUI64: 109,
  TKEY: 249,
  TSIG: 250,
  IXFR: 251,
  AXFR: 252,
  MAILB: 253,
  MAILA: 254,
  ANY: 255,
  URI: 256,
  CAA: 257,
  AVC: 258,
  DOA: 259,
  AMTRELAY: 260,
  TA: 32768,
  DLV: 32769,
};

const CLASS_CODES: Readonly<Record<string, number>> = { IN: 1, CS: 2, CH: 3, HS: 4, NONE: 254, ANY: 255 };

function lookup(table: Readonly<Record<string, number>>, prefix: string, text: string): number | null {
  const upper = text.toUpperCase();
  const known = table[upper];
  if (known !== undefined) return known;
  const m = new RegExp(`^${prefix}([0-9]{1,5})$`).exec(upper);
  return m !== null && Number(m[1]) <= 0xffff ? Number(m[1]) : null;
}

/** The type code of a mnemonic (`AAAA`, `https`, `TYPE65`), or null. */
export function typeCode(text: string): number | null {
  return lookup(TYPE_CODES, 'TYPE', text);
}

/** The class code of a mnemonic (`IN`, `CH`, `CLASS3`), or null. */
export function classCode(text: string): number | null {
  return lookup(CLASS_CODES, 'CLASS', text);
}

/** The mnemonic of a type code (`TYPE65534` when IANA has none). */
export function typeMnemonic(code: number): string {
  for (const [name, value] of Object.entries(TYPE_CODES)) if (value === code) return name;
  return `TYPE${code}`;
}

/** The mnemonic of a class code. */
export function classMnemonic(code: number): string {
  for (const [name, value] of Object.entries(CLASS_CODES)) if (value === code) return name;
  return `CLASS${code}`;
}

const RCODE_CODES: Readonly<Record<string, number>> = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  YXDOMAIN: 6,
  YXRRSET: 7,
  NXRRSET: 8,
  NOTAUTH: 9,
  NOTZONE: 10,
};

/** The code of a basic (4-bit) rcode mnemonic as miekg/dns spells it (`NXDOMAIN`), or null. */
export function rcodeCode(text: string): number | null {
  return RCODE_CODES[text.toUpperCase()] ?? null;
}
