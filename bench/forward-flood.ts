// One pod's random names against the cluster zone: a UDP flood of names outside the cluster
// (each a cache miss, answered by a resolver double in ~1 ms) beside a steady probe of a cluster
// name every 5 ms, against the same flood made of cluster names for reference. A forwarded miss
// costs the thread several cluster answers; while the event loop is behind, new misses are
// rationed (src/upstream/admission.ts), so the probe should fare about as well in both floods.
// Prints, per flood: offered and answered QPS, probes answered and their p50/p99, misses
// REFUSED for load (cluster_dns_forward_shed_total), kernel drops, server CPU.
// Run: node_modules/.bin/node bench/forward-flood.ts [--seconds 3] [--sockets 2]
// Loopback only, bounded in packets and time. Figures vary a lot on a shared machine.
import { parseArgs } from 'node:util';
import { BUNDLED_EXAMPLE } from '../src/config.ts';
import { TYPE } from '../src/dns/constants.ts';
import { buildQuery } from '../test/support/dns.ts';
import { cpuSeconds, flood, percentile, probe } from '../test/support/load.ts';
import { startServer } from '../test/support/process.ts';
import { ResolverDouble } from '../test/support/resolver-double.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' }, sockets: { type: 'string', default: '2' } } });
const seconds = Math.min(30, Number(values.seconds));
const sockets = Math.min(16, Number(values.sockets));

const up = await ResolverDouble.start({ classes: [{ name: 'fast', share: 1, minMs: 1, maxMs: 1 }], ttl: 1 });
const server = await startServer(['--manifests', BUNDLED_EXAMPLE, '--upstream', up.address]);
const metric = async (name: string) => {
  const text = await (await fetch(`http://${server.metrics!.host}:${server.metrics!.port}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
};
try {
  const cluster = ['web.shop.svc.cluster.local', 'nope.shop.svc.cluster.local', 'db.data.svc.cluster.local'].map((n, i) =>
    buildQuery(n, TYPE.A, { id: i + 1 }),
  );
  const misses = Array.from({ length: 400_000 }, (_, i) =>
    buildQuery(`r${i}-${Math.random().toString(36).slice(2, 8)}.flood.example`, TYPE.A, { id: i & 0xffff }),
  );
  // Warm-up: the cluster path and the forwarding path, then a pause.
  await flood(server.dns, cluster, { maxPackets: 20_000, maxMs: 1_000 });
  await flood(server.dns, misses.slice(300_000), { maxPackets: 5_000, maxMs: 1_000 });
  await new Promise((r) => setTimeout(r, 1_500));
  for (const [label, queries] of [
    ['cluster names', cluster],
    ['random external names', misses.slice(0, 300_000)],
  ] as const) {
    const shed0 = await metric('cluster_dns_forward_shed_total');
    const drops0 = await metric('cluster_dns_udp_receive_drops_total');
    const cpu0 = cpuSeconds(server.child.pid!);
    const p = probe(server.dns, 'web.shop.svc.cluster.local', TYPE.A, { intervalMs: 5, maxMs: seconds * 1000 });
    const result = await flood(server.dns, queries, { maxPackets: 2_000_000, maxMs: seconds * 1000, sockets });
    const probed = await p.stop();
    const cpu = cpuSeconds(server.child.pid!) - cpu0;
    const figures = {
      flood: label,
      offeredQps: Math.round(result.sent / result.seconds),
      answeredQps: Math.round(result.received / result.seconds),
      clusterProbesAnswered: `${probed.answered}/${probed.asked}`,
      probeP50Ms: +percentile(probed.latencies, 50).toFixed(2),
      probeP99Ms: +percentile(probed.latencies, 99).toFixed(2),
      missesShed: (await metric('cluster_dns_forward_shed_total')) - shed0,
      kernelDrops: (await metric('cluster_dns_udp_receive_drops_total')) - drops0,
      serverCpuPerSecond: +(cpu / result.seconds).toFixed(2),
    };
    for (const [k, v] of Object.entries(figures)) console.log(`${k.padEnd(22)} ${v}`);
    console.log(JSON.stringify(figures));
    await new Promise((r) => setTimeout(r, 1_500));
  }
} finally {
  await server.stop();
  await up.close();
}
