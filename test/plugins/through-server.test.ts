// rewrite and loadbalance through the real QueryProcessor and the real cluster zone: wire queries
// in, wire replies out, read back with an independent decoder (dns2).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TYPE } from '../../src/dns/constants.ts';
import type { RequestContext } from '../../src/dns/message.ts';
import { QueryProcessor } from '../../src/server/processor.ts';
import { KubernetesZone } from '../../src/zone/kubernetes.ts';
import { Chain } from '../../src/plugins/chain.ts';
import { RecordShuffle } from '../../src/plugins/loadbalance.ts';
import { parseRewriteArgs, RewriteHandler } from '../../src/plugins/rewrite.ts';
import { buildQuery, decode } from '../support/dns.ts';
import { endpointSlice, indexOf, service, testCluster } from '../support/cluster.ts';

const UDP: RequestContext = { protocol: 'udp', remoteAddress: '127.0.0.1' };
const ADDRESSES = Array.from({ length: 40 }, (_, i) => `10.244.9.${i + 1}`);

function zone(): KubernetesZone {
  const objects = [
    ...testCluster(),
    service('testns', 'big', { headless: true, ports: [{ name: 'http', port: 80 }] }),
    endpointSlice(
      'testns',
      'big',
      'big-1',
      'IPv4',
      ADDRESSES.map((ip) => ({ ip })),
      [{ name: 'http', port: 80 }],
    ),
  ];
  return new KubernetesZone({ index: indexOf(objects), zone: 'cluster.local', ttl: 5, pods: 'verified' });
}

function rewriting(rules: string[], options: { shuffle?: boolean } = {}): QueryProcessor {
  const z = zone();
  const rewrite = new RewriteHandler({ rules: rules.map((r) => parseRewriteArgs(r.split(' '))) }, new Chain([z]));
  return new QueryProcessor({ handlers: [rewrite], ...(options.shuffle ? { recordOrder: new RecordShuffle() } : {}) });
}

async function ask(p: QueryProcessor, name: string, type: number, udpSize?: number) {
  const request = buildQuery(name, type, udpSize === undefined ? {} : { udpSize });
  const out = await p.process(request, UDP);
  assert.ok(out !== null);
  return { request, out, d: decode(out) };
}

describe('rewrite through the server', () => {
  it('an aliased name answers under the name asked, its question echoed byte for byte (0x20 case kept)', async () => {
    const p = rewriting(['name example.com kube-dns.kube-system.svc.cluster.local']);
    const { request, out, d } = await ask(p, 'ExAmple.COM', TYPE.A, 1232);
    assert.equal(d.rcode, 'NOERROR');
    assert.deepEqual(d.answer, ['ExAmple.COM. 5 IN A 10.96.0.10']);
    const questionEnd = 12 + 13 + 4;
    assert.deepEqual(out.subarray(12, questionEnd), request.subarray(12, questionEnd), 'question as asked');
    assert.equal(out.readUInt16BE(questionEnd), 0xc00c, 'the owner points at the asked question');
    assert.equal(d.aa, true);
  });

  it('a regex rewrite with answer name: a headless Service under another domain', async () => {
    const p = rewriting([
      'stop name regex (.*)\\.db\\.example\\.org {1}.testns.svc.cluster.local answer name (.*)\\.testns\\.svc\\.cluster\\.local {1}.db.example.org',
    ]);
    const { d } = await ask(p, 'hdls.db.example.org', TYPE.A);
    assert.deepEqual(d.answer.sort(), ['hdls.db.example.org. 5 IN A 10.244.1.10', 'hdls.db.example.org. 5 IN A 10.244.1.11']);
  });

  it('a rewritten name the zone lacks: NXDOMAIN with the zone SOA, the authority section re-encoded too', async () => {
    const p = rewriting(['name exact nope.example.org nope.testns.svc.cluster.local']);
    const { d } = await ask(p, 'nope.example.org', TYPE.A);
    assert.equal(d.rcode, 'NXDOMAIN');
    assert.match(d.authority[0] ?? '', /^cluster\.local\. 5 IN SOA ns\.dns\.cluster\.local\. /);
  });

  it('queries no rule matches are answered by the chain as without rewrite', async () => {
    const p = rewriting(['name example.com kube-dns.kube-system.svc.cluster.local']);
    const { d } = await ask(p, 'svc1.testns.svc.cluster.local', TYPE.A);
    assert.deepEqual(d.answer, ['svc1.testns.svc.cluster.local. 5 IN A 10.96.1.1']);
  });
});

describe('loadbalance through the server', () => {
  it('off: the same order every time (order-sensitive clients)', async () => {
    const p = new QueryProcessor({ handlers: [zone()] });
    const orders = new Set<string>();
    for (let i = 0; i < 10; i++) orders.add((await ask(p, 'big.testns.svc.cluster.local', TYPE.A, 4096)).d.answer.join());
    assert.equal(orders.size, 1);
  });

  it('on: the same 40 records in another order on each reply, from the same prepared reply', async () => {
    const p = new QueryProcessor({ handlers: [zone()], recordOrder: new RecordShuffle() });
    const orders = new Set<string>();
    let first: string[] | null = null;
    for (let i = 0; i < 10; i++) {
      const { d } = await ask(p, 'big.testns.svc.cluster.local', TYPE.A, 4096);
      assert.equal(d.answer.length, 40);
      first ??= [...d.answer].sort();
      assert.deepEqual([...d.answer].sort(), first);
      orders.add(d.answer.join());
    }
    assert.ok(orders.size > 5, `${orders.size} orders in 10 replies`);
  });

  it('a truncated UDP reply carries a different subset of whole records each time (TC set)', async () => {
    const p = new QueryProcessor({ handlers: [zone()], recordOrder: new RecordShuffle() });
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const { d, out } = await ask(p, 'big.testns.svc.cluster.local', TYPE.A);
      assert.equal(d.tc, true);
      assert.ok(out.length <= 512);
      for (const rr of d.answer) seen.add(rr);
    }
    assert.ok(seen.size > 30, `${seen.size} of 40 addresses reached a 512-octet client`);
  });

  it('with rewrite: the re-encoded reply is shuffled too', async () => {
    const p = rewriting(['name big.example.org big.testns.svc.cluster.local'], { shuffle: true });
    const orders = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const { d } = await ask(p, 'big.example.org', TYPE.A, 4096);
      assert.equal(d.answer.length, 40);
      assert.ok(d.answer.every((rr) => rr.startsWith('big.example.org. 5 IN A 10.244.9.')));
      orders.add(d.answer.join());
    }
    assert.ok(orders.size > 1);
  });
});
