// whoami: where the query came from, in the additional section, for any name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TYPE } from '../../src/dns/constants.ts';
import type { Query, RequestContext } from '../../src/dns/message.ts';
import { WhoamiHandler } from '../../src/plugins/whoami.ts';
import { decodeReply } from '../support/dns.ts';

const q = (name: string): Query => ({ id: 1, flags: 0, name, type: TYPE.A, class: 1, questionEnd: 0, edns: null });

const rows: { name: string; context: RequestContext; additional: string[]; why: string }[] = [
  {
    name: 'example.org',
    context: { protocol: 'udp', remoteAddress: '10.1.2.3', remotePort: 40212 },
    additional: ['example.org. 0 IN A 10.1.2.3', '_udp.example.org. 0 IN SRV 0 0 40212 .'],
    why: 'IPv4 over UDP',
  },
  {
    name: 'health-check.localdns.local',
    context: { protocol: 'tcp', remoteAddress: 'fd00::7', remotePort: 5300 },
    additional: ['health-check.localdns.local. 0 IN AAAA fd00::7', '_tcp.health-check.localdns.local. 0 IN SRV 0 0 5300 .'],
    why: 'IPv6 over TCP',
  },
  {
    name: 'example.org',
    context: { protocol: 'udp', remoteAddress: '::ffff:10.4.4.4', remotePort: 1 },
    additional: ['example.org. 0 IN A 10.4.4.4', '_udp.example.org. 0 IN SRV 0 0 1 .'],
    why: 'an IPv4-mapped client is IPv4, as Go sees it',
  },
];

for (const row of rows) {
  test(`whoami ${row.name} ${row.context.protocol} ${row.context.remoteAddress}: ${row.why}`, () => {
    const reply = new WhoamiHandler().serve(q(row.name), row.context);
    assert.equal(reply.authoritative, true);
    const decoded = decodeReply(row.name, TYPE.A, reply);
    assert.deepEqual(decoded?.answer, []);
    assert.deepEqual(decoded?.additional, row.additional);
  });
}
