// The zone's prepared replies on their own: kept per name and type, good while their scope's
// generation holds, dropped by a new index epoch and by reaching the bound. Each test asks before
// it keeps, as the zone does: the first get() of an epoch adopts it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PreparedReplies } from '../../src/zone/prepared.ts';
import { emptyReply } from '../../src/dns/message.ts';
import { RCODE, TYPE } from '../../src/dns/constants.ts';

const NAME = 'web.shop.svc.cluster.local';

test('a reply is served for its name and type only', () => {
  const prepared = new PreparedReplies(10);
  const reply = emptyReply(RCODE.NOERROR, true);
  assert.equal(prepared.get(NAME, TYPE.A, 0), undefined, 'nothing kept yet');
  prepared.set(NAME, TYPE.A, reply, { gen: 0 });
  assert.equal(prepared.get(NAME, TYPE.A, 0), reply);
  assert.equal(prepared.get(NAME, TYPE.AAAA, 0), undefined, 'another type');
  assert.equal(prepared.get(`x.${NAME}`, TYPE.A, 0), undefined, 'another name');
});

test('null (not the zone’s) is kept and told apart from nothing kept', () => {
  const prepared = new PreparedReplies(10);
  assert.equal(prepared.get('7.0.0.10.in-addr.arpa', TYPE.PTR, 0), undefined);
  prepared.set('7.0.0.10.in-addr.arpa', TYPE.PTR, null, { gen: 0 });
  assert.equal(prepared.get('7.0.0.10.in-addr.arpa', TYPE.PTR, 0), null);
  assert.equal(prepared.get('8.0.0.10.in-addr.arpa', TYPE.PTR, 0), undefined);
});

test('types of 256 and more share one map, keyed with the type', () => {
  const prepared = new PreparedReplies(10);
  const caa = emptyReply(RCODE.NOERROR, true);
  const other = emptyReply(RCODE.NXDOMAIN, true);
  assert.equal(prepared.get(NAME, 257, 0), undefined);
  prepared.set(NAME, 257, caa, { gen: 0 });
  prepared.set(NAME, 300, other, { gen: 0 });
  assert.equal(prepared.get(NAME, 257, 0), caa);
  assert.equal(prepared.get(NAME, 300, 0), other);
  assert.equal(prepared.get(NAME, 1, 0), undefined, 'type 1 is not type 257');
});

test('a reply goes stale when its scope moves on, and a new one takes its place', () => {
  const prepared = new PreparedReplies(10);
  const scope = { gen: 3 };
  const old = emptyReply(RCODE.NXDOMAIN, true);
  assert.equal(prepared.get(NAME, TYPE.A, 0), undefined);
  prepared.set(NAME, TYPE.A, old, scope);
  assert.equal(prepared.get(NAME, TYPE.A, 0), old);
  scope.gen++;
  assert.equal(prepared.get(NAME, TYPE.A, 0), undefined, 'never served stale');
  const fresh = emptyReply(RCODE.NOERROR, true);
  prepared.set(NAME, TYPE.A, fresh, scope);
  assert.equal(prepared.get(NAME, TYPE.A, 0), fresh);
});

test('a new index epoch drops every reply', () => {
  const prepared = new PreparedReplies(10);
  assert.equal(prepared.get(NAME, TYPE.A, 0), undefined);
  const reply = emptyReply(RCODE.NOERROR, true);
  prepared.set(NAME, TYPE.A, reply, { gen: 0 });
  prepared.set(NAME, TYPE.SRV, reply, { gen: 0 });
  assert.equal(prepared.get(NAME, TYPE.A, 0), reply);
  assert.equal(prepared.get(NAME, TYPE.A, 1), undefined, 'a relist from scratch: scopes start over');
  assert.equal(prepared.get(NAME, TYPE.SRV, 1), undefined);
});

test('reaching the bound starts over; replacing a reply does not count', () => {
  const prepared = new PreparedReplies(2);
  const reply = emptyReply(RCODE.NOERROR, true);
  prepared.get(NAME, TYPE.A, 0);
  prepared.set('a.cluster.local', TYPE.A, reply, { gen: 0 });
  prepared.set('a.cluster.local', TYPE.A, reply, { gen: 0 });
  prepared.set('b.cluster.local', TYPE.A, reply, { gen: 0 });
  assert.equal(prepared.get('a.cluster.local', TYPE.A, 0), reply, 'two names, the bound not passed');
  prepared.set('c.cluster.local', TYPE.A, reply, { gen: 0 });
  assert.equal(prepared.get('a.cluster.local', TYPE.A, 0), undefined, 'the third name dropped the others');
  assert.equal(prepared.get('b.cluster.local', TYPE.A, 0), undefined);
  assert.equal(prepared.get('c.cluster.local', TYPE.A, 0), reply, 'and is kept itself');
});
