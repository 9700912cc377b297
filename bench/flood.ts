// A UDP flood against the real server (bundled example cluster), bounded in packets and time:
// what it answers, what the kernel sheds (and we count), how the latency of a steady trickle of
// probes holds up during the flood, and how fast it is back to normal afterwards.
//   node_modules/.bin/node bench/flood.ts [--seconds 3] [--sockets 8]
// Loopback only. Figures vary ±30 % on a shared VM: compare runs taken together.
import { parseArgs } from 'node:util';
import { BUNDLED_EXAMPLE } from '../src/config.ts';
import { TYPE } from '../src/dns/constants.ts';
import { queryUdp } from '../test/support/client.ts';
import { buildQuery } from '../test/support/dns.ts';
import { flood, percentile, probe, rssMiB } from '../test/support/load.ts';
import { startServer } from '../test/support/process.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' }, sockets: { type: 'string', default: '8' } } });
const seconds = Number(values.seconds);
const sockets = Number(values.sockets);

const server = await startServer(['--manifests', BUNDLED_EXAMPLE]);
try {
  const pid = server.child.pid!;
  const queries = ['web.shop.svc.cluster.local', 'nope.shop.svc.cluster.local', 'db.data.svc.cluster.local'].map((n, i) =>
    buildQuery(n, TYPE.A, { id: i + 1 }),
  );
  await flood(server.dns, queries, { maxPackets: 20_000, maxMs: 1_000 });
  await new Promise((r) => setTimeout(r, 500)); // let the warm-up's queue drain

  const quiet = probe(server.dns, 'web.shop.svc.cluster.local', TYPE.A, { intervalMs: 10, maxMs: 2_000 });
  await new Promise((r) => setTimeout(r, 2_000));
  const calm = await quiet.stop();

  const rssBefore = rssMiB(pid);
  const during = probe(server.dns, 'web.shop.svc.cluster.local', TYPE.A, { intervalMs: 10, maxMs: seconds * 1000 });
  const result = await flood(server.dns, queries, { maxPackets: 2_000_000, maxMs: seconds * 1000, sockets });
  const stormy = await during.stop();
  const rssAfter = rssMiB(pid);

  const recoveryStart = performance.now();
  let recoveredMs = Number.NaN;
  for (let i = 0; i < 100; i++) {
    if (await queryUdp(server.dns, buildQuery('web.shop.svc.cluster.local', TYPE.A), 200)) {
      recoveredMs = performance.now() - recoveryStart;
      break;
    }
  }
  const metrics = await (await fetch(`http://${server.metrics!.host}:${server.metrics!.port}/metrics`)).text();
  const drops = Number(/^cluster_dns_udp_receive_drops_total (\d+)$/m.exec(metrics)?.[1] ?? Number.NaN);

  const figures = {
    floodOfferedQps: Math.round(result.sent / result.seconds),
    floodAnsweredQps: Math.round(result.received / result.seconds),
    kernelDropsCounted: drops,
    probeP50MsCalm: +percentile(calm.latencies, 50).toFixed(3),
    probeP99MsCalm: +percentile(calm.latencies, 99).toFixed(3),
    probeAnsweredDuringFlood: `${stormy.answered}/${stormy.asked}`,
    probeP50MsDuringFlood: +percentile(stormy.latencies, 50).toFixed(3),
    probeP99MsDuringFlood: +percentile(stormy.latencies, 99).toFixed(3),
    rssMiBBefore: +rssBefore.toFixed(1),
    rssMiBAfter: +rssAfter.toFixed(1),
    firstAnswerAfterFloodMs: +recoveredMs.toFixed(2),
  };
  for (const [k, v] of Object.entries(figures)) console.log(`${k.padEnd(28)} ${v}`);
  console.log(JSON.stringify(figures));
} finally {
  await server.stop();
}
