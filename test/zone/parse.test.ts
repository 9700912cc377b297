// The cluster name grammar, one row per form: what parseName reads a name as, and why. Whether the
// namespace, service or pod exists is not the parser's question (test/zone/kubernetes.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ClusterName, namespaceOf, parseName, serviceOf } from '../../src/zone/parse.ts';

const Z = 'cluster.local';

interface Row {
  name: string;
  zone?: string;
  want: ClusterName;
  why: string;
}

const rows: Row[] = [
  // the zone's own names
  { name: Z, want: { kind: 'apex' }, why: 'the apex: SOA and NS' },
  { name: `dns-version.${Z}`, want: { kind: 'dns-version' }, why: 'spec 2.2: the schema version TXT' },
  {
    name: `x.dns-version.${Z}`,
    want: { kind: 'invalid', branch: 'dns-version', namespace: null, service: null },
    why: 'dns-version is one label',
  },
  { name: `dns.${Z}`, want: { kind: 'dns' }, why: 'the empty non-terminal above ns.dns' },
  { name: `ns.dns.${Z}`, want: { kind: 'nameserver' }, why: "the apex NS record's target" },
  { name: `x.dns.${Z}`, want: { kind: 'invalid', branch: 'dns', namespace: null, service: null }, why: 'only ns below dns' },
  { name: `a.ns.dns.${Z}`, want: { kind: 'invalid', branch: 'dns', namespace: null, service: null }, why: 'nothing below ns.dns' },
  { name: `other.${Z}`, want: { kind: 'invalid', branch: 'other', namespace: null, service: null }, why: 'neither svc, pod nor dns' },
  {
    name: `testns.other.${Z}`,
    want: { kind: 'invalid', branch: 'other', namespace: null, service: null },
    why: 'a namespace is read only under svc and pod',
  },
  // svc
  { name: `svc.${Z}`, want: { kind: 'branch', branch: 'svc' }, why: 'an empty non-terminal' },
  { name: `testns.svc.${Z}`, want: { kind: 'namespace', branch: 'svc', namespace: 'testns' }, why: 'a namespace' },
  { name: `web.testns.svc.${Z}`, want: { kind: 'service', namespace: 'testns', service: 'web' }, why: 'spec 2.3.1, 2.4.1' },
  {
    name: `busybox-1.hdls.testns.svc.${Z}`,
    want: { kind: 'endpoint', namespace: 'testns', service: 'hdls', endpoint: 'busybox-1', protocol: 'busybox-1' },
    why: 'spec 2.4.1: a hostname below a headless service',
  },
  {
    name: `10-244-1-10.hdls.testns.svc.${Z}`,
    want: { kind: 'endpoint', namespace: 'testns', service: 'hdls', endpoint: '10-244-1-10', protocol: '10-244-1-10' },
    why: "an endpoint without a hostname: its dashed IP (CoreDNS's endpoint name)",
  },
  {
    name: `_tcp.web.testns.svc.${Z}`,
    want: { kind: 'endpoint', namespace: 'testns', service: 'web', endpoint: '_tcp', protocol: 'tcp' },
    why: 'four labels may also be the name above SRV names: the label read as a protocol too',
  },
  {
    name: `_http._tcp.web.testns.svc.${Z}`,
    want: { kind: 'srv', namespace: 'testns', service: 'web', port: 'http', protocol: 'tcp' },
    why: 'spec 2.3.2: _<port>._<proto>, underscores stripped',
  },
  {
    name: `http.tcp.web.testns.svc.${Z}`,
    want: { kind: 'srv', namespace: 'testns', service: 'web', port: 'http', protocol: 'tcp' },
    why: 'CoreDNS also reads the labels without underscores',
  },
  {
    name: `_._tcp.web.testns.svc.${Z}`,
    want: { kind: 'srv', namespace: 'testns', service: 'web', port: '', protocol: 'tcp' },
    why: "a bare '_' is a wildcard ('')",
  },
  {
    name: `a._http._tcp.web.testns.svc.${Z}`,
    want: { kind: 'invalid', branch: 'svc', namespace: 'testns', service: 'web' },
    why: 'too long for the grammar; the namespace and service labels are still named (scope, /debug/resolve)',
  },
  // pod
  { name: `pod.${Z}`, want: { kind: 'branch', branch: 'pod' }, why: 'an empty non-terminal' },
  { name: `testns.pod.${Z}`, want: { kind: 'namespace', branch: 'pod', namespace: 'testns' }, why: 'a namespace' },
  {
    name: `10-244-4-1.testns.pod.${Z}`,
    want: { kind: 'pod', namespace: 'testns', label: '10-244-4-1', ip: '10.244.4.1' },
    why: 'a dashed IPv4 pod name',
  },
  {
    name: `fd00-10-244--5.testns.pod.${Z}`,
    want: { kind: 'pod', namespace: 'testns', label: 'fd00-10-244--5', ip: 'fd00:10:244::5' },
    why: 'a dashed IPv6 pod name, canonical',
  },
  {
    name: `web.testns.pod.${Z}`,
    want: { kind: 'pod', namespace: 'testns', label: 'web', ip: null },
    why: 'a pod-shaped name whose label is no address',
  },
  {
    name: `a.10-244-4-1.testns.pod.${Z}`,
    want: { kind: 'invalid', branch: 'pod', namespace: 'testns', service: null },
    why: 'nothing below a pod name',
  },
  // reverse names
  { name: '1.1.96.10.in-addr.arpa', want: { kind: 'reverse', ip: '10.96.1.1' }, why: 'a full IPv4 reverse name' },
  {
    name: '2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa',
    want: { kind: 'reverse', ip: 'fd00:10:96::2' },
    why: 'a full IPv6 reverse name, canonical',
  },
  {
    name: '96.10.in-addr.arpa',
    want: { kind: 'reverse-network', address: 0x0a600000, octets: 2 },
    why: 'a partial IPv4 reverse name: the network it stands for',
  },
  {
    name: '0.0.d.f.ip6.arpa',
    want: { kind: 'reverse-network-v6', prefix: 'fd00' },
    why: 'a partial IPv6 reverse name: its nibbles, most significant first',
  },
  { name: 'D.f.ip6.arpa', want: { kind: 'outside' }, why: 'nibbles are lowercase, as names reach the zone lowercased' },
  { name: '00.d.f.ip6.arpa', want: { kind: 'outside' }, why: 'a label of two nibbles is no reverse name' },
  {
    name: '1.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa',
    want: { kind: 'outside' },
    why: '33 nibbles',
  },
  { name: '01.1.96.10.in-addr.arpa', want: { kind: 'outside' }, why: 'an octet with a leading zero is no reverse name' },
  { name: '1.1.1.1.96.10.in-addr.arpa', want: { kind: 'outside' }, why: 'five octets' },
  // outside
  { name: 'example.com', want: { kind: 'outside' }, why: 'not the zone' },
  { name: `x${Z}`, want: { kind: 'outside' }, why: 'the zone as a suffix of a label is not the zone' },
  { name: 'local', want: { kind: 'outside' }, why: 'a parent of the zone' },
  // another zone
  {
    name: 'web.testns.svc.inter.webs.test',
    zone: 'inter.webs.test',
    want: { kind: 'service', namespace: 'testns', service: 'web' },
    why: 'a zone of several labels',
  },
  { name: `web.testns.svc.${Z}`, zone: 'inter.webs.test', want: { kind: 'outside' }, why: 'the names of another zone' },
];

for (const row of rows) {
  test(`${row.name} in ${row.zone ?? Z}: ${row.why}`, () => {
    assert.deepEqual(parseName(row.name, row.zone ?? Z), row.want);
  });
}

const placed: { name: string; namespace: string | null; service: string | null; why: string }[] = [
  { name: `testns.svc.${Z}`, namespace: 'testns', service: null, why: 'a namespace, no service' },
  { name: `_http._tcp.web.testns.svc.${Z}`, namespace: 'testns', service: 'web', why: 'below a service' },
  { name: `a._http._tcp.web.testns.svc.${Z}`, namespace: 'testns', service: 'web', why: 'too long, still placed' },
  { name: `10-244-4-1.testns.pod.${Z}`, namespace: 'testns', service: null, why: 'pods have no service' },
  { name: `a.10-244-4-1.testns.pod.${Z}`, namespace: 'testns', service: null, why: 'nor do names below them' },
  { name: `testns.other.${Z}`, namespace: null, service: null, why: 'no namespace outside svc and pod' },
  { name: `ns.dns.${Z}`, namespace: null, service: null, why: 'the nameserver' },
  { name: '1.1.96.10.in-addr.arpa', namespace: null, service: null, why: 'reverse names' },
];

for (const row of placed) {
  test(`the namespace and service of ${row.name}: ${row.why}`, () => {
    const parsed = parseName(row.name, Z);
    assert.equal(namespaceOf(parsed), row.namespace);
    assert.equal(serviceOf(parsed), row.service);
  });
}
