// Hostile traffic into the live server over UDP and TCP (bounded: a few thousand packets, a few
// seconds): the process stays up, its memory stays bounded, and it answers correctly afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import net from 'node:net';
import { BUNDLED_EXAMPLE } from '../../src/config.ts';
import { TYPE } from '../../src/dns/constants.ts';
import { queryTcp, queryUdp } from '../support/client.ts';
import { buildQuery, decode } from '../support/dns.ts';
import { generate, seededRandom } from '../support/fuzz.ts';
import { rssMiB } from '../support/load.ts';
import { startServer } from '../support/process.ts';

const UDP_PACKETS = Number(process.env.CDNS_FUZZ_UDP ?? 4_000);
const TCP_CONNECTIONS = Number(process.env.CDNS_FUZZ_TCP ?? 150);

test(`live server: ${UDP_PACKETS} fuzzed datagrams and ${TCP_CONNECTIONS} fuzzed TCP conversations`, { timeout: 60_000 }, async (t) => {
  const server = await startServer(['--manifests', BUNDLED_EXAMPLE]);
  t.after(() => server.stop());
  const random = seededRandom(7_2026);
  const rssBefore = rssMiB(server.child.pid!);

  const udp = createSocket('udp4');
  udp.on('message', () => {});
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  for (let i = 0; i < UDP_PACKETS; i++) {
    const { packet } = generate(random);
    if (packet.length > 0) udp.send(packet, server.dns.port, server.dns.host);
    if (i % 200 === 0) await new Promise((r) => setTimeout(r, 2));
  }
  udp.close();

  // TCP: frames of mutated messages, some with lying length prefixes, written in random pieces.
  const conversations: Promise<void>[] = [];
  for (let c = 0; c < TCP_CONNECTIONS; c++) {
    const frames: Buffer[] = [];
    for (let f = 0; f < 1 + Math.floor(random() * 4); f++) {
      const { packet } = generate(random);
      const length = Buffer.alloc(2);
      length.writeUInt16BE(random() < 0.1 ? Math.floor(random() * 0x10000) : packet.length);
      frames.push(length, packet);
    }
    const bytes = Buffer.concat(frames);
    const cuts = Array.from({ length: Math.floor(random() * 4) }, () => Math.floor(random() * bytes.length)).sort((a, b) => a - b);
    conversations.push(
      new Promise<void>((resolve) => {
        const s = net.connect(server.dns.port, server.dns.host, async () => {
          let at = 0;
          for (const cut of [...cuts, bytes.length]) {
            if (s.destroyed) break;
            s.write(bytes.subarray(at, cut));
            at = cut;
            await new Promise((r) => setTimeout(r, 1));
          }
          s.end();
        });
        s.on('data', () => {});
        s.on('error', () => resolve());
        s.on('close', () => resolve());
        setTimeout(() => {
          s.destroy();
          resolve();
        }, 3_000).unref();
      }),
    );
    if (c % 25 === 0) await Promise.all(conversations.splice(0));
  }
  await Promise.all(conversations);

  assert.equal(server.child.exitCode, null, 'still running');
  const rssAfter = rssMiB(server.child.pid!);
  assert.ok(rssAfter - rssBefore < 64, `memory bounded: ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MiB`);
  const a = decode((await queryUdp(server.dns, buildQuery('web.shop.svc.cluster.local', TYPE.A)))!);
  assert.deepEqual(a.answer, ['web.shop.svc.cluster.local. 5 IN A 10.96.10.20']);
  const tcp = decode(await queryTcp(server.dns, buildQuery('db.data.svc.cluster.local', TYPE.A)));
  assert.equal(tcp.rcode, 'NOERROR');
  const metrics = await (await fetch(`http://${server.metrics!.host}:${server.metrics!.port}/metrics`)).text();
  const dropped = [...metrics.matchAll(/^cluster_dns_dropped_packets_total\{reason="(\w+)"\} (\d+)$/gm)].map((m) => `${m[1]}=${m[2]}`);
  t.diagnostic(`live fuzz: ${UDP_PACKETS} datagrams, ${TCP_CONNECTIONS} TCP conversations; dropped and counted: ${dropped.join(' ')}; RSS ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MiB`);
  assert.ok(dropped.length > 0);
});
