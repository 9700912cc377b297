// Hostile traffic into the live server (`src/main.ts`) over UDP and TCP, bounded in packets
// and time: every datagram gets the reply or the drop the request deserves (checked by
// test/support/fuzz-check.ts, the drops accounted exactly against the server's own metrics),
// mangled TCP conversations get well-formed replies or a closed connection, the regression inputs
// behave over the wire as they do in-process, and afterwards the process is alive, its memory
// bounded, and it answers correctly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TYPE } from '../../src/dns/constants.ts';
import { readQuery } from '../../src/dns/query.ts';
import { framed, queryTcp, queryTcpRaw, queryUdp } from '../support/client.ts';
import { testCluster } from '../support/cluster.ts';
import { buildQuery, decode } from '../support/dns.ts';
import { checkReply } from '../support/fuzz-check.ts';
import { fuzzTcp, fuzzUdp } from '../support/fuzz-live.ts';
import { parseHexFixture, seededRandom } from '../support/fuzz.ts';
import { rssMiB } from '../support/load.ts';
import { startServer, type ServerProcess } from '../support/process.ts';

const UDP_PACKETS = Number(process.env.CDNS_FUZZ_UDP ?? 4_000);
const TCP_CONVERSATIONS = Number(process.env.CDNS_FUZZ_TCP ?? 150);
const FIXTURES = new URL('../fixtures/fuzz/', import.meta.url);

async function scrape(server: ServerProcess): Promise<Map<string, number>> {
  // /metrics renders at most once a second: wait out the text an earlier scrape left.
  await new Promise((r) => setTimeout(r, 1_100));
  const text = await (await fetch(`http://${server.metrics!.host}:${server.metrics!.port}/metrics`)).text();
  const values = new Map<string, number>();
  for (const m of text.matchAll(
    /^(cluster_dns_dropped_packets_total\{reason="\w+"\}|cluster_dns_udp_receive_drops_total|coredns_panics_total) (\d+)$/gm,
  )) {
    values.set(m[1]!, Number(m[2]));
  }
  return values;
}

test(`live server: ${UDP_PACKETS} fuzzed datagrams, ${TCP_CONVERSATIONS} fuzzed TCP conversations, the regression inputs`, {
  timeout: 60_000,
}, async (t) => {
  // The cluster the in-process fuzz answers from, so the fixtures mean the same thing here.
  const dir = mkdtempSync(join(tmpdir(), 'cdns-fuzz-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'cluster.json'), JSON.stringify({ kind: 'List', items: testCluster() }));
  const server = await startServer(['--manifests', join(dir, 'cluster.json')]);
  t.after(() => server.stop());
  const random = seededRandom(7_2026);
  const rssBefore = rssMiB(server.child.pid!);
  const before = await scrape(server);

  const udp = await fuzzUdp(server.dns, random, { packets: UDP_PACKETS, window: 50 });
  const afterUdp = await scrape(server);
  const tcp = await fuzzTcp(server.dns, random, { conversations: TCP_CONVERSATIONS });

  // The regression inputs over the wire: the outcome their name promises, on both transports.
  for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith('.hex'))) {
    const { bytes } = parseHexFixture(readFileSync(new URL(file, FIXTURES), 'utf8'));
    const expected = /^([a-z]+)-/.exec(file)?.[1] ?? '';
    const overUdp = await queryUdp(server.dns, bytes, expected === 'drop' ? 300 : 1_000);
    if (expected === 'drop') {
      assert.equal(overUdp, null, `${file}: no reply`);
      continue;
    }
    assert.ok(overUdp, `${file}: a UDP reply`);
    const [overTcp] = await queryTcpRaw(server.dns, [framed(bytes)], 1);
    for (const [reply, protocol] of [
      [overUdp, 'udp'],
      [overTcp!, 'tcp'],
    ] as const) {
      const outcome = checkReply(bytes, readQuery(bytes), reply, protocol);
      if (expected !== 'crash') assert.equal(outcome.replace('+TC', ''), expected.toUpperCase(), `${file} over ${protocol}`);
    }
  }

  assert.equal(server.child.exitCode, null, 'still running');
  const rssAfter = rssMiB(server.child.pid!);
  const after = await scrape(server);
  const delta = (key: string, from = before, to = after) => (to.get(key) ?? 0) - (from.get(key) ?? 0);
  const kernelDrops = delta('cluster_dns_udp_receive_drops_total', before, afterUdp);
  const udpDrops =
    delta('cluster_dns_dropped_packets_total{reason="short"}', before, afterUdp) +
    delta('cluster_dns_dropped_packets_total{reason="response"}', before, afterUdp);
  t.diagnostic(
    `live fuzz: ${udp.sent} datagrams (${udp.repliesDue} replies due, ${udp.arrived} arrived; ${udp.dropsDue} drops due, ${udpDrops} counted; kernel drops ${kernelDrops}), ` +
      `${tcp.conversations} TCP conversations (${tcp.replies} replies, ${delta('cluster_dns_dropped_packets_total{reason="tcp_bad_frame"}')} closed for a bad frame); RSS ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MiB`,
  );
  assert.deepEqual([...udp.problems, ...tcp.problems].slice(0, 5), [], 'every reply well-formed and the one its request deserves');
  assert.equal(delta('coredns_panics_total'), 0, 'no handler threw');
  // Every due reply arrived (loopback with 50 in flight loses nothing unless the kernel queue overflowed).
  if (kernelDrops === 0) assert.deepEqual(udp.lost.slice(0, 5), [], `${udp.lost.length} replies missing`);
  // Every datagram that had to be dropped was, and was counted: exactly, unless the kernel shed some first.
  if (kernelDrops === 0) assert.equal(udpDrops, udp.dropsDue, 'drops counted');
  else assert.ok(udpDrops >= udp.dropsDue - kernelDrops, `dropped ${udpDrops}, expected at least ${udp.dropsDue - kernelDrops}`);
  assert.ok(tcp.replies > 0);
  assert.ok(rssAfter - rssBefore < 64, `memory bounded: ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MiB`);
  // And it still answers, correctly, on both transports.
  const a = await queryUdp(server.dns, buildQuery('svc1.testns.svc.cluster.local', TYPE.A));
  assert.ok(a);
  assert.deepEqual(decode(a).answer, ['svc1.testns.svc.cluster.local. 5 IN A 10.96.1.1']);
  const overTcp = decode(await queryTcp(server.dns, buildQuery('hdls.testns.svc.cluster.local', TYPE.A)));
  assert.deepEqual(
    overTcp.answer.sort(),
    ['hdls.testns.svc.cluster.local. 5 IN A 10.244.1.10', 'hdls.testns.svc.cluster.local. 5 IN A 10.244.1.11'],
    'the ready endpoints',
  );
});
