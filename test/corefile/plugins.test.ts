// A compiled Corefile's handlers: which blocks get a chain of their own, loadbalance as the
// record order, and hosts handlers kept across a reload when their options are unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile } from '../../src/corefile/directives/index.ts';
import { parseCorefileText } from '../../src/corefile/index.ts';
import { buildPlugins, hostsKey } from '../../src/corefile/plugins.ts';
import type { Handler } from '../../src/dns/message.ts';
import { createLogger } from '../../src/base/log.ts';
import { memoryFs } from '../support/corefile.ts';

const rest: Handler = { name: 'cluster', serve: () => null };
const logger = createLogger('silent');

async function planOf(text: string) {
  const fs = memoryFs({});
  return compile(await parseCorefileText(text, '/cfg/Corefile', fs, { env: {} }), { fs, cwd: '/cfg' });
}

test('blocks with handlers get a chain; the others pass; loadbalance anywhere is the record order', async () => {
  const built = buildPlugins(
    await planOf(
      '.:53 {\n kubernetes cluster.local\n loadbalance\n}\nlan:53 {\n hosts {\n  10.0.0.9 printer.lan\n }\n}\ncorp:53 {\n rewrite name exact a.corp b.corp\n}\n',
    ),
    rest,
    logger,
  );
  assert.deepEqual(
    built.blocks.map((b) => [b.zones, b.chain === null ? null : b.chain.name]),
    [
      [[''], null],
      [['lan'], 'block'],
      [['corp'], 'rewrite'],
    ],
  );
  assert.ok(built.recordOrder, 'loadbalance');
  assert.equal(built.hosts.length, 1);
  const none = buildPlugins(await planOf('.:53 {\n kubernetes cluster.local\n}\n'), rest, logger);
  assert.equal(none.recordOrder, null, 'no loadbalance: replies keep their order');
});

test('a reload keeps a hosts handler whose options did not change, and makes a new one for one that did', async () => {
  const first = buildPlugins(await planOf('.:53 {\n kubernetes cluster.local\n hosts {\n  10.0.0.9 printer.lan\n }\n}\n'), rest, logger);
  const kept = new Map(first.hosts.map((h) => [hostsKey(h.options), h]));
  const same = buildPlugins(
    await planOf('.:53 {\n kubernetes cluster.local\n loadbalance\n hosts {\n  10.0.0.9 printer.lan\n }\n}\n'),
    rest,
    logger,
    { reuse: kept },
  );
  assert.equal(same.hosts[0], first.hosts[0], 'the same handler (it keeps watching its file)');
  const changed = buildPlugins(await planOf('.:53 {\n kubernetes cluster.local\n hosts {\n  10.0.0.8 printer.lan\n }\n}\n'), rest, logger, {
    reuse: kept,
  });
  assert.notEqual(changed.hosts[0], first.hosts[0]);
});

test('acl guards a block (IN and the other classes); chaos answers the other classes; nsid is server-wide', async () => {
  const built = buildPlugins(
    await planOf(
      '.:53 {\n kubernetes cluster.local\n chaos CDNS-test\n nsid edge-1\n acl {\n  block net 192.0.2.0/24\n }\n}\ncorp:53 {\n whoami\n}\n',
    ),
    rest,
    logger,
    { version: '9.9.9' },
  );
  const [root, corp] = built.blocks;
  assert.equal(root?.chain?.name, 'acl', 'an acl-only chain: acl, then the cluster chain after the stage');
  assert.equal(root?.otherClasses?.name, 'block', 'acl, then chaos');
  assert.equal(corp?.chain?.name, 'whoami', 'whoami ends a block that neither forwards nor serves the cluster');
  assert.equal(corp?.otherClasses, null);
  assert.deepEqual(Buffer.from(built.nsid ?? []).toString(), 'edge-1');
  const version = { id: 1, flags: 0, name: 'version.bind', type: 16, class: 3, questionEnd: 0, edns: null };
  const blocked = root?.otherClasses?.serve(version, { protocol: 'udp', remoteAddress: '192.0.2.7' });
  assert.equal((blocked as { rcode: number }).rcode, 5, 'acl refuses before chaos answers');
  const answered = root?.otherClasses?.serve(version, { protocol: 'udp', remoteAddress: '10.0.0.1' });
  assert.equal((answered as { ancount: number }).ancount, 1);
  const none = buildPlugins(await planOf('.:53 {\n kubernetes cluster.local\n}\n'), rest, logger);
  assert.equal(none.nsid, null);
  assert.equal(none.blocks[0]?.otherClasses, null);
});
