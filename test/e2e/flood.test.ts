// A UDP flood against the real server: it sheds what it cannot answer (the kernel drops, and we
// count them), stays alive with bounded memory, and answers correctly the moment the flood
// stops. How fast and how the latency holds up is measured by bench/flood.ts, not asserted here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUNDLED_EXAMPLE } from '../../src/config.ts';
import { TYPE } from '../../src/dns/constants.ts';
import { queryUdp } from '../support/client.ts';
import { buildQuery, decode } from '../support/dns.ts';
import { flood, probe, rssMiB } from '../support/load.ts';
import { startServer } from '../support/process.ts';

test('a UDP flood: counted drops, bounded memory, correct answers at once afterwards', { timeout: 30_000 }, async (t) => {
  const server = await startServer(['--manifests', BUNDLED_EXAMPLE]);
  t.after(() => server.stop());
  const pid = server.child.pid!;
  const names = [
    'web.shop.svc.cluster.local',
    'nope.shop.svc.cluster.local',
    'db.data.svc.cluster.local',
    'web.shop.svc.cluster.local.shop.svc.cluster.local',
  ];
  const queries = names.map((name, i) => buildQuery(name, TYPE.A, { id: i + 1 }));
  // Warm up, then take the resting memory.
  await flood(server.dns, queries, { maxPackets: 20_000, maxMs: 1_000 });
  const before = rssMiB(pid);

  const p = probe(server.dns, 'web.shop.svc.cluster.local', TYPE.A, { intervalMs: 20, maxMs: 5_000 });
  const result = await flood(server.dns, queries, { maxPackets: 400_000, maxMs: 2_000, sockets: 8 });
  const probed = await p.stop();
  const after = rssMiB(pid);
  t.diagnostic(
    `flood: sent ${result.sent} in ${result.seconds.toFixed(2)} s, ${result.received} answered; probes answered ${probed.answered}/${probed.asked}; RSS ${before.toFixed(0)} → ${after.toFixed(0)} MiB`,
  );

  assert.ok(result.received > 0);
  assert.equal(server.child.exitCode, null, 'still running');
  assert.ok(after - before < 64, `memory stays bounded (${before.toFixed(0)} → ${after.toFixed(0)} MiB)`);
  // Recovery: the very next query is answered, correctly.
  const reply = await queryUdp(server.dns, buildQuery('web.shop.svc.cluster.local', TYPE.A), 1_000);
  assert.ok(reply, 'answered right after the flood');
  assert.deepEqual(decode(reply).answer, ['web.shop.svc.cluster.local. 5 IN A 10.96.10.20']);
  // Whatever was shed was shed by the kernel, and is counted where operators look.
  const metrics = await (await fetch(`http://${server.metrics!.host}:${server.metrics!.port}/metrics`)).text();
  const drops = /^cluster_dns_udp_receive_drops_total (\d+)$/m.exec(metrics);
  assert.ok(drops, 'the drop counter is exported');
  if (result.received < result.sent) t.diagnostic(`kernel drops counted: ${drops[1]}`);
});
