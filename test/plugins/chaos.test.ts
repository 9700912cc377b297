// chaos: CH TXT answers about the server, encoded once; everything else passes on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLASS, TYPE } from '../../src/dns/constants.ts';
import type { Query } from '../../src/dns/message.ts';
import { ChaosHandler } from '../../src/plugins/chaos.ts';
import { decodeReply } from '../support/dns.ts';

const q = (name: string, type: number = TYPE.TXT, qclass: number = CLASS.CH): Query => ({
  id: 1,
  flags: 0,
  name,
  type,
  class: qclass,
  questionEnd: 0,
  edns: null,
});

interface Row {
  query: Query;
  /** undefined: passed on. */
  answer?: string[];
  why: string;
}

const long = 'v'.repeat(300);
const handler = new ChaosHandler({ version: 'cluster-dns-1.2.3', authors: ['Ada', 'Grace'], hostname: 'node-7' });

const rows: Row[] = [
  { query: q('version.bind'), answer: ['version.bind. 0 IN TXT "cluster-dns-1.2.3"'], why: 'the version, TTL 0' },
  { query: q('version.server'), answer: ['version.server. 0 IN TXT "cluster-dns-1.2.3"'], why: 'the same under version.server' },
  { query: q('authors.bind'), answer: ['authors.bind. 0 IN TXT "Ada"', 'authors.bind. 0 IN TXT "Grace"'], why: 'one TXT per author' },
  { query: q('hostname.bind'), answer: ['hostname.bind. 0 IN TXT "node-7"'], why: 'the host name' },
  { query: q('id.server'), answer: ['id.server. 0 IN TXT "node-7"'], why: 'the host name under id.server' },
  { query: q('other.bind'), why: 'a name chaos does not know passes on' },
  { query: q('version.bind', TYPE.A), why: 'only TXT' },
  { query: q('version.bind', TYPE.TXT, CLASS.IN), why: 'only class CH' },
];

for (const row of rows) {
  test(`chaos ${row.query.name} ${row.query.type}/${row.query.class}: ${row.why}`, () => {
    const reply = handler.serve(row.query);
    if (row.answer === undefined) {
      assert.equal(reply, null);
      return;
    }
    assert.ok(reply);
    assert.equal(reply.authoritative, false, 'not authoritative, as CoreDNS answers');
    const decoded = decodeReply(row.query.name, TYPE.TXT, reply);
    assert.deepEqual(decoded?.answer, row.answer);
    // Each record's class is CH (the decoder renders every class as IN).
    const raw = decoded?.raw as Buffer;
    const classAt = 12 + row.query.name.length + 2 + 4 + 4;
    assert.equal(raw.readUInt16BE(classAt), CLASS.CH);
  });
}

test('chaos: no authors is an empty NOERROR; a version over 255 octets is split into strings', () => {
  const bare = new ChaosHandler({ version: long, authors: [] });
  const authors = bare.serve(q('authors.bind'));
  assert.equal(authors?.ancount, 0);
  assert.equal(authors?.rcode, 0);
  const version = decodeReply('version.bind', TYPE.TXT, bare.serve(q('version.bind')));
  assert.deepEqual(version?.answer, [`version.bind. 0 IN TXT "${'v'.repeat(255)}" "${'v'.repeat(45)}"`]);
});

test('chaos: the same reply object every time (encoded once)', () => {
  assert.equal(handler.serve(q('version.bind')), handler.serve(q('version.bind')));
});
