// The long fuzz run (`npm run fuzz`): hostile messages into the query reader, the processor with
// the cluster zone and the upstream-reply reader, then into a live server over UDP. Bounded by
// --iterations and --duration. Any input that throws is saved under test/fixtures/fuzz/ (the
// suite replays that folder) and the run exits 1.
//   npm run fuzz -- --iterations 500000 --datagrams 100000 --seed 1 --duration 300
import { writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { parseArgs } from 'node:util';
import { BUNDLED_EXAMPLE } from '../src/config.ts';
import { TYPE } from '../src/dns/constants.ts';
import { MalformedMessageError, readMessage } from '../src/dns/reader.ts';
import { QueryProcessor } from '../src/server/processor.ts';
import { KubernetesZone } from '../src/zone/kubernetes.ts';
import { queryUdp } from '../test/support/client.ts';
import { indexOf, testCluster } from '../test/support/cluster.ts';
import { buildQuery, decode } from '../test/support/dns.ts';
import { generate, seededRandom } from '../test/support/fuzz.ts';
import { rssMiB } from '../test/support/load.ts';
import { startServer } from '../test/support/process.ts';

const { values } = parseArgs({
  options: {
    iterations: { type: 'string', default: '500000' },
    datagrams: { type: 'string', default: '100000' },
    seed: { type: 'string', default: '1' },
    duration: { type: 'string', default: '600' },
  },
});
const iterations = Number(values.iterations);
const datagrams = Number(values.datagrams);
const seed = Number(values.seed);
const deadline = Date.now() + Number(values.duration) * 1000;

const zone = new KubernetesZone({ index: indexOf(testCluster()), zone: 'cluster.local', ttl: 5, pods: 'verified' });
const processor = new QueryProcessor({ handlers: [zone] });
const random = seededRandom(seed);
const outcomes = { answered: 0, dropped: 0, unreadableReplies: 0 };
const byKind: Record<string, number> = {};
let crashes = 0;
let slowestMs = 0;
let done = 0;
for (; done < iterations && Date.now() < deadline; done++) {
  const { kind, packet } = generate(random);
  byKind[kind] = (byKind[kind] ?? 0) + 1;
  const started = performance.now();
  try {
    const out = processor.process(packet, { protocol: 'udp', remoteAddress: '127.0.0.1' });
    if (out === null) outcomes.dropped++;
    else if (out instanceof Promise) throw new Error('asynchronous answer from the zone');
    else {
      outcomes.answered++;
      try {
        decode(out);
      } catch {
        outcomes.unreadableReplies++;
        throw new Error('a reply dns2 cannot read');
      }
    }
    try {
      readMessage(packet);
    } catch (err) {
      if (!(err instanceof MalformedMessageError)) throw err;
    }
  } catch (err) {
    crashes++;
    const file = `test/fixtures/fuzz/crash-seed${seed}-${done}.hex`;
    writeFileSync(file, `# ${kind}: ${(err as Error).message.split('\n')[0]}\n${packet.toString('hex')}\n`);
    console.error(`crash: ${file}`);
  }
  slowestMs = Math.max(slowestMs, performance.now() - started);
}

// The live server: datagrams as fast as a bounded loop sends them, then a correct answer.
const server = await startServer(['--manifests', BUNDLED_EXAMPLE]);
let sent = 0;
let liveOk = false;
let rss = { before: 0, after: 0 };
try {
  rss.before = rssMiB(server.child.pid!);
  const udp = createSocket('udp4');
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  for (; sent < datagrams && Date.now() < deadline; sent++) {
    const { packet } = generate(random);
    if (packet.length > 0) udp.send(packet, server.dns.port, server.dns.host);
    if (sent % 500 === 0) await new Promise((r) => setTimeout(r, 1));
  }
  udp.close();
  const reply = await queryUdp(server.dns, buildQuery('web.shop.svc.cluster.local', TYPE.A), 2_000);
  liveOk = reply !== null && decode(reply).answer[0] === 'web.shop.svc.cluster.local. 5 IN A 10.96.10.20' && server.child.exitCode === null;
  rss.after = rssMiB(server.child.pid!);
} finally {
  await server.stop();
}

const figures = {
  seed,
  messagesFuzzed: done,
  ...outcomes,
  slowestInputMs: +slowestMs.toFixed(2),
  byKind,
  crashes,
  liveDatagrams: sent,
  liveAnswersCorrectlyAfterwards: liveOk,
  liveRssMiB: `${rss.before.toFixed(0)} -> ${rss.after.toFixed(0)}`,
};
console.log(JSON.stringify(figures, null, 2));
process.exit(crashes === 0 && liveOk ? 0 : 1);
