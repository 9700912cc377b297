// A Corefile run by the real server (--conf), asked over the wire: its handlers answer (hosts,
// rewrite, template, loadbalance), a stub block forwards to its upstream, an edit takes effect
// without a restart, and a broken edit keeps the running configuration and is counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TYPE } from '../../src/dns/constants.ts';
import { buildQuery, decode } from '../support/dns.ts';
import { queryUdp } from '../support/client.ts';
import { startServer, type ServerProcess } from '../support/process.ts';
import { a, FakeUpstream } from '../support/upstream.ts';
import { eventually } from '../support/eventually.ts';

const CLUSTER = `
kind: Service
metadata: {name: web, namespace: shop}
spec: {clusterIP: 10.96.0.20, clusterIPs: [10.96.0.20]}
---
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Service
metadata: {name: pool, namespace: shop}
spec: {clusterIP: None}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: pool-1, namespace: shop, labels: {kubernetes.io/service-name: pool}}
addressType: IPv4
endpoints:
- addresses: [10.244.0.1]
- addresses: [10.244.0.2]
- addresses: [10.244.0.3]
- addresses: [10.244.0.4]
`;

function corefile(extraHosts: string): string {
  return `.:0 {
    bind 127.0.0.1
    errors
    hosts {
        10.0.0.99 printer.lan
        ${extraHosts}
        fallthrough
    }
    rewrite name exact alias.shop.svc.cluster.local web.shop.svc.cluster.local
    template IN AAAA example.com {
        rcode NOERROR
    }
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    forward . {$UPSTREAM}
    cache 30
    loop
    reload 2s 1s
    loadbalance
}
corp.example:0 {
    bind 127.0.0.1
    forward . {$STUB}
}
`;
}

async function ask(server: ServerProcess, name: string, type: number) {
  const reply = await queryUdp(server.dns, buildQuery(name, type));
  assert.ok(reply, `a reply for ${name}`);
  return decode(reply);
}

test('a Corefile serves: hosts, rewrite, template, loadbalance, a stub block; edits reload, broken ones are kept out', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cdns-corefile-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'cluster.yaml'), CLUSTER);
  const path = join(dir, 'Corefile');
  writeFileSync(path, corefile(''));
  const [up, stub] = await Promise.all([FakeUpstream.start(), FakeUpstream.start()]);
  t.after(() => Promise.all([up.close(), stub.close()]));
  up.set('www.example.com', { kind: 'answer', records: [a('www.example.com', '192.0.2.1')] });
  stub.set('intranet.corp.example', { kind: 'answer', records: [a('intranet.corp.example', '10.1.0.5')] });

  const server = await startServer(
    ['--conf', path, '--manifests', join(dir, 'cluster.yaml')],
    { UPSTREAM: up.address, STUB: stub.address },
    15_000,
    { corefileListens: true },
  );
  t.after(() => server.stop());

  assert.deepEqual((await ask(server, 'printer.lan', TYPE.A)).answer, ['printer.lan. 3600 IN A 10.0.0.99'], 'hosts');
  assert.deepEqual(
    (await ask(server, 'alias.shop.svc.cluster.local', TYPE.A)).answer,
    ['alias.shop.svc.cluster.local. 5 IN A 10.96.0.20'],
    'rewritten, answered under the asked name',
  );
  const blocked = await ask(server, 'www.example.com', TYPE.AAAA);
  assert.equal(blocked.rcode, 'NOERROR', 'template: AAAA blocked');
  assert.deepEqual(blocked.answer, []);
  assert.deepEqual(
    (await ask(server, 'www.example.com', TYPE.A)).answer,
    ['www.example.com. 30 IN A 192.0.2.1'],
    'A still forwarded (its TTL capped by cache 30, as CoreDNS)',
  );
  assert.deepEqual(
    (await ask(server, 'intranet.corp.example', TYPE.A)).answer,
    ['intranet.corp.example. 30 IN A 10.1.0.5'],
    'the stub block forwards to its own upstream',
  );
  assert.equal(up.received.filter((r) => r.name === 'intranet.corp.example').length, 0);
  const orders = new Set<string>();
  for (let i = 0; i < 12; i++) orders.add((await ask(server, 'pool.shop.svc.cluster.local', TYPE.A)).answer.join(' '));
  assert.ok(orders.size > 1, `loadbalance varies the order (${orders.size} orders in 12 replies)`);

  // An edit (as a ConfigMap update does: the file replaced whole) takes effect without a restart.
  const write = (text: string) => {
    writeFileSync(`${path}.new`, text);
    renameSync(`${path}.new`, path);
  };
  write(corefile('10.0.0.98 scanner.lan'));
  await eventually(
    'the new hosts entry',
    () => ask(server, 'scanner.lan', TYPE.A),
    (r) => r.answer.length === 1,
  );
  assert.deepEqual((await ask(server, 'printer.lan', TYPE.A)).answer, ['printer.lan. 3600 IN A 10.0.0.99']);

  // A broken edit: the running configuration stays, and the failure is counted.
  write(corefile('10.0.0.97 broken.lan\n    }\n  }'));
  const metrics = async () => (await fetch(`http://127.0.0.1:${server.metrics!.port}/metrics`)).text();
  await eventually('coredns_reload_failed_total 1', metrics, (text) => /^coredns_reload_failed_total 1$/m.test(text));
  assert.match(server.stdout(), /Corefile not reloaded/);
  assert.deepEqual(
    (await ask(server, 'scanner.lan', TYPE.A)).answer,
    ['scanner.lan. 3600 IN A 10.0.0.98'],
    'still the last good configuration',
  );
  assert.deepEqual((await ask(server, 'broken.lan', TYPE.A)).answer, [], 'nothing of the broken edit was applied');
  assert.match(await metrics(), /^coredns_reload_version_info\{hash="sha256",value="[0-9a-f]{64}"\} 1$/m);
});
