// Addresses as every part takes them: an IP and a port, printed as the flags take them.
import { isIPv6 } from 'node:net';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** `127.0.0.1:53`, `[::1]:53`: as the flags take it. */
export function formatHostPort({ host, port }: HostPort): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A dual-stack socket (`[::]:53`) sees IPv4 clients as `::ffff:a.b.c.d`: their IPv4 address; others as they are. */
export function unmappedIPv4(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** Why `ip` cannot be one resolver's address (unspecified, broadcast, multicast), or null. */
export function unaskableAddress(ip: string): string | null {
  const lower = ip.toLowerCase();
  // An IPv4-mapped IPv6 address is its IPv4 address.
  const v4 = isIPv6(lower) ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower)?.[1] : lower;
  if (v4 !== undefined && !isIPv6(v4)) {
    const first = Number(v4.split('.')[0]);
    if (v4 === '0.0.0.0') return 'the unspecified address';
    if (v4 === '255.255.255.255') return 'the broadcast address';
    if (first >= 224 && first <= 239) return 'a multicast address';
    return null;
  }
  const words = expandIPv6(lower);
  if (words.every((w) => w === 0)) return 'the unspecified address';
  if ((words[0]! & 0xff00) === 0xff00) return 'a multicast address';
  return null;
}

/** The eight 16-bit words of an IPv6 address (no zone suffix). */
function expandIPv6(ip: string): number[] {
  let text = ip;
  // A dotted IPv4 tail is two words.
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (tail) {
    const [a, b, c, d] = tail.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = rest === undefined || rest === '' ? [] : rest.split(':');
  const fill = rest === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((w) => Number.parseInt(w, 16));
}
