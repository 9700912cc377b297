// The long fuzz run (`npm run fuzz`), deterministic for a seed and bounded by counts and by
// --duration (shared by all phases):
//   1. --iterations generated inputs in-process through the query reader, the processor
//      (autopath + cluster zone, metrics on) over UDP and TCP, the dns2 cross-check and the
//      upstream-reply reader, every reply checked by test/support/fuzz-check.ts;
//   2. every opcode, qtype and qclass once (131,088 queries);
//   3. --datagrams of them at a live server over UDP (matched and checked, drops accounted
//      against its metrics) and --conversations mangled TCP conversations.
// An input that breaks a rule is saved as test/fixtures/fuzz/crash-seed<S>-<n>.hex, which the
// suite replays from then on, and the run exits 1. Figures go to stdout as JSON.
//   npm run fuzz -- --iterations 500000 --datagrams 100000 --conversations 2000 --seed 1 --duration 600
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TYPE } from '../src/dns/constants.ts';
import { readQuery } from '../src/dns/query.ts';
import { queryUdp } from '../test/support/client.ts';
import { testCluster } from '../test/support/cluster.ts';
import { buildQuery, decode } from '../test/support/dns.ts';
import { checkAgainstDns2, checkMessageReader, checkReply, fuzzProcessor, REMOTES } from '../test/support/fuzz-check.ts';
import { fuzzTcp, fuzzUdp } from '../test/support/fuzz-live.ts';
import { fieldSweep, formatHexFixture, generate, seededRandom } from '../test/support/fuzz.ts';
import { rssMiB } from '../test/support/load.ts';
import { startServer } from '../test/support/process.ts';

const { values } = parseArgs({
  options: {
    iterations: { type: 'string', default: '500000' },
    datagrams: { type: 'string', default: '100000' },
    conversations: { type: 'string', default: '2000' },
    seed: { type: 'string', default: '1' },
    duration: { type: 'string', default: '600' },
  },
});
const count = (flag: string, text: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${flag}: expected a whole number, got "${text}"`);
    process.exit(2);
  }
  return n;
};
const iterations = count('iterations', values.iterations);
const datagrams = count('datagrams', values.datagrams);
const conversations = count('conversations', values.conversations);
const seed = count('seed', values.seed);
const started = Date.now();
const deadline = started + count('duration', values.duration) * 1000;

const crashes: string[] = [];
function keep(kind: string, packet: Buffer, err: unknown, n: number): void {
  const file = `test/fixtures/fuzz/crash-seed${seed}-${n}.hex`;
  writeFileSync(
    file,
    formatHexFixture([`npm run fuzz -- --seed ${seed}: input ${n} (${kind})`, (err as Error).message.split('\n')[0] ?? ''], packet),
  );
  crashes.push(file);
  console.error(`crash: ${file}: ${(err as Error).message.split('\n')[0]}`);
}

// 1. In-process.
const processor = fuzzProcessor();
const random = seededRandom(seed);
const outcomes: Record<string, number> = {};
const byKind: Record<string, number> = {};
let slowestMs = 0;
let done = 0;
for (; done < iterations && Date.now() < deadline; done++) {
  const { kind, packet } = generate(random);
  byKind[kind] = (byKind[kind] ?? 0) + 1;
  const remote = REMOTES[done % REMOTES.length]!;
  try {
    const t0 = performance.now();
    const read = readQuery(packet);
    const udp = processor.process(packet, { protocol: 'udp', remoteAddress: remote });
    slowestMs = Math.max(slowestMs, performance.now() - t0);
    const outcome = checkReply(packet, read, udp, 'udp');
    checkReply(packet, read, processor.process(packet, { protocol: 'tcp', remoteAddress: remote }), 'tcp');
    checkAgainstDns2(packet, read);
    checkMessageReader(packet);
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  } catch (err) {
    keep(kind, packet, err, done);
  }
}

// 2. Every opcode, type and class.
let swept = 0;
for (const { kind, packet } of fieldSweep()) {
  if (Date.now() >= deadline) break;
  try {
    checkReply(packet, readQuery(packet), processor.process(packet, { protocol: 'udp', remoteAddress: '127.0.0.1' }), 'udp');
  } catch (err) {
    keep(kind, packet, err, iterations + swept);
  }
  swept++;
}
const panics = processor.stats.panics;

// 3. A live server with the same cluster.
const dir = mkdtempSync(join(tmpdir(), 'cdns-fuzz-'));
writeFileSync(join(dir, 'cluster.json'), JSON.stringify({ kind: 'List', items: testCluster() }));
const server = await startServer(['--manifests', join(dir, 'cluster.json')]);
let live;
try {
  const rssBefore = rssMiB(server.child.pid!);
  const udp = await fuzzUdp(server.dns, random, { packets: datagrams, window: 100, deadline });
  const tcp = await fuzzTcp(server.dns, random, { conversations, deadline });
  const reply = await queryUdp(server.dns, buildQuery('svc1.testns.svc.cluster.local', TYPE.A), 2_000);
  const metrics = await (await fetch(`http://${server.metrics!.host}:${server.metrics!.port}/metrics`)).text();
  const metric = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(metrics)?.[1] ?? NaN);
  live = {
    datagrams: udp.sent,
    repliesDue: udp.repliesDue,
    repliesArrived: udp.arrived,
    repliesMissing: udp.lost.length,
    dropsDue: udp.dropsDue,
    badReplies: udp.problems.length + tcp.problems.length,
    firstProblems: [...udp.problems, ...tcp.problems].slice(0, 3),
    tcpConversations: tcp.conversations,
    tcpReplies: tcp.replies,
    kernelDrops: metric('cluster_dns_udp_receive_drops_total'),
    panics: metric('coredns_panics_total'),
    answersCorrectlyAfterwards:
      reply !== null && decode(reply).answer[0] === 'svc1.testns.svc.cluster.local. 5 IN A 10.96.1.1' && server.child.exitCode === null,
    rssMiB: `${rssBefore.toFixed(0)} -> ${rssMiB(server.child.pid!).toFixed(0)}`,
  };
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}

const figures = {
  seed,
  seconds: Math.round((Date.now() - started) / 1000),
  inProcess: { messagesFuzzed: done, checkedOverUdpAndTcp: true, outcomes, slowestInputMs: +slowestMs.toFixed(2), byKind },
  fieldSweep: swept,
  live,
  panics,
  crashes: crashes.length,
  crashFiles: crashes,
};
console.log(JSON.stringify(figures, null, 2));
const liveOk =
  live.answersCorrectlyAfterwards && live.badReplies === 0 && live.panics === 0 && (live.kernelDrops > 0 || live.repliesMissing === 0);
process.exit(crashes.length === 0 && panics === 0 && liveOk ? 0 : 1);
