// The Corefile stage: which server block a name goes to (CoreDNS: the longest zone that is a
// suffix of the name), and that a swap replaces every block at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Handler } from '../../src/dns/message.ts';
import { PluginStage } from '../../src/plugins/stage.ts';

const named = (name: string): Handler => ({ name, serve: () => null });

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

test('without a root block, names outside every block pass to the cluster chain', () => {
  const stage = new PluginStage([{ zones: ['corp.example'], chain: named('corp') }]);
  assert.equal(stage.chainFor('www.example.com'), null);
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
  assert.equal(stage.chainFor('www.example.com'), null, 'the old root block is gone too');
});
