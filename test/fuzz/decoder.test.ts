// A bounded fuzz run inside the suite (`npm run fuzz` runs the long one): hostile messages into
// the query reader, the whole processor (autopath and the cluster zone, metrics counting on) over
// both transports, and the upstream-reply reader. Nothing may throw, hang, panic a handler or
// answer nonsense: every input gets a reply that an independent decoder reads and that echoes
// what it must (test/support/fuzz-check.ts), or a counted drop. Then every opcode, type and class
// once, and the regression inputs in test/fixtures/fuzz/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { readQuery } from '../../src/dns/query.ts';
import { checkAgainstDns2, checkInput, checkMessageReader, checkReply, fuzzProcessor, REMOTES } from '../support/fuzz-check.ts';
import { decode } from '../support/dns.ts';
import { fieldSweep, generate, KINDS, parseHexFixture, query, seededRandom, type MutationKind } from '../support/fuzz.ts';

const ITERATIONS = Number(process.env.CDNS_FUZZ_ITERATIONS ?? 20_000);
const FIXTURES = new URL('../fixtures/fuzz/', import.meta.url);

test(`${ITERATIONS} hostile messages over UDP and TCP: no throw, no panic, every reply well-formed, every drop counted`, () => {
  const random = seededRandom(20261123);
  const processor = fuzzProcessor();
  const outcomes: Record<string, number> = {};
  const byKind: Partial<Record<MutationKind, number>> = {};
  let slowest = 0;
  let drops = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const { kind, packet } = generate(random);
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    const remote = REMOTES[i % REMOTES.length]!;
    // Timed: the reader and the processor, what a packet costs the server.
    const started = performance.now();
    const read = readQuery(packet);
    const udp = processor.process(packet, { protocol: 'udp', remoteAddress: remote });
    slowest = Math.max(slowest, performance.now() - started);
    const tcp = processor.process(packet, { protocol: 'tcp', remoteAddress: remote });
    try {
      const outcome = checkReply(packet, read, udp, 'udp');
      checkReply(packet, read, tcp, 'tcp');
      checkAgainstDns2(packet, read);
      checkMessageReader(packet);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      if (outcome.startsWith('drop:')) drops++;
    } catch (err) {
      // The input that broke a rule, in the fixture format, so it can be kept.
      (err as Error).message += `\ninput #${i} (${kind}): ${packet.toString('hex')}`;
      throw err;
    }
  }
  const stats = processor.stats;
  assert.equal(stats.panics, 0, 'no handler threw');
  assert.equal(stats.droppedShort + stats.droppedResponse, 2 * drops, 'every drop counted, on both transports');
  for (const kind of KINDS) assert.ok((byKind[kind] ?? 0) > 0, `mutation ${kind} ran`);
  for (const outcome of ['NOERROR', 'NXDOMAIN', 'FORMERR', 'NOTIMP', 'REFUSED', 'drop:short', 'drop:response']) {
    assert.ok((outcomes[outcome] ?? 0) > 0, `some inputs ended ${outcome}: ${JSON.stringify(outcomes)}`);
  }
  // No input may cost a noticeable fraction of a second (a pathological loop would); GC pauses
  // land on some input, hence the margin.
  assert.ok(slowest < 250, `slowest input ${slowest.toFixed(1)} ms`);
  // Afterwards the processor still answers correctly.
  const out = processor.process(query('svc1.testns.svc.cluster.local', 1), { protocol: 'udp', remoteAddress: '127.0.0.1' });
  assert.ok(out && !(out instanceof Promise));
  assert.deepEqual(decode(out).answer, ['svc1.testns.svc.cluster.local. 5 IN A 10.96.1.1']);
});

test('every opcode, every qtype and every qclass once: NOTIMP, REFUSED or the zone answer, question echoed', () => {
  const processor = fuzzProcessor();
  const seen = { opcodes: 0, types: 0, classes: 0 };
  for (const { kind, packet } of fieldSweep()) {
    const out = processor.process(packet, { protocol: 'udp', remoteAddress: '127.0.0.1' });
    assert.ok(Buffer.isBuffer(out), `${kind}: a reply`);
    const questionEnd = packet.length - (packet.readUInt16BE(10) === 1 ? 11 : 0);
    assert.deepEqual(out.subarray(12, questionEnd), packet.subarray(12, questionEnd), `${kind}: question echoed`);
    const rcode = out[3]! & 0xf;
    const answers = out.readUInt16BE(6);
    if (kind === 'sweep-opcode') {
      seen.opcodes++;
      const opcode = (packet.readUInt16BE(2) >> 11) & 0xf;
      assert.equal((out.readUInt16BE(2) >> 11) & 0xf, opcode, 'opcode echoed');
      assert.equal(rcode, opcode === 0 ? 0 : 4, `opcode ${opcode}`);
    } else if (kind === 'sweep-type') {
      seen.types++;
      const type = packet.readUInt16BE(questionEnd - 4);
      const expected = type === 251 || type === 252 ? [5, 0] : type === 1 || type === 255 ? [0, 1] : type === 33 ? [0, 2] : [0, 0];
      assert.deepEqual([rcode, answers], expected, `qtype ${type}: [rcode, answers]`);
      if (expected[0] === 0 && expected[1] === 0) assert.equal(out.readUInt16BE(8), 1, `qtype ${type}: NODATA carries the SOA`);
    } else {
      seen.classes++;
      const qclass = packet.readUInt16BE(questionEnd - 2);
      assert.deepEqual([rcode, answers], qclass === 1 ? [0, 1] : [5, 0], `qclass ${qclass}`);
    }
  }
  assert.deepEqual(seen, { opcodes: 16, types: 65536, classes: 65536 });
  assert.equal(processor.stats.panics, 0);
});

test('regression fixtures replay with the outcome their name promises', () => {
  const processor = fuzzProcessor();
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.hex'));
  assert.ok(files.length >= 8);
  for (const file of files) {
    const { bytes } = parseHexFixture(readFileSync(new URL(file, FIXTURES), 'utf8'));
    // formerr-…, notimp-…, refused-…, nxdomain-…, noerror-…, drop-…; crash-… (found by `npm run fuzz`) only has to pass the checks.
    const expected = /^([a-z]+)-/.exec(file)?.[1] ?? '';
    const outcome = checkInput(processor, bytes, '127.0.0.1');
    if (expected === 'drop') assert.match(outcome, /^drop:/, file);
    else if (expected !== 'crash') assert.equal(outcome.replace('+TC', ''), expected.toUpperCase(), file);
  }
  assert.equal(processor.stats.panics, 0);
});
