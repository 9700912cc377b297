// Times the per-query wire work (readQuery + assemble) for a typical cluster A query with EDNS,
// the way a resolver sends it. Run: node_modules/.bin/node bench/query-parse.ts [iterations]
import { readQuery } from '../src/dns/query.ts';
import { assemble } from '../src/server/respond.ts';
import type { Reply } from '../src/dns/message.ts';

function buildQuery(name: string): Buffer {
  const parts: Buffer[] = [Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1])];
  for (const label of name.split('.')) parts.push(Buffer.from([label.length]), Buffer.from(label, 'latin1'));
  // root, type A, class IN, then OPT: root owner, type 41, size 1232, TTL 0, rdlen 0
  parts.push(Buffer.from([0, 0, 1, 0, 1, 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]));
  return Buffer.concat(parts);
}

const request = buildQuery('Kubernetes.default.svc.cluster.local');
// One A record, owner a pointer to the question name.
const reply: Reply = {
  rcode: 0,
  authoritative: true,
  ancount: 1,
  nscount: 0,
  arcount: 0,
  body: new Uint8Array([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 10, 96, 0, 1]),
};

const requested = Number(process.argv[2] ?? 1_000_000);
const iterations = Number.isFinite(requested) ? Math.min(Math.max(1, Math.floor(requested)), 50_000_000) : 1_000_000;

function run(n: number): number {
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const read = readQuery(request);
    if (read.kind !== 'query') throw new Error(`unexpected ${read.kind}`);
    bytes += assemble(request, read.query, reply, 1232, 1232).length;
  }
  return bytes;
}

function parseOnly(n: number): number {
  let x = 0;
  for (let i = 0; i < n; i++) {
    const read = readQuery(request);
    if (read.kind === 'query') x += read.query.name.length;
  }
  return x;
}

run(Math.min(iterations, 100_000)); // warm-up, so the timing sees optimized code
parseOnly(Math.min(iterations, 100_000));

let start = process.hrtime.bigint();
parseOnly(iterations);
const parseNs = Number(process.hrtime.bigint() - start) / iterations;

start = process.hrtime.bigint();
run(iterations);
const totalNs = Number(process.hrtime.bigint() - start) / iterations;

console.log(`readQuery:            ${parseNs.toFixed(1)} ns/op`);
console.log(`readQuery + assemble: ${totalNs.toFixed(1)} ns/op (${iterations} iterations)`);
