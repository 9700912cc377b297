// Server block keys (`.:53`, `dns://cluster.local`, `10.0.0.0/24:5353`) read as CoreDNS's
// dnsserver InspectServerBlocks and plugin.SplitHostPort read them.
import { isIPv4, isIPv6 } from 'node:net';
import { CorefileError, type Location } from './errors.ts';

/** One key of a server block. Zones are lower-case without the trailing dot; the root is ".". */
export interface ServerKey {
  /** As written (after environment substitution), for messages. */
  readonly text: string;
  /** One zone, or several when a CIDR does not fall on an octet (v4) or nibble (v6) boundary. */
  readonly zones: readonly string[];
  readonly port: number;
  /** False when the key has no port and `port` is the default (CoreDNS's -dns.port). */
  readonly explicitPort: boolean;
  readonly transport: 'dns';
  readonly file: string;
  readonly line: number;
}

/** Schemes CoreDNS serves that cluster-dns does not: named in the error rather than misread. */
const UNSUPPORTED_TRANSPORTS: Readonly<Record<string, string>> = {
  tls: 'DNS over TLS',
  https: 'DNS over HTTPS',
  https3: 'DNS over HTTP/3',
  quic: 'DNS over QUIC',
  grpc: 'DNS over gRPC',
  unix: 'DNS over a Unix socket',
};

export function parseServerKey(text: string, at: Location, defaultPort: number): ServerKey {
  const fail = (why: string): never => {
    throw new CorefileError('key', at, `server block key "${text}": ${why}`);
  };
  let rest = text;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(rest);
  if (scheme) {
    const name = (scheme[1] as string).toLowerCase();
    if (name !== 'dns') {
      const what = UNSUPPORTED_TRANSPORTS[name];
      fail(what ? `${name}:// (${what}) is not supported; cluster-dns serves plain DNS (dns://) only` : `unknown transport ${name}://`);
    }
    rest = rest.slice(scheme[0].length);
  }
  if (rest.startsWith('[')) fail('a key is a zone, not an address; listen on an address with `bind`');
  if (rest.includes('\\')) fail('escapes in zone names are not supported');

  let host = rest;
  let port = defaultPort;
  let explicitPort = false;
  const colon = rest.lastIndexOf(':');
  if (colon !== -1) {
    const after = rest.slice(colon + 1);
    if (after === '') fail('nothing after the last ":" (expected a port)');
    if (/^\d+$/.test(after)) {
      port = Number(after);
      if (port > 65535) fail(`port ${after} is out of range (0-65535)`);
      explicitPort = true;
      host = rest.slice(0, colon);
    }
  }

  const zones = host.includes('/') ? reverseZones(host, fail) : [zoneName(host, fail)];
  return { text, zones, port, explicitPort, transport: 'dns', file: at.file, line: at.line };
}

/** Lower-case, no trailing dot; "." for the root. Label rules as miekg/dns IsDomainName. */
function zoneName(host: string, fail: (why: string) => never): string {
  if (host === '') fail('the zone is empty');
  if (host === '.') return '.';
  if (host.startsWith('.')) fail('a zone cannot start with "." (only the root zone is ".")');
  const name = (host.endsWith('.') ? host.slice(0, -1) : host).toLowerCase();
  if (name.includes(':')) fail('":" is not part of a zone name; a port goes last, as ZONE:PORT');
  if (name.length > 253) fail(`the zone is too long (${name.length} > 253 characters)`);
  for (const label of name.split('.')) {
    if (label === '') fail('the zone has an empty label ("..")');
    if (label.length > 63) fail(`label "${label.slice(0, 20)}…" is longer than 63 characters`);
  }
  return name;
}

/**
 * The reverse zones of a CIDR (CoreDNS plugin/pkg/cidr): the prefix is rounded up to the next
 * octet (IPv4) or nibble (IPv6) boundary, and each resulting subnet is one zone, so
 * 10.0.0.0/15 is 0.10.in-addr.arpa and 1.10.in-addr.arpa.
 */
function reverseZones(host: string, fail: (why: string) => never): string[] {
  const slash = host.indexOf('/');
  const address = host.slice(0, slash);
  const lengthText = host.slice(slash + 1);
  const v4 = isIPv4(address) && !/(^|\.)0\d/.test(address);
  const v6 = !v4 && isIPv6(address) && !address.includes('.') && !address.includes('%');
  if ((!v4 && !v6) || !/^\d+$/.test(lengthText)) fail('not a zone name and not a CIDR (ADDRESS/LENGTH)');
  if (v6 && (address.startsWith(':') || address.startsWith('0'))) {
    // plugin.SplitHostPort refuses these spellings too ("invalid CIDR").
    fail('CoreDNS does not accept an IPv6 CIDR key that starts with ":" or "0"; write the reverse zone (e.g. ip6.arpa)');
  }
  const bits = v4 ? 32 : 128;
  const prefix = Number(lengthText);
  if (prefix > bits) fail(`prefix /${prefix} is longer than ${bits} bits`);
  const digitBits = v4 ? 8 : 4;
  const digits = v4 ? address.split('.').map(Number) : nibbles(address);
  const rounded = Math.ceil(prefix / digitBits) * digitBits;
  const count = 2 ** (rounded - prefix);
  const kept = rounded / digitBits;
  // The network's digits up to the boundary, host bits cleared (as net.ParseCIDR masks them).
  const base = digits.slice(0, kept);
  if (kept > 0) {
    const last = kept - 1;
    const spare = rounded - prefix;
    base[last] = ((base[last] as number) >> spare) << spare;
  }
  const suffix = v4 ? 'in-addr.arpa' : 'ip6.arpa';
  const zones: string[] = [];
  for (let i = 0; i < count; i++) {
    const subnet = [...base];
    if (kept > 0) subnet[kept - 1] = (subnet[kept - 1] as number) + i;
    const labels = subnet.reverse().map((d) => (v4 ? String(d) : d.toString(16)));
    zones.push([...labels, suffix].join('.'));
  }
  return zones;
}

/** The 32 nibbles of an IPv6 address, most significant first. */
function nibbles(address: string): number[] {
  const [head = '', tail] = address.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const out: number[] = [];
  for (const g of groups) {
    const value = parseInt(g, 16);
    for (let shift = 12; shift >= 0; shift -= 4) out.push((value >> shift) & 0xf);
  }
  return out;
}
