import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RCODE } from '../../src/dns/constants.ts';
import { emptyReply, type Handler, type Query, type RequestContext } from '../../src/dns/message.ts';
import { Chain } from '../../src/plugins/chain.ts';

const QUERY: Query = { id: 1, flags: 0, name: 'a.example', type: 1, class: 1, questionEnd: 27, edns: null };
const CTX: RequestContext = { protocol: 'udp', remoteAddress: '127.0.0.1' };
const OK = emptyReply(RCODE.NOERROR, true);
const REFUSED = emptyReply(RCODE.REFUSED);

function handler(name: string, serve: Handler['serve'], seen: string[]): Handler {
  return { name, serve: (q, c) => (seen.push(name), serve(q, c)) };
}

test('the first handler with a reply answers; the rest are not asked', () => {
  const seen: string[] = [];
  const chain = new Chain([handler('a', () => null, seen), handler('b', () => OK, seen), handler('c', () => REFUSED, seen)]);
  assert.equal(chain.serve(QUERY, CTX), OK, 'synchronously');
  assert.deepEqual(seen, ['a', 'b']);
});

test('a handler that waits: the chain goes on after it resolves to null', async () => {
  const seen: string[] = [];
  const chain = new Chain([handler('a', async () => null, seen), handler('b', () => null, seen), handler('c', async () => OK, seen)]);
  const out = chain.serve(QUERY, CTX);
  assert.ok(out instanceof Promise);
  assert.equal(await out, OK);
  assert.deepEqual(seen, ['a', 'b', 'c']);
});

test('no handler answers: null, so whoever holds the chain passes the query on', () => {
  assert.equal(new Chain([]).serve(QUERY, CTX), null);
  assert.equal(new Chain([{ name: 'x', serve: () => null }]).serve(QUERY, CTX), null);
});

test('a throw or a rejection reaches the caller (the server answers SERVFAIL)', async () => {
  assert.throws(
    () =>
      new Chain([
        {
          name: 'x',
          serve: () => {
            throw new Error('boom');
          },
        },
      ]).serve(QUERY, CTX),
    /boom/,
  );
  await assert.rejects(
    async () => new Chain([{ name: 'x', serve: async () => Promise.reject(new Error('late')) }]).serve(QUERY, CTX),
    /late/,
  );
});
