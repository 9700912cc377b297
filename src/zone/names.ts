// Name forms of the cluster zone: dashed IPs, reverse names, `_port._proto` labels.
import { isIPv4, isIPv6 } from 'node:net';
import { canonicalIPv6, ipv6Bytes } from '../dns/writer.ts';

/**
 * The system-assigned endpoint name CoreDNS uses when an endpoint has no hostname: IPv4 dots and
 * IPv6 colons become dashes; a trailing dash gets a '0' (`2001:db8::` → `2001-db8--0`).
 */
export function dashedIP(ip: string): string {
  if (ip.includes(':')) {
    const dashed = ip.toLowerCase().replaceAll(':', '-');
    return dashed.endsWith('-') ? `${dashed}0` : dashed;
  }
  return ip.replaceAll('.', '-');
}

/**
 * The IP a pod label names (`10-244-1-5`, `fd00-10-244--5`), canonical, or null. Like CoreDNS:
 * exactly three dashes and no `--` is IPv4, anything else is tried as IPv6.
 */
export function ipFromDashed(label: string): string | null {
  const dashes = label.split('-').length - 1;
  if (dashes === 3 && !label.includes('--')) {
    const ip = label.replaceAll('-', '.');
    return isIPv4(ip) && !/(^|\.)0\d/.test(ip) ? ip : null;
  }
  const ip = label.replaceAll('-', ':');
  return isIPv6(ip) ? canonicalIPv6(ip) : null;
}

export const REVERSE_V4 = 'in-addr.arpa';
export const REVERSE_V6 = 'ip6.arpa';

/** A reverse-name label for one IPv4 octet: 0-255 without leading zeros. */
function isOctet(label: string): boolean {
  return /^(0|[1-9]\d{0,2})$/.test(label) && Number(label) <= 255;
}

function isNibble(label: string): boolean {
  return /^[0-9a-f]$/.test(label);
}

/**
 * The IPv6 prefix a partial ip6.arpa name stands for, as 1-31 hex nibbles most significant first
 * (`0.0.d.f.ip6.arpa` → "fd00"); null for full, empty or malformed names and for in-addr.arpa.
 */
export function reverseNetworkV6(name: string): string | null {
  if (!name.endsWith(`.${REVERSE_V6}`)) return null;
  const nibbles = name.slice(0, -(REVERSE_V6.length + 1)).split('.');
  if (nibbles.length > 31) return null;
  let prefix = '';
  for (let i = nibbles.length - 1; i >= 0; i--) {
    const n = nibbles[i] as string;
    if (!isNibble(n)) return null;
    prefix += n;
  }
  return prefix;
}

/** The address a full reverse name stands for, canonical; null for partial or malformed names. */
export function ipFromReverse(name: string): string | null {
  if (name.endsWith(`.${REVERSE_V4}`)) {
    const parts = name.slice(0, -(REVERSE_V4.length + 1)).split('.');
    if (parts.length !== 4) return null;
    for (const p of parts) if (!isOctet(p)) return null;
    return parts.reverse().join('.');
  }
  if (name.endsWith(`.${REVERSE_V6}`)) {
    const nibbles = name.slice(0, -(REVERSE_V6.length + 1)).split('.');
    if (nibbles.length !== 32) return null;
    for (const n of nibbles) if (!isNibble(n)) return null;
    nibbles.reverse();
    const groups: string[] = [];
    for (let i = 0; i < 32; i += 4) groups.push(nibbles.slice(i, i + 4).join(''));
    return canonicalIPv6(groups.join(':'));
  }
  return null;
}

/**
 * The IPv4 network a partial reverse name stands for (`96.10.in-addr.arpa` → 10.96.0.0, 2
 * octets; 1-3 octets); null for full, empty or malformed names and for ip6.arpa.
 */
export function reverseNetwork(name: string): { readonly address: number; readonly octets: number } | null {
  if (!name.endsWith(`.${REVERSE_V4}`)) return null;
  const parts = name.slice(0, -(REVERSE_V4.length + 1)).split('.');
  if (parts.length > 3) return null;
  let address = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[parts.length - 1 - i] as string;
    if (!isOctet(p)) return null;
    address += Number(p) * 2 ** (24 - 8 * i);
  }
  return { address, octets: parts.length };
}

/** The reverse name of an address (for tests and tools). */
export function reverseName(ip: string): string {
  if (isIPv4(ip)) return `${ip.split('.').reverse().join('.')}.${REVERSE_V4}`;
  const bytes = new Uint8Array(16);
  if (!ipv6Bytes(ip, bytes, 0)) throw new Error(`not an IP address: ${ip}`);
  const nibbles: string[] = [];
  for (const b of bytes) nibbles.push((b >> 4).toString(16), (b & 15).toString(16));
  return `${nibbles.reverse().join('.')}.${REVERSE_V6}`;
}

/** `_http` → `http`; CoreDNS also matches without underscores, and `_` alone is a wildcard (''). */
export function stripUnderscore(label: string): string {
  return label.startsWith('_') ? label.slice(1) : label;
}

export function isV6(ip: string): boolean {
  return ip.includes(':');
}
