// Every answer rule of the cluster zone, as table rows in zone-file syntax (spec 1.1.0 sections
// and CoreDNS behaviour noted per row). SOA serials vary with time and are compared as SERIAL.
import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { KubernetesZone, type PodMode } from '../../src/zone/kubernetes.ts';
import { TYPE } from '../../src/dns/constants.ts';
import { ClusterIndex } from '../../src/index/index.ts';
import { toRecord } from '../../src/objects/kinds.ts';
import { decode, replyMessage, withoutSerial } from '../support/dns.ts';
import { endpointSlice, indexOf, namespace, pod, service, testCluster } from '../support/cluster.ts';
import type { Query } from '../../src/dns/message.ts';

const SOA = 'cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. SERIAL 7200 1800 86400 5';
const Z = 'cluster.local';
const RSOA4 = 'in-addr.arpa. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. SERIAL 7200 1800 86400 5';
const RSOA6 = 'ip6.arpa. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. SERIAL 7200 1800 86400 5';

interface Row {
  name: string;
  type: keyof typeof TYPE;
  rcode?: string;
  answer?: string[];
  authority?: string[];
  additional?: string[];
  pods?: PodMode;
  why: string;
}

const rows: Row[] = [
  // §2.2 schema version
  { name: `dns-version.${Z}`, type: 'TXT', answer: [`dns-version.${Z}. 28800 IN TXT "1.1.0"`], why: 'spec 2.2' },
  { name: `dns-version.${Z}`, type: 'A', authority: [SOA], why: 'existing name, other type: NODATA' },
  { name: `x.dns-version.${Z}`, type: 'TXT', rcode: 'NXDOMAIN', authority: [SOA], why: 'only the single label' },
  // apex
  { name: Z, type: 'SOA', answer: [SOA], why: 'SOA at the apex' },
  {
    name: Z,
    type: 'NS',
    answer: [`${Z}. 5 IN NS ns.dns.${Z}.`],
    additional: [`ns.dns.${Z}. 5 IN A 10.96.0.10`],
    why: 'NS at the apex, glue from kube-system/kube-dns',
  },
  { name: `ns.dns.${Z}`, type: 'A', answer: [`ns.dns.${Z}. 5 IN A 10.96.0.10`], why: 'the NS name resolves' },
  { name: Z, type: 'A', authority: [SOA], why: 'apex A: NODATA' },
  { name: `svc.${Z}`, type: 'A', authority: [SOA], why: 'svc.<zone> is an empty non-terminal' },
  { name: `pod.${Z}`, type: 'A', authority: [SOA], why: 'pod.<zone> is an empty non-terminal' },
  { name: `testns.svc.${Z}`, type: 'A', authority: [SOA], why: 'existing namespace: NODATA' },
  { name: `nope.svc.${Z}`, type: 'A', rcode: 'NXDOMAIN', authority: [SOA], why: 'unknown namespace: NXDOMAIN' },
  { name: `other.${Z}`, type: 'A', rcode: 'NXDOMAIN', authority: [SOA], why: 'neither svc nor pod' },
  // §2.3 ClusterIP services
  { name: `svc1.testns.svc.${Z}`, type: 'A', answer: [`svc1.testns.svc.${Z}. 5 IN A 10.96.1.1`], why: 'spec 2.3.1' },
  { name: `svc1.testns.svc.${Z}`, type: 'AAAA', authority: [SOA], why: 'IPv4-only service, AAAA: NODATA' },
  { name: `svc1.testns.svc.${Z}`, type: 'TXT', authority: [SOA], why: 'other type: NODATA' },
  { name: `svc1.testns.svc.${Z}`, type: 'SOA', authority: [SOA], why: 'SOA below the apex: NODATA' },
  { name: `nosuch.testns.svc.${Z}`, type: 'A', rcode: 'NXDOMAIN', authority: [SOA], why: 'unknown service' },
  { name: `svc1.nope.svc.${Z}`, type: 'A', rcode: 'NXDOMAIN', authority: [SOA], why: 'unknown namespace' },
  { name: `svc1.emptyns.svc.${Z}`, type: 'A', rcode: 'NXDOMAIN', authority: [SOA], why: 'service in another namespace' },
  { name: `dual.testns.svc.${Z}`, type: 'A', answer: [`dual.testns.svc.${Z}. 5 IN A 10.96.1.2`], why: 'dual-stack, A' },
  {
    name: `dual.testns.svc.${Z}`,
    type: 'AAAA',
    answer: [`dual.testns.svc.${Z}. 5 IN AAAA fd00:10:96::2`],
    why: 'dual-stack, AAAA',
  },
  {
    name: `_http._tcp.svc1.testns.svc.${Z}`,
    type: 'SRV',
    answer: [`_http._tcp.svc1.testns.svc.${Z}. 5 IN SRV 0 100 80 svc1.testns.svc.${Z}.`],
    additional: [`svc1.testns.svc.${Z}. 5 IN A 10.96.1.1`],
    why: 'spec 2.3.2, priority 0 weight floor(100/1)',
  },
  {
    name: `http.tcp.svc1.testns.svc.${Z}`,
    type: 'SRV',
    answer: [`http.tcp.svc1.testns.svc.${Z}. 5 IN SRV 0 100 80 svc1.testns.svc.${Z}.`],
    additional: [`svc1.testns.svc.${Z}. 5 IN A 10.96.1.1`],
    why: 'CoreDNS strips underscores',
  },
  { name: `_http._udp.svc1.testns.svc.${Z}`, type: 'SRV', rcode: 'NXDOMAIN', authority: [SOA], why: 'wrong protocol' },
  { name: `_nope._tcp.svc1.testns.svc.${Z}`, type: 'SRV', rcode: 'NXDOMAIN', authority: [SOA], why: 'unknown port' },
  { name: `_http._tcp.svc1.testns.svc.${Z}`, type: 'A', authority: [SOA], why: 'SRV name, A: NODATA' },
  {
    name: `svc1.testns.svc.${Z}`,
    type: 'SRV',
    answer: [
      `svc1.testns.svc.${Z}. 5 IN SRV 0 50 80 svc1.testns.svc.${Z}.`,
      `svc1.testns.svc.${Z}. 5 IN SRV 0 50 8080 svc1.testns.svc.${Z}.`,
    ],
    additional: [`svc1.testns.svc.${Z}. 5 IN A 10.96.1.1`],
    why: 'SRV at the bare service name: one per port (CoreDNS)',
  },
  {
    name: `ep1a.svc1.testns.svc.${Z}`,
    type: 'A',
    answer: [`ep1a.svc1.testns.svc.${Z}. 5 IN A 10.244.0.1`],
    why: 'endpoint hostname under a ClusterIP service (CoreDNS)',
  },
  {
    name: `10-244-0-2.svc1.testns.svc.${Z}`,
    type: 'A',
    answer: [`10-244-0-2.svc1.testns.svc.${Z}. 5 IN A 10.244.0.2`],
    why: 'endpoint without hostname: dashed IP',
  },
  { name: `10-244-0-3.svc1.testns.svc.${Z}`, type: 'A', rcode: 'NXDOMAIN', authority: [SOA], why: 'not-ready endpoint' },
  {
    name: `1.1.96.10.in-addr.arpa`,
    type: 'PTR',
    answer: [`1.1.96.10.in-addr.arpa. 5 IN PTR svc1.testns.svc.${Z}.`],
    why: 'spec 2.3.3 PTR for a ClusterIP',
  },
  {
    name: `2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa`,
    type: 'PTR',
    answer: [`2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa. 5 IN PTR dual.testns.svc.${Z}.`],
    why: 'spec 2.3.3 PTR for an IPv6 ClusterIP (nibble form)',
  },
  {
    name: `1.1.96.10.in-addr.arpa`,
    type: 'A',
    authority: ['in-addr.arpa. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. SERIAL 7200 1800 86400 5'],
    why: 'reverse name, other type: NODATA',
  },
  // §2.4 headless services
  {
    name: `hdls.testns.svc.${Z}`,
    type: 'A',
    answer: [`hdls.testns.svc.${Z}. 5 IN A 10.244.1.10`, `hdls.testns.svc.${Z}. 5 IN A 10.244.1.11`],
    why: 'spec 2.4.1: ready endpoints (ready unset counts as ready), not-ready left out',
  },
  {
    name: `hdls.testns.svc.${Z}`,
    type: 'AAAA',
    answer: [`hdls.testns.svc.${Z}. 5 IN AAAA fd00:244::10`],
    why: 'spec 2.4.1 AAAA from the IPv6 slice',
  },
  {
    name: `pet-0.hdls.testns.svc.${Z}`,
    type: 'A',
    answer: [`pet-0.hdls.testns.svc.${Z}. 5 IN A 10.244.1.10`],
    why: 'spec 2.4.1 hostname record',
  },
  {
    name: `pet-0.hdls.testns.svc.${Z}`,
    type: 'AAAA',
    answer: [`pet-0.hdls.testns.svc.${Z}. 5 IN AAAA fd00:244::10`],
    why: 'hostname record, IPv6',
  },
  { name: `10-244-1-12.hdls.testns.svc.${Z}`, type: 'A', rcode: 'NXDOMAIN', authority: [SOA], why: 'not-ready endpoint' },
  {
    name: `_http._tcp.hdls.testns.svc.${Z}`,
    type: 'SRV',
    answer: [
      `_http._tcp.hdls.testns.svc.${Z}. 5 IN SRV 0 50 8080 pet-0.hdls.testns.svc.${Z}.`,
      `_http._tcp.hdls.testns.svc.${Z}. 5 IN SRV 0 50 8080 10-244-1-11.hdls.testns.svc.${Z}.`,
    ],
    additional: [
      `pet-0.hdls.testns.svc.${Z}. 5 IN A 10.244.1.10`,
      `pet-0.hdls.testns.svc.${Z}. 5 IN AAAA fd00:244::10`,
      `10-244-1-11.hdls.testns.svc.${Z}. 5 IN A 10.244.1.11`,
    ],
    why: 'spec 2.4.2: N ready endpoints × M named ports, endpoint ports, targets in additional',
  },
  {
    name: `_metrics._udp.hdls.testns.svc.${Z}`,
    type: 'SRV',
    answer: [
      `_metrics._udp.hdls.testns.svc.${Z}. 5 IN SRV 0 50 9000 pet-0.hdls.testns.svc.${Z}.`,
      `_metrics._udp.hdls.testns.svc.${Z}. 5 IN SRV 0 50 9000 10-244-1-11.hdls.testns.svc.${Z}.`,
    ],
    additional: [`pet-0.hdls.testns.svc.${Z}. 5 IN A 10.244.1.10`, `10-244-1-11.hdls.testns.svc.${Z}. 5 IN A 10.244.1.11`],
    why: 'port only in the IPv4 slice',
  },
  {
    name: `10.1.244.10.in-addr.arpa`,
    type: 'PTR',
    answer: [`10.1.244.10.in-addr.arpa. 5 IN PTR pet-0.hdls.testns.svc.${Z}.`],
    why: 'spec 2.4.3 PTR for an endpoint with hostname',
  },
  {
    name: `11.1.244.10.in-addr.arpa`,
    type: 'PTR',
    answer: [`11.1.244.10.in-addr.arpa. 5 IN PTR 10-244-1-11.hdls.testns.svc.${Z}.`],
    why: 'PTR for an endpoint without hostname: dashed IP (CoreDNS)',
  },
  { name: `hdls-empty.testns.svc.${Z}`, type: 'A', rcode: 'NXDOMAIN', authority: [SOA], why: 'spec 2.4.1: no ready endpoints' },
  { name: `hdls-empty.testns.svc.${Z}`, type: 'SRV', rcode: 'NXDOMAIN', authority: [SOA], why: 'no ready endpoints, any type' },
  {
    name: `hdls-pna.testns.svc.${Z}`,
    type: 'A',
    answer: [`hdls-pna.testns.svc.${Z}. 5 IN A 10.244.3.1`],
    why: 'publishNotReadyAddresses publishes not-ready endpoints',
  },
  // hostname / subdomain pods
  {
    name: `busybox-1.hdls.testns.svc.${Z}`,
    type: 'A',
    answer: [`busybox-1.hdls.testns.svc.${Z}. 5 IN A 10.244.4.1`],
    why: 'pod hostname.subdomain, even without the slice carrying it',
  },
  { name: `busybox-2.hdls.testns.svc.${Z}`, type: 'A', rcode: 'NXDOMAIN', authority: [SOA], why: 'pod not ready' },
  { name: `busybox-1.svc1.testns.svc.${Z}`, type: 'A', rcode: 'NXDOMAIN', authority: [SOA], why: 'subdomain names another service' },
  // §2.5 ExternalName
  {
    name: `ext.testns.svc.${Z}`,
    type: 'A',
    answer: [`ext.testns.svc.${Z}. 5 IN CNAME www.example.com.`],
    why: "spec 2.5 (chasing the external target is the upstream's work)",
  },
  {
    name: `ext.testns.svc.${Z}`,
    type: 'CNAME',
    answer: [`ext.testns.svc.${Z}. 5 IN CNAME www.example.com.`],
    why: 'CNAME query',
  },
  {
    name: `ext-in.testns.svc.${Z}`,
    type: 'A',
    answer: [`ext-in.testns.svc.${Z}. 5 IN CNAME svc1.testns.svc.${Z}.`, `svc1.testns.svc.${Z}. 5 IN A 10.96.1.1`],
    why: 'in-zone target chased from the index',
  },
  // pods
  {
    name: `10-244-5-5.default.pod.${Z}`,
    type: 'A',
    answer: [`10-244-5-5.default.pod.${Z}. 5 IN A 10.244.5.5`],
    why: 'verified: a pod with that IP in that namespace',
  },
  {
    name: `fd00-244--5.default.pod.${Z}`,
    type: 'AAAA',
    answer: [`fd00-244--5.default.pod.${Z}. 5 IN AAAA fd00:244::5`],
    why: 'IPv6 pod name',
  },
  { name: `10-244-5-5.default.pod.${Z}`, type: 'AAAA', authority: [SOA], why: 'v4 pod name, AAAA: NODATA' },
  { name: `10-244-5-5.testns.pod.${Z}`, type: 'A', rcode: 'NXDOMAIN', authority: [SOA], why: 'verified: wrong namespace' },
  { name: `1-2-3-4.default.pod.${Z}`, type: 'A', rcode: 'NXDOMAIN', authority: [SOA], why: 'verified: no such pod' },
  {
    name: `1-2-3-4.default.pod.${Z}`,
    type: 'A',
    pods: 'insecure',
    answer: [`1-2-3-4.default.pod.${Z}. 5 IN A 1.2.3.4`],
    why: 'insecure: any IP',
  },
  {
    name: `1-2-3-4.nope.pod.${Z}`,
    type: 'A',
    pods: 'insecure',
    rcode: 'NXDOMAIN',
    authority: [SOA],
    why: 'insecure: namespace must exist',
  },
  { name: `10-244-5-5.default.pod.${Z}`, type: 'A', pods: 'disabled', rcode: 'NXDOMAIN', authority: [SOA], why: 'disabled' },
  { name: `default.pod.${Z}`, type: 'A', authority: [SOA], why: '<ns>.pod.<zone>: NODATA' },
  { name: `nope.pod.${Z}`, type: 'A', rcode: 'NXDOMAIN', authority: [SOA], why: 'unknown namespace under pod' },
  // search-path expansions pods send with ndots:5
  {
    name: `svc1.testns.svc.${Z}.testns.svc.${Z}`,
    type: 'A',
    rcode: 'NXDOMAIN',
    authority: [SOA],
    why: 'search-path expansion: too many labels',
  },
  { name: `www.example.com.testns.svc.${Z}`, type: 'A', rcode: 'NXDOMAIN', authority: [SOA], why: 'external name expansion' },
  // Empty non-terminals: a name with names below it exists (RFC 1034 §3.1, RFC 4592 §2.2.2), so it
  // is NODATA, never NXDOMAIN, which RFC 8020 lets a cache apply to everything below it. CoreDNS
  // answers NXDOMAIN for the `_proto` ones (it reads `_tcp.svc1` as an endpoint named `_tcp`).
  { name: `_tcp.svc1.testns.svc.${Z}`, type: 'A', authority: [SOA], why: 'ENT: `_http._tcp.svc1…` is below it' },
  { name: `_tcp.svc1.testns.svc.${Z}`, type: 'SRV', authority: [SOA], why: 'ENT, any type: NODATA' },
  {
    name: `tcp.svc1.testns.svc.${Z}`,
    type: 'A',
    authority: [SOA],
    why: 'ENT without the underscore: `http.tcp.svc1…` answers (CoreDNS strips underscores)',
  },
  { name: `_.svc1.testns.svc.${Z}`, type: 'A', authority: [SOA], why: 'ENT: a `_` protocol label matches any, so `_http._.svc1…` answers' },
  { name: `_udp.svc1.testns.svc.${Z}`, type: 'A', rcode: 'NXDOMAIN', authority: [SOA], why: 'no UDP port: nothing below it' },
  { name: `_sctp.svc1.testns.svc.${Z}`, type: 'A', rcode: 'NXDOMAIN', authority: [SOA], why: 'no SCTP port' },
  { name: `_udp.kube-dns.kube-system.svc.${Z}`, type: 'A', authority: [SOA], why: 'ENT: the dns port is UDP' },
  { name: `_tcp.hdls.testns.svc.${Z}`, type: 'A', authority: [SOA], why: 'ENT under a headless service: ready endpoints with TCP ports' },
  { name: `_udp.hdls.testns.svc.${Z}`, type: 'A', authority: [SOA], why: 'ENT: the metrics port (UDP) of the IPv4 slice' },
  { name: `_tcp.hdls-empty.testns.svc.${Z}`, type: 'A', rcode: 'NXDOMAIN', authority: [SOA], why: 'no ready endpoint: no SRV below it' },
  { name: `_tcp.ext.testns.svc.${Z}`, type: 'A', rcode: 'NXDOMAIN', authority: [SOA], why: 'ExternalName: no SRV below it' },
  {
    name: `_x._tcp.svc1.testns.svc.${Z}`,
    type: 'SRV',
    rcode: 'NXDOMAIN',
    authority: [SOA],
    why: 'below the ENT, a port that does not exist',
  },
  {
    name: `hdls-sub.testns.svc.${Z}`,
    type: 'A',
    authority: [SOA],
    why: "headless without ready endpoints (no records, spec 2.4.1), but a pod's hostname.subdomain answers below it: ENT",
  },
  {
    name: `sub-0.hdls-sub.testns.svc.${Z}`,
    type: 'A',
    answer: [`sub-0.hdls-sub.testns.svc.${Z}. 5 IN A 10.244.6.1`],
    why: 'the pod hostname.subdomain name below that ENT',
  },
  {
    name: `hdls-sub-late.testns.svc.${Z}`,
    type: 'A',
    rcode: 'NXDOMAIN',
    authority: [SOA],
    why: 'only a not-ready pod below: nothing answers, NXDOMAIN',
  },
  { name: `1.96.10.in-addr.arpa`, type: 'PTR', authority: [RSOA4], why: 'reverse ENT: 1.1.96.10.in-addr.arpa answers below it' },
  { name: `96.10.in-addr.arpa`, type: 'NS', authority: [RSOA4], why: 'reverse ENT, any type' },
  { name: `10.in-addr.arpa`, type: 'SOA', authority: [RSOA4], why: 'reverse ENT at one label' },
  { name: `0.0.d.f.ip6.arpa`, type: 'PTR', authority: [RSOA6], why: 'IPv6 reverse ENT: fd00:10:96::2 lies below it' },
  {
    name: `0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa`,
    type: 'AAAA',
    authority: [RSOA6],
    why: 'IPv6 reverse ENT one nibble above the address, any type',
  },
  {
    name: `d.f.ip6.arpa`,
    type: 'PTR',
    authority: [RSOA6],
    why: 'IPv6 reverse ENT at one nibble; an endpoint address (fd00:244::10) counts too',
  },
  {
    name: `2.244.10.in-addr.arpa`,
    type: 'PTR',
    authority: [RSOA4],
    why: 'an endpoint address (not ready, so its own PTR passes on) lies below: a cluster address range',
  },
];

function ask(zone: KubernetesZone, name: string, type: number, asked = name) {
  const reply = zone.serve({ name, type, class: 1, id: 1, flags: 0, questionEnd: 0, edns: null } satisfies Query);
  return reply && decode(replyMessage(asked, type, reply));
}

const zones = new Map<PodMode, KubernetesZone>();
// For the empty non-terminal rows: headless services whose only names are pods' hostname.subdomain.
const index = indexOf([
  ...testCluster(),
  service('testns', 'hdls-sub', { headless: true }),
  pod('testns', 'sub-0', ['10.244.6.1'], { hostname: 'sub-0', subdomain: 'hdls-sub' }),
  service('testns', 'hdls-sub-late', { headless: true }),
  pod('testns', 'late-0', ['10.244.6.2'], { hostname: 'late-0', subdomain: 'hdls-sub-late', ready: false }),
]);
for (const pods of ['disabled', 'insecure', 'verified'] as const) {
  zones.set(pods, new KubernetesZone({ index, zone: Z, ttl: 5, pods }));
}

for (const row of rows) {
  test(`${row.name} ${row.type}${row.pods ? ` (pods ${row.pods})` : ''}: ${row.why}`, () => {
    const got = ask(zones.get(row.pods ?? 'verified')!, row.name, TYPE[row.type]);
    assert.ok(got, 'the zone answers');
    assert.equal(got.rcode, row.rcode ?? 'NOERROR');
    assert.equal(got.aa, true, 'AA on every answer from the zone');
    assert.deepEqual(got.answer.map(withoutSerial), row.answer ?? []);
    assert.deepEqual(got.authority.map(withoutSerial), row.authority ?? []);
    assert.deepEqual(got.additional, row.additional ?? []);
  });
}

test("matching is case-insensitive and the owner keeps the question's case", () => {
  const zone = zones.get('verified')!;
  const asked = `SVC1.TestNS.svc.Cluster.Local`;
  const got = ask(zone, asked.toLowerCase(), TYPE.A, asked);
  assert.ok(got);
  assert.deepEqual(got.answer, [`${asked}. 5 IN A 10.96.1.1`]);
});

test('ANY is answered minimally (RFC 8482), and NXDOMAIN for a missing name', () => {
  const zone = zones.get('verified')!;
  const got = ask(zone, `svc1.testns.svc.${Z}`, TYPE.ANY);
  assert.equal(got?.answer.length, 1);
  assert.match(got!.answer[0]!, / IN HINFO /);
  assert.equal(ask(zone, `nosuch.testns.svc.${Z}`, TYPE.ANY)?.rcode, 'NXDOMAIN');
});

test('names outside the zone and unknown reverse names pass to the next handler', () => {
  const zone = zones.get('verified')!;
  assert.equal(ask(zone, 'www.example.com', TYPE.A), null);
  assert.equal(ask(zone, 'xcluster.local', TYPE.A), null);
  assert.equal(ask(zone, '9.9.9.9.in-addr.arpa', TYPE.PTR), null);
  // Partial reverse names above no cluster address, or not reverse names at all.
  const belowNothing = [
    '9.in-addr.arpa',
    '9.96.10.in-addr.arpa',
    '0.97.10.in-addr.arpa',
    'x.10.in-addr.arpa',
    '010.in-addr.arpa',
    '256.in-addr.arpa',
  ];
  for (const name of [...belowNothing, 'e.f.ip6.arpa', '7.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa', 'g.d.f.ip6.arpa']) {
    assert.equal(ask(zone, name, TYPE.PTR), null, name);
  }
});

test('reverse empty non-terminals follow the addresses below them', () => {
  const index = indexOf(testCluster());
  const zone = new KubernetesZone({ index, zone: Z, ttl: 5, pods: 'verified' });
  const ent = ['97.10.in-addr.arpa', '7.97.10.in-addr.arpa', '7.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa'];
  const full = '8.7.97.10.in-addr.arpa';
  for (const name of [...ent, full]) assert.equal(ask(zone, name, TYPE.PTR), null, `${name}: nothing below yet`);
  const apply = (obj: ReturnType<typeof service>) => {
    const r = toRecord(obj)!;
    index.upsert(r.kind, r.record);
  };
  apply(service('testns', 'late', { clusterIPs: ['10.97.7.8', 'fd00:10:97::7'] }));
  for (const name of ent) {
    const got = ask(zone, name, TYPE.PTR);
    assert.equal(got?.rcode, 'NOERROR', name);
    assert.deepEqual(got?.answer, [], name);
  }
  assert.deepEqual(ask(zone, full, TYPE.PTR)?.answer, [`${full}. 5 IN PTR late.testns.svc.${Z}.`]);
  // The same address as an endpoint too: it stays counted until both are gone.
  apply(endpointSlice('testns', 'svc1', 'svc1-late', 'IPv4', [{ ip: '10.97.7.8' }], []));
  index.remove('Service', 'testns/late');
  assert.equal(ask(zone, ent[1]!, TYPE.PTR)?.rcode, 'NOERROR', 'the endpoint address is still below');
  assert.equal(ask(zone, ent[2]!, TYPE.PTR), null, 'fd00:10:97::7 went with the Service');
  index.remove('EndpointSlice', 'testns/svc1-late');
  for (const name of [...ent, full]) assert.equal(ask(zone, name, TYPE.PTR), null, `${name}: nothing below any more`);
});

test('SRV weight is floor(100/N) over the records of the answer', () => {
  const objects = [
    ...testCluster(),
    service('testns', 'three', { headless: true }),
    endpointSlice(
      'testns',
      'three',
      'three-1',
      'IPv4',
      [{ ip: '10.244.9.1' }, { ip: '10.244.9.2' }, { ip: '10.244.9.3' }],
      [{ name: 'p', port: 1 }],
    ),
  ];
  const zone = new KubernetesZone({ index: indexOf(objects), zone: Z, ttl: 5, pods: 'verified' });
  const got = ask(zone, `_p._tcp.three.testns.svc.${Z}`, TYPE.SRV);
  assert.equal(got?.answer.length, 3);
  for (const rr of got!.answer) assert.match(rr, / SRV 0 33 1 /);
});

test('before the first full sync, misses are SERVFAIL and hits still answer', () => {
  const index = new ClusterIndex();
  for (const obj of testCluster()) {
    const r = toRecord(obj);
    if (r) index.upsert(r.kind, r.record);
  }
  const zone = new KubernetesZone({ index, zone: Z, ttl: 5, pods: 'verified' });
  assert.equal(ask(zone, `nosuch.testns.svc.${Z}`, TYPE.A)?.rcode, 'SERVFAIL');
  assert.equal(ask(zone, `svc1.testns.svc.${Z}`, TYPE.A)?.rcode, 'NOERROR');
  for (const kind of ['Namespace', 'Service', 'EndpointSlice', 'Pod'] as const) index.markSynced(kind);
  assert.equal(ask(zone, `nosuch.testns.svc.${Z}`, TYPE.A)?.rcode, 'NXDOMAIN');
});

test('prepared answers are rebuilt when the index changes, never served stale', () => {
  const index = indexOf(testCluster());
  const zone = new KubernetesZone({ index, zone: Z, ttl: 5, pods: 'verified' });
  const name = `svc1.testns.svc.${Z}`;
  const first = zone.serve({ name, type: TYPE.A, class: 1, id: 1, flags: 0, questionEnd: 0, edns: null });
  const again = zone.serve({ name, type: TYPE.A, class: 1, id: 2, flags: 0, questionEnd: 0, edns: null });
  assert.equal(first, again, 'a repeated question is served from the prepared reply');
  const changed = toRecord(service('testns', 'svc1', { clusterIPs: ['10.96.1.99'], ports: [] }))!;
  index.upsert(changed.kind, changed.record);
  assert.deepEqual(ask(zone, name, TYPE.A)?.answer, [`${name}. 5 IN A 10.96.1.99`]);
  index.remove('Service', 'testns/svc1');
  assert.equal(ask(zone, name, TYPE.A)?.rcode, 'NXDOMAIN');
});

test('the SOA serial is the time of the last DNS-relevant change', () => {
  let now = 1_700_000_000_000;
  const index = indexOf(testCluster(), () => now);
  const zone = new KubernetesZone({ index, zone: Z, ttl: 5, pods: 'verified' });
  const serial = () => ask(zone, Z, TYPE.SOA)!.answer[0]!.split(' ')[6];
  assert.equal(serial(), '1700000000');
  now += 60_000;
  const same = toRecord(service('testns', 'svc1', { clusterIPs: ['10.96.1.1'], ports: [{ name: 'http', port: 80 }, { port: 8080 }] }))!;
  index.upsert(same.kind, same.record);
  assert.equal(serial(), '1700000000', 'an update that changes nothing DNS sees keeps the serial');
  index.remove('Service', 'testns/svc1');
  assert.equal(serial(), '1700000060');
});

describe('prepared answers are kept per namespace', () => {
  const setup = () => {
    const index = indexOf([...testCluster(), namespace('other'), service('other', 'far', { clusterIPs: ['10.96.7.7'] })]);
    const zone = new KubernetesZone({ index, zone: Z, ttl: 5, pods: 'verified' });
    const serve = (name: string, type: number = TYPE.A) =>
      zone.serve({ name, type, class: 1, id: 1, flags: 0, questionEnd: 0, edns: null });
    const apply = (obj: ReturnType<typeof service>) => {
      const r = toRecord(obj)!;
      index.upsert(r.kind, r.record);
    };
    return { index, zone, serve, apply, ask: (name: string, type: number = TYPE.A) => ask(zone, name, type) };
  };

  it("a change in one namespace keeps the other namespaces' replies, and rebuilds its own", () => {
    const { serve, apply, ask } = setup();
    const here = `svc1.testns.svc.${Z}`;
    const missHere = `nosuch.testns.svc.${Z}`;
    const there = `far.other.svc.${Z}`;
    const [hereReply, missReply, thereReply] = [serve(here), serve(missHere), serve(there)];
    apply(service('other', 'far', { clusterIPs: ['10.96.7.8'] }));
    assert.equal(serve(here), hereReply, 'testns untouched: the same prepared reply');
    assert.equal(serve(missHere), missReply);
    assert.notEqual(serve(there), thereReply);
    assert.deepEqual(ask(there)?.answer, [`${there}. 5 IN A 10.96.7.8`]);
    apply(service('testns', 'nosuch', { clusterIPs: ['10.96.1.77'] }));
    assert.deepEqual(ask(missHere)?.answer, [`${missHere}. 5 IN A 10.96.1.77`], 'a new service answers at once');
  });

  it('names under unknown namespaces and other unknown names follow namespaces coming and going', () => {
    const { index, serve, apply, ask } = setup();
    const name = `late.newns.svc.${Z}`;
    const search = `www.example.com.${Z}`;
    assert.equal(ask(name)?.rcode, 'NXDOMAIN');
    const searchReply = serve(search);
    apply(service('newns', 'late', { clusterIPs: ['10.96.9.9'] }));
    assert.equal(ask(name)?.rcode, 'NXDOMAIN', 'no Namespace object yet');
    index.upsert('Namespace', { name: 'newns' });
    assert.deepEqual(ask(name)?.answer, [`${name}. 5 IN A 10.96.9.9`]);
    assert.equal(serve(search), searchReply, 'a name no namespace can hold stays prepared');
    index.remove('Namespace', 'newns');
    assert.equal(ask(name)?.rcode, 'NXDOMAIN', 'the namespace is gone');
    index.upsert('Namespace', { name: 'newns' });
    assert.deepEqual(ask(name)?.answer, [`${name}. 5 IN A 10.96.9.9`], 'and back');
  });

  it('pod names follow pods of their namespace (--pods verified)', () => {
    const { index, ask } = setup();
    const name = `10-244-7-7.other.pod.${Z}`;
    assert.equal(ask(name)?.rcode, 'NXDOMAIN');
    const r = toRecord(pod('other', 'p7', ['10.244.7.7']))!;
    index.upsert(r.kind, r.record);
    assert.deepEqual(ask(name)?.answer, [`${name}. 5 IN A 10.244.7.7`]);
    index.remove('Pod', 'other/p7');
    assert.equal(ask(name)?.rcode, 'NXDOMAIN');
  });

  it('an ExternalName pointing into another namespace, and reverse names, follow changes anywhere', () => {
    const { serve, apply, ask } = setup();
    apply(service('testns', 'alias', { externalName: `far.other.svc.${Z}` }));
    const alias = `alias.testns.svc.${Z}`;
    assert.deepEqual(ask(alias)?.answer, [`${alias}. 5 IN CNAME far.other.svc.${Z}.`, `far.other.svc.${Z}. 5 IN A 10.96.7.7`]);
    const ptr = '8.7.96.10.in-addr.arpa';
    assert.equal(serve(ptr, TYPE.PTR), null, 'nobody has 10.96.7.8 yet');
    apply(service('other', 'far', { clusterIPs: ['10.96.7.8'] }));
    assert.deepEqual(ask(alias)?.answer, [`${alias}. 5 IN CNAME far.other.svc.${Z}.`, `far.other.svc.${Z}. 5 IN A 10.96.7.8`]);
    assert.deepEqual(ask(ptr, TYPE.PTR)?.answer, [`${ptr}. 5 IN PTR far.other.svc.${Z}.`]);
  });
});

describe('ignore empty_service (--ignore-empty-service): a ClusterIP Service without ready endpoints does not exist', () => {
  const objects = [
    ...testCluster(),
    service('testns', 'notready', { clusterIPs: ['10.96.1.9'], ports: [{ name: 'http', port: 80 }] }),
    endpointSlice('testns', 'notready', 'notready-1', 'IPv4', [{ ip: '10.244.9.9', ready: false }], [{ name: 'http', port: 80 }]),
  ];
  const on = new KubernetesZone({ index: indexOf(objects), zone: Z, ttl: 5, pods: 'verified', ignoreEmptyService: true });
  const off = new KubernetesZone({ index: indexOf(objects), zone: Z, ttl: 5, pods: 'verified' });
  const rows: { name: string; type: keyof typeof TYPE; on: string; off: string; why: string }[] = [
    {
      name: `dual.testns.svc.${Z}`,
      type: 'A',
      on: 'NXDOMAIN',
      off: 'NOERROR',
      why: 'no EndpointSlice at all (CoreDNS TestServeDNS ignore empty_service)',
    },
    { name: `_https._tcp.dual.testns.svc.${Z}`, type: 'SRV', on: 'NXDOMAIN', off: 'NOERROR', why: 'its SRV names go with it' },
    { name: `notready.testns.svc.${Z}`, type: 'A', on: 'NXDOMAIN', off: 'NOERROR', why: 'endpoints, none ready' },
    { name: `svc1.testns.svc.${Z}`, type: 'A', on: 'NOERROR', off: 'NOERROR', why: 'ready endpoints: answered as always' },
    { name: `hdls-empty.testns.svc.${Z}`, type: 'A', on: 'NXDOMAIN', off: 'NXDOMAIN', why: 'headless Services follow the spec either way' },
    { name: `ext.testns.svc.${Z}`, type: 'CNAME', on: 'NOERROR', off: 'NOERROR', why: 'ExternalName has no endpoints to count' },
    { name: '2.1.96.10.in-addr.arpa', type: 'PTR', on: 'NOERROR', off: 'NOERROR', why: 'the PTR of its ClusterIP stays, as in CoreDNS' },
  ];
  for (const row of rows) {
    it(`${row.name} ${row.type}: ${row.on} (${row.why})`, () => {
      assert.equal(ask(on, row.name, TYPE[row.type])?.rcode, row.on, 'on');
      assert.equal(ask(off, row.name, TYPE[row.type])?.rcode, row.off, 'off');
    });
  }

  it('the answer follows the endpoints: ready → answered, gone → NXDOMAIN again', () => {
    const index = indexOf(objects);
    const zone = new KubernetesZone({ index, zone: Z, ttl: 5, pods: 'verified', ignoreEmptyService: true });
    const name = `notready.testns.svc.${Z}`;
    assert.equal(ask(zone, name, TYPE.A)?.rcode, 'NXDOMAIN');
    const ready = toRecord(
      endpointSlice('testns', 'notready', 'notready-1', 'IPv4', [{ ip: '10.244.9.9' }], [{ name: 'http', port: 80 }]),
    )!;
    index.upsert(ready.kind, ready.record);
    assert.deepEqual(ask(zone, name, TYPE.A)?.answer, [`${name}. 5 IN A 10.96.1.9`]);
    index.remove('EndpointSlice', 'testns/notready-1');
    assert.equal(ask(zone, name, TYPE.A)?.rcode, 'NXDOMAIN');
  });
});

describe('fallthrough (--fallthrough ZONE): an NXDOMAIN in those zones is passed on, everything else answered', () => {
  const index = indexOf(testCluster());
  const rows: { fallthrough: string[]; name: string; type: keyof typeof TYPE; want: string | null; why: string }[] = [
    {
      fallthrough: ['.'],
      name: `nosuch.testns.svc.${Z}`,
      type: 'A',
      want: null,
      why: "'.': every NXDOMAIN goes on (CoreDNS's bare fallthrough)",
    },
    { fallthrough: ['.'], name: `foo.${Z}`, type: 'A', want: null, why: 'a name CoreDNS tests pass to the file plugin behind it' },
    { fallthrough: ['.'], name: `svc1.testns.svc.${Z}`, type: 'A', want: 'NOERROR', why: 'what exists is answered' },
    { fallthrough: ['.'], name: `svc1.testns.svc.${Z}`, type: 'TXT', want: 'NOERROR', why: 'NODATA is an answer, not a miss' },
    { fallthrough: [`svc.${Z}`], name: `nosuch.testns.svc.${Z}`, type: 'A', want: null, why: 'inside the listed zone' },
    {
      fallthrough: [`svc.${Z}`],
      name: `foo.${Z}`,
      type: 'A',
      want: 'NXDOMAIN',
      why: 'outside it: answered (TestKubernetesFallthroughFiltered)',
    },
    { fallthrough: [], name: `nosuch.testns.svc.${Z}`, type: 'A', want: 'NXDOMAIN', why: 'off' },
  ];
  for (const row of rows) {
    it(`${row.fallthrough.join(' ') || 'none'}: ${row.name} ${row.type} → ${row.want ?? 'passed on'} (${row.why})`, () => {
      const zone = new KubernetesZone({ index, zone: Z, ttl: 5, pods: 'verified', fallthrough: row.fallthrough });
      assert.equal(ask(zone, row.name, TYPE[row.type])?.rcode ?? null, row.want);
      assert.equal(ask(zone, row.name, TYPE[row.type])?.rcode ?? null, row.want, 'the same from the prepared replies');
    });
  }
  it('before the first sync a miss is still SERVFAIL: not known to be missing', () => {
    const zone = new KubernetesZone({ index: new ClusterIndex(), zone: Z, ttl: 5, pods: 'verified', fallthrough: ['.'] });
    assert.equal(ask(zone, `nosuch.testns.svc.${Z}`, TYPE.A)?.rcode, 'SERVFAIL');
  });
});
