// What every reply to a hostile input must satisfy, checked independently of how the server built
// it: dns2 decodes it, the header echoes what it must, the size fits the transport, the question
// comes back byte for byte or not at all, and the rcode is the one the request deserves. Shared
// by the fuzz tests and `npm run fuzz`, which must agree on what a failure is.
import assert from 'node:assert/strict';
import dns2 from 'dns2';
import { Autopath } from '../../src/upstream/autopath.ts';
import { readQuery, type ReadResult } from '../../src/dns/query.ts';
import { MalformedMessageError, readMessage } from '../../src/dns/reader.ts';
import { QueryCounters } from '../../src/server/counters.ts';
import { QueryProcessor } from '../../src/server/processor.ts';
import { KubernetesZone } from '../../src/zone/kubernetes.ts';
import { indexOf, testCluster } from './cluster.ts';

const { Packet } = dns2;

/** The cluster zone behind autopath, with metrics counting on: the handler chain `app.ts` builds minus forwarding. */
export function fuzzProcessor(): QueryProcessor {
  const index = indexOf(testCluster());
  const zone = new KubernetesZone({ index, zone: 'cluster.local', ttl: 5, pods: 'verified' });
  const autopath = new Autopath({ index, zone, zoneName: 'cluster.local', forwarder: null, ttl: 5 });
  const handlers = [autopath, zone];
  return new QueryProcessor({
    handlers,
    counters: new QueryCounters({ servers: 1, zones: ['cluster.local'], plugins: handlers.map((h) => h.name) }),
  });
}

export const MAX_UDP = 1232;
/** Clients the fuzzer speaks as: a stranger, and a pod of testns (so autopath does its walk). */
export const REMOTES = ['127.0.0.1', '10.244.4.1'] as const;

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

/**
 * Checks one processor result against the request and readQuery's reading of it (throws an
 * AssertionError naming the broken rule). Returns the outcome for the figures: `drop:short`,
 * `drop:response`, or the rcode, with `+TC` when truncated.
 */
export function checkReply(
  request: Buffer,
  read: ReadResult,
  out: Buffer | null | Promise<Buffer | null>,
  protocol: 'udp' | 'tcp',
): string {
  assert.ok(!(out instanceof Promise), 'the cluster zone answers synchronously');
  if (read.kind === 'drop') {
    assert.equal(out, null, `a ${read.reason} message is dropped, never answered`);
    return `drop:${read.reason}`;
  }
  assert.ok(out !== null, 'anything with a readable query header is answered');
  assert.ok(out.length >= 12);
  assert.equal(out.readUInt16BE(0), request.readUInt16BE(0), 'ID echoed');
  const flags = out.readUInt16BE(2);
  const requestFlags = request.readUInt16BE(2);
  assert.ok((flags & 0x8000) !== 0, 'QR set');
  assert.equal(flags & 0x7800, requestFlags & 0x7800, 'opcode echoed');
  assert.equal(flags & 0x0110, requestFlags & 0x0110, 'RD and CD echoed');

  const edns = read.kind === 'query' ? read.query.edns : read.edns;
  const limit = protocol === 'tcp' ? 65535 : edns === null ? 512 : Math.min(edns.udpSize, MAX_UDP);
  assert.ok(out.length <= limit, `${out.length} octets over the ${protocol} limit of ${limit}`);

  // An independent decoder reads the whole reply, and the counts match the sections.
  const p = Packet.parse(out);
  const [qd, an, ns, ar] = [out.readUInt16BE(4), out.readUInt16BE(6), out.readUInt16BE(8), out.readUInt16BE(10)];
  assert.deepEqual([p.questions.length, p.answers.length, p.authorities.length, p.additionals.length], [qd, an, ns, ar], 'section counts');
  const opts = p.additionals.filter((r) => r.type === 41).length;
  assert.equal(opts, edns === null ? 0 : 1, 'an OPT in the reply exactly when the request had a readable one');
  if (edns !== null) {
    // The OPT is the last record and carries no options: root owner, type, class, TTL, RDLENGTH 0.
    const opt = out.subarray(out.length - 11);
    assert.deepEqual([opt[0], opt.readUInt16BE(1), opt.readUInt16BE(9)], [0, 41, 0], 'the OPT ends the reply');
    assert.equal((opt[7]! & 0x80) !== 0, edns.dnssecOk, 'DO copied from the request (RFC 3225 §3)');
  }

  // The question: echoed byte for byte when it was read whole, else not at all.
  const questionEnd = read.kind === 'query' ? read.query.questionEnd : read.questionEnd;
  if (read.kind === 'query') assert.equal(qd, 1, 'a query gets its question back');
  if (qd === 1) {
    assert.ok(questionEnd > 12);
    assert.deepEqual(out.subarray(12, questionEnd), request.subarray(12, questionEnd), 'question echoed byte for byte');
  } else {
    assert.equal(qd, 0);
  }

  const tc = (flags & 0x0200) !== 0;
  // A truncated reply carries whole records only: the decoder's sections matched the counts above.
  let rcode = RCODES[flags & 0xf] ?? `RCODE${flags & 0xf}`;
  if (edns !== null && opts === 1) {
    const opt = p.additionals.find((r) => r.type === 41) as unknown as { extendedRcode?: number } | undefined;
    if ((opt?.extendedRcode ?? 0) !== 0) rcode = 'BADVERS';
  }
  if (read.kind === 'error') {
    assert.equal(rcode, read.rcode === 4 ? 'NOTIMP' : 'FORMERR', 'the rcode the parser chose');
    assert.equal(an + ns, 0, 'an error carries no records');
  } else {
    const q = read.query;
    if (q.edns !== null && q.edns.version !== 0) assert.equal(rcode, 'BADVERS');
    else if (q.class !== 1 || q.type === 251 || q.type === 252) assert.equal(rcode, 'REFUSED');
    else assert.ok(rcode === 'NOERROR' || rcode === 'NXDOMAIN' || rcode === 'REFUSED', `rcode ${rcode} from a synced zone`);
  }
  return tc ? `${rcode}+TC` : rcode;
}

/** readMessage (upstream replies) on the same bytes: a value or MalformedMessageError, nothing else. */
export function checkMessageReader(packet: Buffer): void {
  try {
    readMessage(packet);
  } catch (err) {
    assert.ok(err instanceof MalformedMessageError, `readMessage threw ${(err as Error).name}: ${(err as Error).message}`);
  }
}

/** `\DDD` escapes back to bytes: our presentation form, compared with dns2's latin1 string. */
function unescapeDecimal(name: string): string {
  return name.replace(/\\(\d{3})/g, (_, d: string) => String.fromCharCode(Number(d)));
}

/**
 * Differential check: whatever readQuery accepts as a query, dns2 reads the same ID, question
 * name (ASCII-lower-cased, as we match), type and class. Not the converse: dns2 is more lenient
 * (forward pointers, any counts), and leniency is what we refuse.
 */
export function checkAgainstDns2(request: Buffer, read: ReadResult): void {
  if (read.kind !== 'query') return;
  const p = Packet.parse(request);
  const q = p.questions[0];
  assert.ok(q, 'dns2 reads a question');
  assert.equal(p.header.id, read.query.id);
  assert.equal(q.type, read.query.type);
  assert.equal(q.class, read.query.class);
  const theirs = String(q.name).replace(/[A-Z]/g, (c) => c.toLowerCase());
  assert.equal(unescapeDecimal(read.query.name), theirs, 'the same name');
}

/** One input through everything, over both transports; returns the UDP outcome. */
export function checkInput(processor: QueryProcessor, packet: Buffer, remote: string): string {
  const read = readQuery(packet);
  const udp = checkReply(packet, read, processor.process(packet, { protocol: 'udp', remoteAddress: remote }), 'udp');
  checkReply(packet, read, processor.process(packet, { protocol: 'tcp', remoteAddress: remote }), 'tcp');
  checkAgainstDns2(packet, read);
  checkMessageReader(packet);
  return udp;
}
