// A bounded fuzz run inside the suite (`npm run fuzz` runs the long one): hostile messages into
// the query reader, the whole processor with the cluster zone, and the upstream-reply reader.
// Nothing may throw, hang or answer nonsense: every input gets a well-formed reply or a counted
// drop. The crashing inputs ever found stay in test/fixtures/fuzz/ and are replayed here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { MalformedMessageError, readMessage } from '../../src/dns/reader.ts';
import { readQuery } from '../../src/dns/query.ts';
import { QueryProcessor } from '../../src/server/processor.ts';
import { KubernetesZone } from '../../src/zone/kubernetes.ts';
import { indexOf, testCluster } from '../support/cluster.ts';
import { decode } from '../support/dns.ts';
import { generate, seededRandom, type MutationKind } from '../support/fuzz.ts';

const ITERATIONS = Number(process.env.CDNS_FUZZ_ITERATIONS ?? 20_000);
const FIXTURES = new URL('../fixtures/fuzz/', import.meta.url);

function processorWithZone(): QueryProcessor {
  const zone = new KubernetesZone({ index: indexOf(testCluster()), zone: 'cluster.local', ttl: 5, pods: 'verified' });
  return new QueryProcessor({ handlers: [zone] });
}

/** What the processor did with one input; throws if it did something it must never do. */
export function check(processor: QueryProcessor, packet: Buffer): 'answered' | 'dropped' {
  const out = processor.process(packet, { protocol: 'udp', remoteAddress: '127.0.0.1' });
  assert.ok(!(out instanceof Promise), 'the zone answers synchronously');
  if (out === null) return 'dropped';
  const reply = decode(out); // dns2 must be able to read every reply we send
  assert.equal(out.readUInt16BE(0), packet.readUInt16BE(0), 'the ID is echoed');
  assert.ok(out.length <= 1232, 'a UDP reply never exceeds --max-udp-size (1232)');
  assert.ok(reply.rcode !== '', 'a reply with an rcode');
  return 'answered';
}

test(`${ITERATIONS} hostile messages: no throw, every reply readable, drops counted`, () => {
  const random = seededRandom(20261123);
  const processor = processorWithZone();
  const outcomes: Record<string, number> = {};
  const byKind: Partial<Record<MutationKind, number>> = {};
  let slowest = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const { kind, packet } = generate(random);
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    const started = performance.now();
    readQuery(packet);
    const outcome = packet.length >= 2 ? check(processor, packet) : processor.process(packet, { protocol: 'udp', remoteAddress: '127.0.0.1' }) === null ? 'dropped' : 'answered';
    try {
      readMessage(packet);
    } catch (err) {
      assert.ok(err instanceof MalformedMessageError, `readMessage threw ${(err as Error).name}`);
    }
    slowest = Math.max(slowest, performance.now() - started);
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  }
  const stats = processor.stats;
  assert.equal((outcomes.dropped ?? 0), stats.droppedShort + stats.droppedResponse, 'every drop is counted');
  assert.ok(outcomes.answered! > 0 && outcomes.dropped! > 0);
  assert.ok(Object.keys(byKind).length >= 12, 'every mutation kind ran');
  // No input may cost a noticeable fraction of a second (a pathological loop would).
  assert.ok(slowest < 250, `slowest input ${slowest.toFixed(1)} ms`);
  // Afterwards the server still answers correctly.
  const out = processor.process(Buffer.from('abcd0100000100000000000004737663310674657374' + '6e730373766307636c7573746572056c6f63616c0000010001', 'hex'), { protocol: 'udp', remoteAddress: '127.0.0.1' });
  assert.ok(out && !(out instanceof Promise));
  assert.deepEqual(decode(out).answer, ['svc1.testns.svc.cluster.local. 5 IN A 10.96.1.1']);
});

test('regression fixtures replay cleanly', () => {
  const processor = processorWithZone();
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.hex'));
  assert.ok(files.length >= 8);
  for (const file of files) {
    const packet = Buffer.from(readFileSync(new URL(file, FIXTURES), 'utf8').replace(/#.*$/gm, '').replace(/\s+/g, ''), 'hex');
    const expected = /^(\w+)-/.exec(file)?.[1];
    const outcome = packet.length >= 2 ? check(processor, packet) : 'dropped';
    if (expected === 'formerr' || expected === 'notimp' || expected === 'refused') {
      assert.equal(outcome, 'answered', file);
      const out = processor.process(packet, { protocol: 'udp', remoteAddress: '127.0.0.1' }) as Buffer;
      assert.equal(decode(out).rcode, expected.toUpperCase(), file);
    } else if (expected === 'drop') {
      assert.equal(outcome, 'dropped', file);
    }
  }
});
