// What of an upstream reply may reach clients and the cache. Unbound's scrubber (iter_scrub.c)
// with what a forwarder can apply without knowing where the zone cuts are: as a forwarder of "."
// Unbound's out-of-zone rule passes everything, so what it drops is what scrub_normalize drops,
// and we drop the same:
// - answer: the CNAME (and DNAME) chain from the question name, and the records of the asked
//   type (any type for ANY; RRSIGs too) owned by a name of the chain; nothing else;
// - authority: never A, AAAA, CNAME or DNAME; the first SOA and the first NS set whose owner is
//   the question's zone as far as the reply shows it (an ancestor of a chain name), no NS in a
//   denial; other records (DS, NSEC, NSEC3, RRSIG) only inside a zone the reply shows (an SOA or
//   NS owner, or an RRSIG signer, above a chain name), an NSEC's next name too;
// - additional: A and AAAA only for a name an NS, MX, KX, SRV, SVCB or HTTPS record kept above
//   names; never CNAME, DNAME, NS or SOA; others only for such a name, a chain name or inside a
//   zone the reply shows.
// TTLs: one with the top bit set is 0 (RFC 2181 §8); with limits, none says more than the cache
// would keep the reply (--cache-success-ttl, or the SOA's negative TTL capped by
// --cache-denial-ttl), as CoreDNS serves them, so a miss and the hit after it agree.
import { RCODE, TYPE } from '../dns/constants.ts';
import { decodeName } from '../dns/query.ts';
import { decodeRecord, MalformedMessageError, type Message, type RecordSpan } from '../dns/reader.ts';
import { type KeptRecords, replyOfMessage, type TimedReply } from '../dns/rebase.ts';
import type { Exchanged } from './transport.ts';

// Types the scrubber reads that the rest of the server never writes.
const KX = 36;
const DNAME = 39;
const RRSIG = 46;
const NSEC = 47;
const SVCB = 64;
const HTTPS = 65;
/** Links followed from the question name (Unbound's iter_scrub_cname is 11). */
const MAX_CHAIN = 12;

export interface TtlLimits {
  readonly successTtl: number;
  readonly denialTtl: number;
}

export interface Scrubbed extends KeptRecords {
  readonly ttls: number[];
  /** min(TTL, MINIMUM) of the SOA kept (RFC 2308 §5), or null. */
  readonly negativeTtl: number | null;
}

/** An upstream reply as our Reply, scrubbed, and what the cache needs to keep it. */
export interface Converted extends TimedReply {
  readonly negativeTtl: number | null;
  /** Records the scrubber dropped. */
  readonly scrubbed: number;
}

/** What of `ex` may be served, as a Reply (rebase.ts writes it); throws MalformedMessageError for records it cannot read. */
export function convertReply(ex: Exchanged, limits: TtlLimits | null = null): Converted {
  const scrubbed = scrub(ex.wire, ex.message, limits);
  return { ...replyOfMessage(ex.wire, ex.message, scrubbed), negativeTtl: scrubbed.negativeTtl, scrubbed: scrubbed.dropped };
}

/** RFC 2181 §8: a TTL with the most significant bit set is read as 0. */
export function ttlOf(wireTtl: number): number {
  return wireTtl >= 0x80000000 ? 0 : wireTtl;
}

/** `name` is `zone` or below it (lower-cased presentation names; a literal dot is always \046). */
export function within(name: string, zone: string): boolean {
  if (zone === '' || name === zone) return true;
  return name.length > zone.length && name.endsWith(zone) && name.charCodeAt(name.length - zone.length - 1) === 46;
}

function nameAt(wire: Buffer, rr: RecordSpan, offset: number): string {
  const at = rr.rdataStart + offset;
  const n = at < rr.end ? decodeName(wire, at) : null;
  if (!n || n.end > rr.end) throw new MalformedMessageError('bad name in RDATA');
  return n.name;
}

/** The name an additional A/AAAA may be for, or null. */
function namedTarget(wire: Buffer, rr: RecordSpan): string | null {
  switch (rr.type) {
    case TYPE.NS:
      return nameAt(wire, rr, 0);
    case TYPE.MX:
    case KX:
      return nameAt(wire, rr, 2);
    case TYPE.SRV:
      return nameAt(wire, rr, 6);
    case SVCB:
    case HTTPS: {
      const target = nameAt(wire, rr, 2);
      return target === '' ? rr.name : target; // "." is the owner itself (RFC 9460 §2.5)
    }
    default:
      return null;
  }
}

export function scrub(wire: Buffer, m: Message, limits: TtlLimits | null): Scrubbed {
  const qname = m.question?.name ?? '';
  const qtype = m.question?.type ?? 0;

  // The chain: CNAMEs from the question name, DNAMEs above a chain name (with the name they make).
  const keepAnswer = new Uint8Array(m.answer.length);
  const chain = [qname];
  for (let sname = qname; chain.length <= MAX_CHAIN; ) {
    let cname = -1;
    let substituted: string | null = null;
    for (let i = 0; i < m.answer.length; i++) {
      const rr = m.answer[i]!;
      if (rr.type === TYPE.CNAME && rr.name === sname && cname < 0) cname = i;
      else if (rr.type === DNAME && rr.name !== sname && within(sname, rr.name)) {
        keepAnswer[i] = 1;
        const target = nameAt(wire, rr, 0);
        const prefix = sname.slice(0, sname.length - rr.name.length - (rr.name === '' ? 0 : 1));
        substituted ??= target === '' ? prefix : `${prefix}.${target}`;
      }
    }
    if (qtype === TYPE.CNAME) break; // the CNAME at the question name is the answer itself
    let next: string | null = null;
    if (cname >= 0) {
      keepAnswer[cname] = 1;
      next = nameAt(wire, m.answer[cname]!, 0);
    } else {
      next = substituted;
    }
    if (next === null || chain.includes(next)) break;
    chain.push(next);
    sname = next;
  }
  const onChain = (name: string) => chain.includes(name);
  const enclosesChain = (zone: string) => chain.some((n) => within(n, zone));
  let answered = 0;
  for (let i = 0; i < m.answer.length; i++) {
    const rr = m.answer[i]!;
    if (!keepAnswer[i] && onChain(rr.name) && (rr.type === qtype || qtype === TYPE.ANY || rr.type === RRSIG)) keepAnswer[i] = 1;
    if (keepAnswer[i] && rr.type !== DNAME && rr.type !== RRSIG) answered++;
  }

  // The zones the reply shows: the SOA's, the NS set's, and RRSIG signers', above a chain name.
  const keepAuthority = new Uint8Array(m.authority.length);
  const zones: string[] = [];
  let soa: RecordSpan | null = null;
  for (let i = 0; i < m.authority.length && soa === null; i++) {
    const rr = m.authority[i]!;
    if (rr.type === TYPE.SOA && enclosesChain(rr.name)) {
      soa = rr;
      keepAuthority[i] = 1;
      zones.push(rr.name);
    }
  }
  const denial = m.rcode === RCODE.NXDOMAIN || (m.rcode === RCODE.NOERROR && answered === 0 && soa !== null);
  let nsOwner: string | null = null;
  for (let i = 0; i < m.authority.length; i++) {
    const rr = m.authority[i]!;
    if (rr.type !== TYPE.NS || denial || !enclosesChain(rr.name) || (nsOwner !== null && rr.name !== nsOwner)) continue;
    keepAuthority[i] = 1;
    if (nsOwner === null) zones.push((nsOwner = rr.name));
  }
  const signers = (list: readonly RecordSpan[], keep: Uint8Array) => {
    for (let i = 0; i < list.length; i++) {
      const rr = list[i]!;
      if (rr.type !== RRSIG || !keep[i]) continue;
      const signer = nameAt(wire, rr, 18);
      if (enclosesChain(signer) && within(rr.name, signer) && !zones.includes(signer)) zones.push(signer);
    }
  };
  signers(m.answer, keepAnswer);
  // An authority RRSIG's signer counts before the authority RRSIG itself is judged.
  signers(m.authority, new Uint8Array(m.authority.length).fill(1));
  const inShownZone = (name: string) => zones.some((z) => within(name, z));
  for (let i = 0; i < m.authority.length; i++) {
    const rr = m.authority[i]!;
    switch (rr.type) {
      case TYPE.SOA:
      case TYPE.NS:
      case TYPE.A:
      case TYPE.AAAA:
      case TYPE.CNAME:
      case DNAME:
        break; // decided above, or never here
      case NSEC: {
        const zone = zones.find((z) => within(rr.name, z));
        if (zone !== undefined && within(nameAt(wire, rr, 0), zone)) keepAuthority[i] = 1;
        break;
      }
      default:
        if (inShownZone(rr.name)) keepAuthority[i] = 1;
    }
  }

  // Names the kept records point at, for the additional section.
  const named = new Set<string>();
  const collect = (list: readonly RecordSpan[], keep: Uint8Array) => {
    for (let i = 0; i < list.length; i++) {
      if (!keep[i]) continue;
      const target = namedTarget(wire, list[i]!);
      if (target !== null) named.add(target);
    }
  };
  collect(m.answer, keepAnswer);
  collect(m.authority, keepAuthority);
  const keepAdditional = new Uint8Array(m.additional.length);
  let opts = 0;
  for (let i = 0; i < m.additional.length; i++) {
    const rr = m.additional[i]!;
    switch (rr.type) {
      case TYPE.OPT:
        opts++;
        break;
      case TYPE.A:
      case TYPE.AAAA:
        if (named.has(rr.name)) keepAdditional[i] = 1;
        break;
      case TYPE.CNAME:
      case DNAME:
      case TYPE.NS:
      case TYPE.SOA:
        break;
      default:
        if (named.has(rr.name) || onChain(rr.name) || inShownZone(rr.name)) keepAdditional[i] = 1;
    }
  }

  const pick = (list: readonly RecordSpan[], keep: Uint8Array) =>
    keep.every((k) => k === 1) ? list : list.filter((_, i) => keep[i] === 1);
  const answer = pick(m.answer, keepAnswer);
  const authority = pick(m.authority, keepAuthority);
  const additional = m.additional.filter((_, i) => keepAdditional[i] === 1);
  const dropped = m.answer.length + m.authority.length + m.additional.length - opts - answer.length - authority.length - additional.length;

  let negativeTtl: number | null = null;
  if (soa !== null) {
    const decoded = decodeRecord(wire, soa);
    if (decoded && 'minimum' in decoded) negativeTtl = Math.min(ttlOf(soa.ttl), decoded.minimum);
  }
  let cap = Number.POSITIVE_INFINITY;
  if (limits !== null) {
    if (m.rcode === RCODE.NOERROR && answer.length > 0) {
      cap = limits.successTtl;
      for (const rr of answer) cap = Math.min(cap, ttlOf(rr.ttl));
    } else if ((m.rcode === RCODE.NXDOMAIN || m.rcode === RCODE.NOERROR) && negativeTtl !== null) {
      cap = Math.min(limits.denialTtl, negativeTtl);
    }
  }
  const ttls: number[] = [];
  for (const list of [answer, authority, additional]) for (const rr of list) ttls.push(Math.min(ttlOf(rr.ttl), cap));
  return { answer, authority, additional, dropped, ttls, negativeTtl };
}
