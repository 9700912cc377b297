// What per-query metrics cost: the query path with and without QueryCounters (request/response
// counters by CoreDNS's labels, the size histograms, and the duration histogram's two clock
// reads), first in the processor alone, then as UDP throughput over loopback.
// Run: node_modules/.bin/node bench/metrics-cost.ts [iterations]
import dgram from 'node:dgram';
import { once } from 'node:events';
import { QueryCounters } from '../src/server/counters.ts';
import { QueryProcessor } from '../src/server/processor.ts';
import { startUdp } from '../src/server/udp.ts';
import type { Handler, Reply } from '../src/dns/message.ts';

function buildQuery(name: string, id = 0x1234): Buffer {
  const parts: Buffer[] = [Buffer.from([id >> 8, id & 255, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1])];
  for (const label of name.split('.')) parts.push(Buffer.from([label.length]), Buffer.from(label, 'latin1'));
  parts.push(Buffer.from([0, 0, 1, 0, 1, 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]));
  return Buffer.concat(parts);
}

const request = buildQuery('kubernetes.default.svc.cluster.local');
const reply: Reply = {
  rcode: 0,
  authoritative: true,
  ancount: 1,
  nscount: 0,
  arcount: 0,
  body: new Uint8Array([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 10, 96, 0, 1]),
};
// A handler as cheap as the zone's prepared-reply hit, so the bench shows metrics at their worst.
const zone: Handler = { name: 'kubernetes', serve: () => reply };

function processor(withMetrics: boolean): QueryProcessor {
  return new QueryProcessor({
    handlers: [zone],
    ...(withMetrics ? { counters: new QueryCounters({ servers: 1, zones: ['cluster.local'], plugins: ['kubernetes'] }) } : {}),
  });
}

const requested = Number(process.argv[2] ?? 2_000_000);
const iterations = Number.isFinite(requested) ? Math.min(Math.max(1000, Math.floor(requested)), 50_000_000) : 2_000_000;
const context = { protocol: 'udp', remoteAddress: '10.0.0.7', listener: 0 } as const;

function loop(p: QueryProcessor, n: number): number {
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const out = p.process(request, context);
    if (out instanceof Promise || out === null) throw new Error('expected a synchronous reply');
    bytes += out.length;
  }
  return bytes;
}

function nsPerQuery(p: QueryProcessor): number {
  const start = process.hrtime.bigint();
  loop(p, iterations);
  return Number(process.hrtime.bigint() - start) / iterations;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

const without = processor(false);
const withMetrics = processor(true);
loop(without, 200_000);
loop(withMetrics, 200_000);
const a: number[] = [];
const b: number[] = [];
for (let round = 0; round < 5; round++) {
  a.push(nsPerQuery(without));
  b.push(nsPerQuery(withMetrics));
}
const base = median(a);
const metered = median(b);
console.log(`processor, no metrics:   ${base.toFixed(0)} ns/query`);
console.log(
  `processor, with metrics: ${metered.toFixed(0)} ns/query (+${(metered - base).toFixed(0)} ns, +${(((metered - base) / base) * 100).toFixed(1)} %)`,
);

/** Queries answered per second over loopback UDP, keeping `window` queries in flight. */
async function udpRate(p: QueryProcessor, ms: number, window = 64): Promise<number> {
  const server = await startUdp('127.0.0.1', 0, p);
  const client = dgram.createSocket('udp4');
  client.bind(0, '127.0.0.1');
  await once(client, 'listening');
  let answered = 0;
  let running = true;
  const send = () => client.send(request, server.port, '127.0.0.1');
  client.on('message', () => {
    answered++;
    if (running) send();
  });
  for (let i = 0; i < window; i++) send();
  // Lost datagrams would shrink the window; top it up each tick so the rate stays comparable.
  const start = performance.now();
  let lastAnswered = 0;
  while (performance.now() - start < ms) {
    await new Promise((r) => setTimeout(r, 50));
    if (answered === lastAnswered) for (let i = 0; i < window; i++) send();
    lastAnswered = answered;
  }
  running = false;
  const rate = answered / ((performance.now() - start) / 1000);
  client.close();
  await server.close();
  return rate;
}

const ra: number[] = [];
const rb: number[] = [];
// Loopback rates swing by ±10 % run to run on a shared machine: alternate, take medians of 7.
for (let round = 0; round < 7; round++) {
  ra.push(await udpRate(processor(false), 1000));
  rb.push(await udpRate(processor(true), 1000));
}
const qa = median(ra);
const qb = median(rb);
console.log(`UDP loopback, no metrics:   ${qa.toFixed(0)} queries/s`);
console.log(`UDP loopback, with metrics: ${qb.toFixed(0)} queries/s (${(((qb - qa) / qa) * 100).toFixed(1)} %)`);
