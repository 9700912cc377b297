import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TYPE } from '../../src/dns/constants.ts';
import { rebuildReply, replyRecords } from '../../src/dns/rebase.ts';
import { encodeReply } from '../../src/dns/writer.ts';
import { decode, replyMessage } from '../support/dns.ts';

const INNER = 'registry.kube-system.svc.cluster.local';

test('records encoded after one question decode and are written again after another of another length', () => {
  const inner = encodeReply(INNER, {
    rcode: 0,
    authoritative: true,
    answer: [
      { name: INNER, type: TYPE.CNAME, ttl: 5, target: `web.${INNER}` },
      { name: `web.${INNER}`, type: TYPE.A, ttl: 5, address: '10.96.0.1' },
    ],
    authority: [],
    additional: [{ name: INNER, type: TYPE.TXT, ttl: 5, text: ['x'] }],
  });
  const records = replyRecords(INNER, inner);
  assert.ok(records !== null);
  const out = rebuildReply('example.com', inner, records);
  const d = decode(replyMessage('example.com', TYPE.A, out));
  assert.deepEqual(d.answer, [`${INNER}. 5 IN CNAME web.${INNER}.`, `web.${INNER}. 5 IN A 10.96.0.1`]);
  assert.deepEqual(d.additional, [`${INNER}. 5 IN TXT "x"`]);
  assert.equal(d.aa, true);
});

test('a body that does not parse after its question is refused, not guessed at', () => {
  const inner = encodeReply(INNER, {
    rcode: 0,
    authoritative: true,
    answer: [{ name: INNER, type: TYPE.A, ttl: 5, address: '10.0.0.1' }],
    authority: [],
    additional: [],
  });
  assert.equal(replyRecords(INNER, { ...inner, body: inner.body.subarray(0, 10) }), null, 'cut short');
  const chaos = new Uint8Array(inner.body);
  chaos[5] = 3; // the record's class: CH, which the writer could not write again
  assert.equal(replyRecords(INNER, { ...inner, body: chaos }), null, 'a class other than IN');
  assert.equal(
    replyRecords(INNER, { ...inner, body: inner.body.subarray(0, 10) }, 'skip'),
    null,
    'cut short, even when other classes are skipped',
  );
});

test("with otherClasses 'skip' a record of a class other than IN is left out and the rest kept", () => {
  const inner = encodeReply(INNER, {
    rcode: 0,
    authoritative: false,
    answer: [
      { name: INNER, type: TYPE.A, ttl: 5, address: '10.0.0.1' },
      { name: INNER, type: TYPE.A, ttl: 5, address: '10.0.0.2' },
    ],
    authority: [],
    additional: [],
  });
  const chaos = new Uint8Array(inner.body);
  chaos[5] = 3; // the first record's class: CH
  const records = replyRecords(INNER, { ...inner, body: chaos }, 'skip');
  assert.deepEqual(records, { answer: [{ name: INNER, type: TYPE.A, ttl: 5, address: '10.0.0.2' }], authority: [], additional: [] });
});
