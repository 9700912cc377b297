// --autopath through the real processor: the handler chain as app.ts builds it (autopath →
// cluster zone with the ExternalName chaser → forwarder), a scripted loopback upstream, and
// clients that are, or are not, pods of the namespace their first search domain names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CONFIG, type ForwardConfig } from '../../src/config.ts';
import { TYPE } from '../../src/dns/constants.ts';
import type { Handler } from '../../src/dns/message.ts';
import { silentLogger } from '../../src/base/log.ts';
import { QueryProcessor } from '../../src/server/processor.ts';
import { Autopath } from '../../src/upstream/autopath.ts';
import { ExternalNameChaser } from '../../src/upstream/chase.ts';
import { Forwarder } from '../../src/upstream/forward.ts';
import { KubernetesZone } from '../../src/zone/kubernetes.ts';
import { indexOf, testCluster } from '../support/cluster.ts';
import { buildQuery, decode, withoutSerial } from '../support/dns.ts';
import { a, FakeUpstream } from '../support/upstream.ts';

/** busybox1, a pod of `testns` in the test cluster; dualpod (10.244.5.5) is a pod of `default`. */
const POD_OF_TESTNS = '10.244.4.1';
const POD_OF_DEFAULT = '10.244.5.5';

async function rig(t: { after: (fn: () => unknown) => void }, withForwarder = true, search: string[] = []) {
  const up = await FakeUpstream.start();
  t.after(() => up.close());
  up.set('api.example.com', { kind: 'answer', records: [a('api.example.com', '192.0.2.55', 60)] });
  const config: ForwardConfig = {
    ...DEFAULT_CONFIG.forward,
    upstreams: [{ host: '127.0.0.1', port: up.port }],
    upstreamsFrom: '--upstream',
    policy: 'sequential',
    maxConcurrent: 100,
    cacheSize: 100,
    cacheDenialSize: 100,
    serveStaleMs: 0,
    autopath: true,
    autopathSearch: search,
  };
  const forwarder = withForwarder ? new Forwarder({ config, logger: silentLogger() }) : null;
  if (forwarder) t.after(() => forwarder.close());
  const index = indexOf(testCluster());
  const zone = new KubernetesZone({ index, zone: 'cluster.local', ttl: 5, pods: 'verified' });
  const zoneHandler = forwarder ? new ExternalNameChaser(zone, forwarder) : zone;
  const handlers: Handler[] = [
    new Autopath({ index, zone: zoneHandler, zoneName: 'cluster.local', forwarder, ttl: 5, search }),
    zoneHandler,
  ];
  if (forwarder) handlers.push(forwarder);
  const processor = new QueryProcessor({ handlers });
  const ask = async (name: string, from: string, type: number = TYPE.A) => {
    const out = await processor.process(buildQuery(name, type, { udpSize: 1232 }), { protocol: 'udp', remoteAddress: from });
    assert.ok(out);
    return decode(out);
  };
  return { up, ask };
}

test("a pod's first search expansion of an external name: CNAME to the name, with the upstream's records", async (t) => {
  const { up, ask } = await rig(t);
  const r = await ask('api.example.com.testns.svc.cluster.local', POD_OF_TESTNS);
  assert.equal(r.rcode, 'NOERROR');
  assert.deepEqual(r.answer, [
    'api.example.com.testns.svc.cluster.local. 5 IN CNAME api.example.com.',
    'api.example.com. 60 IN A 192.0.2.55',
  ]);
  assert.equal(r.aa, false);
  assert.equal(r.ra, true);
  assert.deepEqual(
    up.received.map((q) => q.name),
    ['api.example.com'],
    'the search list was walked here, only the name itself went upstream',
  );
  // A dual-stack listener sees the same client as an IPv4-mapped address.
  const mapped = await ask('api.example.com.testns.svc.cluster.local', `::ffff:${POD_OF_TESTNS}`);
  assert.deepEqual(mapped.answer, r.answer);
});

test('a name of the cluster further down the search list: CNAME to it, answered from the index', async (t) => {
  const { up, ask } = await rig(t);
  const r = await ask('kubernetes.default.testns.svc.cluster.local', POD_OF_TESTNS);
  assert.equal(r.rcode, 'NOERROR');
  assert.deepEqual(r.answer, [
    'kubernetes.default.testns.svc.cluster.local. 5 IN CNAME kubernetes.default.svc.cluster.local.',
    'kubernetes.default.svc.cluster.local. 5 IN A 10.96.0.1',
  ]);
  assert.equal(r.aa, true, "the CNAME and its target are the zone's own data: authoritative, as without autopath");
  assert.equal(r.ra, false, 'no recursion was involved');
  assert.equal(up.received.length, 0);
  // NODATA further down the list: the same, with the zone's SOA.
  const nodata = await ask('kubernetes.default.testns.svc.cluster.local', POD_OF_TESTNS, TYPE.AAAA);
  assert.equal(nodata.rcode, 'NOERROR');
  assert.equal(nodata.aa, true);
  assert.deepEqual(nodata.answer, ['kubernetes.default.testns.svc.cluster.local. 5 IN CNAME kubernetes.default.svc.cluster.local.']);
  assert.match(withoutSerial(nodata.authority[0] ?? ''), /^cluster\.local\. \d+ IN SOA /);
});

test('a name that exists as asked is answered as it is, without a CNAME', async (t) => {
  const { ask } = await rig(t);
  const r = await ask('svc1.testns.svc.cluster.local', POD_OF_TESTNS);
  assert.deepEqual(r.answer, ['svc1.testns.svc.cluster.local. 5 IN A 10.96.1.1']);
  assert.equal(r.aa, true);
});

test('no autopath for a client that is not a pod of that namespace, nor past the first search domain', async (t) => {
  const { up, ask } = await rig(t);
  for (const from of [POD_OF_DEFAULT, '192.0.2.200']) {
    const r = await ask('api.example.com.testns.svc.cluster.local', from);
    assert.equal(r.rcode, 'NXDOMAIN', from);
    assert.deepEqual(r.answer, []);
  }
  // The second and third expansions: the client is walking its list itself, so it gets plain answers.
  assert.equal((await ask('api.example.com.svc.cluster.local', POD_OF_TESTNS)).rcode, 'NXDOMAIN');
  assert.equal((await ask('api.example.com.cluster.local', POD_OF_TESTNS)).rcode, 'NXDOMAIN');
  assert.equal(
    (await ask('api.example.com.testns.svc.cluster.local', POD_OF_TESTNS, TYPE.ANY)).rcode,
    'NXDOMAIN',
    'ANY is never expanded (RFC 8482)',
  );
  assert.equal(up.received.length, 0);
});

test("a name that exists nowhere on the list: the asked name's own NXDOMAIN, with the zone's SOA", async (t) => {
  const { up, ask } = await rig(t);
  const r = await ask('nothere.example.com.testns.svc.cluster.local', POD_OF_TESTNS);
  assert.equal(r.rcode, 'NXDOMAIN');
  assert.deepEqual(r.answer, []);
  assert.match(withoutSerial(r.authority[0] ?? ''), /^cluster\.local\. \d+ IN SOA ns\.dns\.cluster\.local\./);
  assert.deepEqual(
    up.received.map((q) => q.name),
    ['nothere.example.com'],
    'asked upstream once, as the last step',
  );
});

test('without upstreams, autopath still walks the cluster names', async (t) => {
  const { ask } = await rig(t, false);
  const r = await ask('kubernetes.default.testns.svc.cluster.local', POD_OF_TESTNS);
  assert.equal(r.answer[0], 'kubernetes.default.testns.svc.cluster.local. 5 IN CNAME kubernetes.default.svc.cluster.local.');
  assert.equal((await ask('api.example.com.testns.svc.cluster.local', POD_OF_TESTNS)).rcode, 'NXDOMAIN');
});

test("after the cluster's search domains, the node's (from --resolv-conf), then the name itself", async (t) => {
  const { up, ask } = await rig(t, true, ['corp.example', 'lab.example']);
  up.set('intranet.lab.example', { kind: 'answer', records: [a('intranet.lab.example', '192.0.2.77', 120)] });
  up.set('intranet', { kind: 'answer', records: [a('intranet', '192.0.2.1', 120)] });
  const r = await ask('intranet.testns.svc.cluster.local', POD_OF_TESTNS);
  assert.deepEqual(r.answer, [
    'intranet.testns.svc.cluster.local. 5 IN CNAME intranet.lab.example.',
    'intranet.lab.example. 120 IN A 192.0.2.77',
  ]);
  assert.deepEqual(
    up.received.map((q) => q.name),
    ['intranet.corp.example', 'intranet.lab.example'],
    'in search-list order, stopping at the first that exists',
  );
  // An upstream failure midway is not an answer: the client walks its list itself.
  up.set('wiki.corp.example', { kind: 'servfail' });
  assert.equal((await ask('wiki.testns.svc.cluster.local', POD_OF_TESTNS)).rcode, 'NXDOMAIN');
});

test('an ExternalName found on the search list: the whole chain, its out-of-zone target resolved upstream', async (t) => {
  const { up, ask } = await rig(t);
  up.set('www.example.com', { kind: 'answer', records: [a('www.example.com', '192.0.2.80', 120)] });
  const r = await ask('ext.testns.testns.svc.cluster.local', POD_OF_TESTNS);
  assert.deepEqual(r.answer, [
    'ext.testns.testns.svc.cluster.local. 5 IN CNAME ext.testns.svc.cluster.local.',
    'ext.testns.svc.cluster.local. 5 IN CNAME www.example.com.',
    'www.example.com. 120 IN A 192.0.2.80',
  ]);
});
