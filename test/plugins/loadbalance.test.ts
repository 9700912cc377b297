import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { RCODE, TYPE } from '../../src/dns/constants.ts';
import type { Reply } from '../../src/dns/message.ts';
import { recordEnds } from '../../src/dns/reader.ts';
import { encodeReply, nameOctets, type ResourceRecord } from '../../src/dns/writer.ts';
import { PluginOptionError } from '../../src/plugins/errors.ts';
import { loadbalanceOptions, RecordShuffle } from '../../src/plugins/loadbalance.ts';
import { decode, replyMessage } from '../support/dns.ts';

const Q = 'hdls.testns.svc.cluster.local';

/** A fixed sequence in [0, 1), so every run of the tests sees the same orders. */
function seeded(seed = 7): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

function a(name: string, i: number): ResourceRecord {
  return { name, type: TYPE.A, ttl: 5, address: `10.244.1.${i}` };
}

function reply(answer: ResourceRecord[], additional: ResourceRecord[] = [], rcode: number = RCODE.NOERROR): Reply {
  return encodeReply(Q, { rcode, authoritative: true, answer, authority: [], additional });
}

const BASE = 12 + nameOctets(Q) + 4;

/** The records of a message's body as hex, each whole (dns2 does not render every type). */
function records(out: Buffer, r: Reply): { answer: string[]; additional: string[] } {
  const body = out.subarray(BASE);
  const ends = recordEnds(body, r.ancount + r.nscount + r.arcount);
  const all = [...ends].map((end, i) => body.subarray(i === 0 ? 0 : ends[i - 1], end).toString('hex'));
  return { answer: all.slice(0, r.ancount), additional: all.slice(r.ancount + r.nscount) };
}

/** The message the server would send, reordered by `shuffle`; still a message dns2 can read. */
function shuffled(shuffle: RecordShuffle, r: Reply, copied = r.body.length): { answer: string[]; additional: string[] } {
  const out = replyMessage(Q, TYPE.A, r);
  shuffle.permute(out, BASE, r, copied);
  decode(out);
  return records(out, r);
}

function sameSet(x: string[], y: string[]): void {
  assert.deepEqual([...x].sort(), [...y].sort());
}

interface Row {
  answer: ResourceRecord[];
  additional?: ResourceRecord[];
  rcode?: number;
  /** Indexes of answer records that must stay where they are. */
  fixed: number[];
  moves: boolean;
  why: string;
}

const eight = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => a(Q, i));
const rows: Row[] = [
  { answer: eight, fixed: [], moves: true, why: 'a headless Service: its A records in a new order' },
  {
    answer: [1, 2, 3].map((i) => ({ name: Q, type: TYPE.AAAA, ttl: 5, address: `fd00::${i}` }) as ResourceRecord),
    fixed: [],
    moves: true,
    why: 'AAAA records',
  },
  { answer: eight, rcode: RCODE.NXDOMAIN, fixed: [0, 1, 2, 3, 4, 5, 6, 7], moves: false, why: 'only NOERROR replies, as CoreDNS' },
  { answer: [a(Q, 1)], fixed: [0], moves: false, why: 'one record' },
  {
    answer: [{ name: Q, type: TYPE.CNAME, ttl: 5, target: 'web.example.com' }, ...[1, 2, 3, 4].map((i) => a('web.example.com', i))],
    fixed: [0],
    moves: true,
    why: 'the CNAME stays first; the addresses after it move (their owner points into the CNAME)',
  },
  {
    answer: [a(Q, 1), { name: Q, type: TYPE.TXT, ttl: 5, text: ['x'] }, a(Q, 2)],
    fixed: [0, 1, 2],
    moves: false,
    why: 'records of another type in between: runs are consecutive records',
  },
  {
    answer: [10, 20, 30].map((p) => ({ name: Q, type: TYPE.MX, ttl: 5, preference: p, exchange: Q }) as ResourceRecord),
    fixed: [],
    moves: true,
    why: 'MX records whose exchange is a pointer move',
  },
  {
    answer: [10, 20, 30].map((p) => ({ name: Q, type: TYPE.MX, ttl: 5, preference: p, exchange: `mx${p}.example.com` }) as ResourceRecord),
    fixed: [0, 1, 2],
    moves: false,
    why: 'MX records with their exchange written out stay (pointers lead into them)',
  },
  {
    answer: [1, 2].map(
      (p) => ({ name: Q, type: TYPE.SRV, ttl: 5, priority: 0, weight: 50, port: 80, target: `pet-${p}.${Q}` }) as ResourceRecord,
    ),
    additional: [1, 2, 3, 4].map((i) => a(`pet-1.${Q}`, i)),
    fixed: [0, 1],
    moves: true,
    why: 'SRV answers stay; the additional A records move within their section',
  },
];

for (const row of rows) {
  test(`loadbalance: ${row.why}`, () => {
    const r = reply(row.answer, row.additional, row.rcode);
    const original = records(replyMessage(Q, TYPE.A, r), r);
    const shuffle = new RecordShuffle(undefined, seeded());
    const orders = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const d = shuffled(shuffle, r);
      sameSet(d.answer, original.answer);
      sameSet(d.additional, original.additional);
      for (const k of row.fixed) assert.equal(d.answer[k], original.answer[k], `record ${k} stays`);
      orders.add(JSON.stringify([d.answer, d.additional]));
    }
    if (row.moves) assert.ok(orders.size > 1, 'a different order across replies');
    else assert.equal(orders.size, 1);
  });
}

test('the prepared body itself is never changed: only the copy in the message', () => {
  const r = reply(eight);
  const before = Buffer.from(r.body);
  const shuffle = new RecordShuffle(undefined, seeded());
  for (let i = 0; i < 5; i++) shuffled(shuffle, r);
  assert.deepEqual(Buffer.from(r.body), before);
});

test('every order comes up: the first record is each of the eight about as often (uniform)', () => {
  const r = reply(eight);
  const shuffle = new RecordShuffle(undefined, seeded(3));
  const firsts = new Map<string, number>();
  for (let i = 0; i < 800; i++) {
    const first = shuffled(shuffle, r).answer[0] as string;
    firsts.set(first, (firsts.get(first) ?? 0) + 1);
  }
  assert.equal(firsts.size, 8);
  for (const n of firsts.values()) assert.ok(n > 50 && n < 150, `${n} of 800 first`);
});

test('a truncated copy gets a random subset of the run, not always the first records', () => {
  const r = reply(eight);
  const shuffle = new RecordShuffle(undefined, seeded());
  const seen = new Set<string>();
  const original = decode(replyMessage(Q, TYPE.A, r)).answer;
  for (let i = 0; i < 30; i++) {
    // The server copied three whole records (16 octets each) and cut the rest.
    const out = replyMessage(Q, TYPE.A, r);
    shuffle.permute(out, BASE, r, 48);
    const kept = decode(out).answer.slice(0, 3);
    assert.equal(new Set(kept).size, 3, 'three distinct records');
    for (const rr of kept) {
      assert.ok(original.includes(rr));
      seen.add(rr);
    }
  }
  assert.ok(seen.size > 3, 'records from beyond the cut come first');
});

describe('loadbalance options', () => {
  it('loadbalance and loadbalance round_robin (CoreDNS: a uniform shuffle, the one policy)', () => {
    assert.deepEqual(loadbalanceOptions([]), { policy: 'round_robin' });
    assert.deepEqual(loadbalanceOptions(['round_robin']), { policy: 'round_robin' });
  });
  it('refuses what it does not do', () => {
    assert.throws(
      () => loadbalanceOptions(['weighted', 'file']),
      (e: unknown) => e instanceof PluginOptionError && /weighted policy is not supported/.test(e.message),
    );
    assert.throws(() => loadbalanceOptions(['random']), PluginOptionError);
  });
});
