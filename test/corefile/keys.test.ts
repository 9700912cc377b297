import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseServerKey } from '../../src/corefile/keys.ts';
import { CorefileError } from '../../src/corefile/errors.ts';

const at = { file: 'Corefile', line: 7 };

const rows: { why: string; key: string; zones: string[]; port: number; explicit?: boolean }[] = [
  { why: 'the root zone on the default port', key: '.', zones: ['.'], port: 53, explicit: false },
  { why: 'the root zone with a port', key: '.:53', zones: ['.'], port: 53, explicit: true },
  { why: 'dns:// is the default transport', key: 'dns://.:5353', zones: ['.'], port: 5353 },
  { why: 'the scheme is case-insensitive', key: 'DNS://cluster.local', zones: ['cluster.local'], port: 53 },
  { why: 'zones are lower-cased and lose the trailing dot', key: 'Cluster.Local.:53', zones: ['cluster.local'], port: 53 },
  { why: 'sub-zones of the cluster zone (stub blocks)', key: 'east.svc.cluster.local:53', zones: ['east.svc.cluster.local'], port: 53 },
  { why: 'a single-label zone', key: 'svc:53', zones: ['svc'], port: 53 },
  { why: 'hostname.bind for chaos answers', key: 'hostname.bind:5353', zones: ['hostname.bind'], port: 5353 },
  { why: 'port 0 (tests bind an ephemeral port)', key: '.:0', zones: ['.'], port: 0 },
  { why: 'a port with leading zeros is the number (strconv.Atoi)', key: '.:0053', zones: ['.'], port: 53 },
  { why: 'a /24 is one reverse zone', key: '10.0.0.0/24', zones: ['0.0.10.in-addr.arpa'], port: 53 },
  { why: 'host bits are masked away, as net.ParseCIDR does', key: '10.1.2.3/24:5353', zones: ['2.1.10.in-addr.arpa'], port: 5353 },
  { why: 'a /8 and a /16', key: '10.0.0.0/8', zones: ['10.in-addr.arpa'], port: 53 },
  { why: 'a /15 is two /16 zones', key: '10.0.0.0/15', zones: ['0.10.in-addr.arpa', '1.10.in-addr.arpa'], port: 53 },
  {
    why: 'a /22 is four /24 zones',
    key: '192.168.4.0/22',
    zones: ['4.168.192.in-addr.arpa', '5.168.192.in-addr.arpa', '6.168.192.in-addr.arpa', '7.168.192.in-addr.arpa'],
    port: 53,
  },
  { why: 'a /32 is the full reverse name', key: '10.0.0.1/32', zones: ['1.0.0.10.in-addr.arpa'], port: 53 },
  { why: 'a /0 is all of in-addr.arpa', key: '0.0.0.0/0', zones: ['in-addr.arpa'], port: 53 },
  { why: 'an IPv6 /64 in nibbles', key: 'fd00:10:96::/64', zones: ['0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa'], port: 53 },
  {
    why: 'an IPv6 /63 is two /64 zones (16 nibbles each)',
    key: 'fd00::/63',
    zones: ['0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa', '1.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa'],
    port: 53,
  },
  { why: 'an IPv6 CIDR with a port', key: 'fd00::/16:5353', zones: ['0.0.d.f.ip6.arpa'], port: 5353 },
];

test('server block keys as CoreDNS normalizes them', () => {
  for (const row of rows) {
    const key = parseServerKey(row.key, at, 53);
    assert.deepEqual(key.zones, row.zones, row.why);
    assert.equal(key.port, row.port, row.why);
    assert.equal(key.transport, 'dns', row.why);
    if (row.explicit !== undefined) assert.equal(key.explicitPort, row.explicit, row.why);
    assert.equal(key.text, row.key);
  }
  assert.equal(parseServerKey('.', at, 1053).port, 1053, 'a key without a port takes the default port given');
});

test('bad server block keys name the key, the file and the line', () => {
  const bad: { why: string; key: string; reason: RegExp }[] = [
    { why: 'DNS over TLS', key: 'tls://.:853', reason: /tls:\/\/ \(DNS over TLS\) is not supported; cluster-dns serves plain DNS/ },
    { why: 'DNS over HTTPS', key: 'https://.', reason: /https:\/\/ \(DNS over HTTPS\) is not supported/ },
    { why: 'DNS over gRPC', key: 'grpc://.', reason: /grpc:\/\/ \(DNS over gRPC\)/ },
    { why: 'DNS over QUIC', key: 'quic://.', reason: /quic:\/\/ \(DNS over QUIC\)/ },
    { why: 'DNS over HTTP/3', key: 'https3://.', reason: /https3:\/\// },
    { why: 'an unknown scheme', key: 'foo://.', reason: /unknown transport foo:\/\// },
    { why: 'no zone before the port (an empty key)', key: ':53', reason: /the zone is empty/ },
    { why: 'a trailing colon', key: 'example.org:', reason: /nothing after the last ":"/ },
    { why: 'a port out of range', key: '.:65536', reason: /port 65536 is out of range/ },
    { why: 'a port that is not a number', key: 'example.org:dns', reason: /":" is not part of a zone name/ },
    { why: 'an address in brackets', key: '[::1]:53', reason: /a key is a zone, not an address; listen on an address with `bind`/ },
    { why: 'a leading dot', key: '.svc:53', reason: /cannot start with "."/ },
    { why: 'an empty label', key: 'a..b', reason: /empty label/ },
    { why: 'a label over 63 characters', key: `${'a'.repeat(64)}.local`, reason: /longer than 63 characters/ },
    { why: 'a name over 253 characters', key: Array(60).fill('abcd').join('.'), reason: /too long/ },
    { why: 'a slash that is no CIDR', key: 'foo/24', reason: /not a zone name and not a CIDR/ },
    { why: 'a prefix longer than the address', key: '10.0.0.0/33', reason: /\/33 is longer than 32 bits/ },
    { why: 'an IPv4 address with leading zeros', key: '010.0.0.0/8', reason: /not a CIDR/ },
    { why: 'CoreDNS refuses IPv6 CIDR keys starting with ":"', key: '::/0', reason: /starts with ":" or "0"/ },
    { why: 'escapes are not supported', key: 'a\\.b', reason: /escapes/ },
  ];
  for (const row of bad) {
    assert.throws(
      () => parseServerKey(row.key, at, 53),
      (err: unknown) => {
        assert.ok(err instanceof CorefileError, row.why);
        assert.ok(err.message.startsWith(`Corefile:7: server block key "${row.key}": `), `${row.why}: ${err.message}`);
        assert.match(err.reason, row.reason, row.why);
        assert.equal(err.kind, 'key');
        return true;
      },
    );
  }
});
