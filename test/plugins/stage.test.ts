// The Corefile stage: which server block a name goes to (CoreDNS: the longest zone that is a
// suffix of the name), and that a swap replaces every block at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLASS, RCODE, TYPE } from '../../src/dns/constants.ts';
import type { Handler, Query, Reply, RequestContext } from '../../src/dns/message.ts';
import { PluginStage } from '../../src/plugins/stage.ts';

const named = (name: string): Handler => ({ name, serve: () => null });
const q = (name: string, qclass: number): Query => ({ id: 1, flags: 0, name, type: TYPE.TXT, class: qclass, questionEnd: 0, edns: null });
const UDP: RequestContext = { protocol: 'udp', remoteAddress: '127.0.0.1' };

test('a name goes to the block of the longest zone it is in; a block without handlers passes', () => {
  const root = named('root');
  const corp = named('corp');
  const deep = named('deep');
  const stage = new PluginStage([
    { zones: [''], chain: root },
    { zones: ['corp.example'], chain: corp },
    { zones: ['eu.corp.example', 'eu2.corp.example'], chain: deep },
    { zones: ['quiet.example'], chain: null },
  ]);
  const rows: { name: string; want: Handler | null; why: string }[] = [
    { name: 'www.example.com', want: root, why: 'only the root block holds it' },
    { name: 'corp.example', want: corp, why: 'the zone itself' },
    { name: 'a.corp.example', want: corp, why: 'below the zone' },
    { name: 'x.eu.corp.example', want: deep, why: 'the longer zone wins' },
    { name: 'x.eu2.corp.example', want: deep, why: 'a block with two zones' },
    { name: 'xcorp.example', want: root, why: 'a suffix of a label is not the zone' },
    { name: 'a.quiet.example', want: null, why: 'a block with nothing of its own: the cluster chain answers' },
    { name: '', want: root, why: 'the root name' },
  ];
  for (const row of rows) assert.equal(stage.chainFor(row.name), row.want, row.why);
});

test('without a root block, a name outside every block is REFUSED, as CoreDNS refuses it', () => {
  const stage = new PluginStage([{ zones: ['corp.example'], chain: null }]);
  assert.equal(stage.chainFor('www.example.com'), undefined);
  const reply = stage.serve(q('www.example.com', CLASS.IN), UDP);
  assert.equal((reply as Reply | null)?.rcode, RCODE.REFUSED);
  assert.equal(stage.serve(q('a.corp.example', CLASS.IN), UDP), null, 'inside the block: the cluster chain answers');
});

test('classes other than IN get what the block answers them with, else REFUSED', () => {
  const txt: Reply = { rcode: RCODE.NOERROR, authoritative: false, ancount: 0, nscount: 0, arcount: 0, body: new Uint8Array(0) };
  const chaos: Handler = { name: 'chaos', serve: (query) => (query.name === 'version.bind' ? txt : null) };
  const stage = new PluginStage([
    { zones: [''], chain: null, otherClasses: chaos },
    { zones: ['corp.example'], chain: named('corp') },
  ]);
  const rows: { name: string; qclass: number; want: number | null; why: string }[] = [
    { name: 'version.bind', qclass: CLASS.CH, want: RCODE.NOERROR, why: 'the block answers it' },
    { name: 'other.bind', qclass: CLASS.CH, want: RCODE.REFUSED, why: 'the block passes: never to the cluster chain' },
    { name: 'a.corp.example', qclass: CLASS.CH, want: RCODE.REFUSED, why: 'a block with nothing for other classes' },
    { name: 'a.corp.example', qclass: CLASS.ANY, want: RCODE.REFUSED, why: 'class ANY too' },
    { name: 'www.example.com', qclass: CLASS.IN, want: null, why: 'IN goes on to the cluster chain' },
  ];
  for (const row of rows) {
    const reply = stage.serve(q(row.name, row.qclass), UDP) as Reply | null;
    assert.equal(reply === null ? null : reply.rcode, row.want, row.why);
  }
});

test('a swap replaces every block at once', () => {
  const before = named('before');
  const after = named('after');
  const stage = new PluginStage([
    { zones: [''], chain: before },
    { zones: ['corp.example'], chain: before },
  ]);
  stage.swap([{ zones: ['corp.example'], chain: after }]);
  assert.equal(stage.chainFor('a.corp.example'), after);
  assert.equal(stage.chainFor('www.example.com'), undefined, 'the old root block is gone too');
});
