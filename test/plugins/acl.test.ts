// acl: the first matching policy of each rule decides, rules in order; allow ends the checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RCODE, TYPE } from '../../src/dns/constants.ts';
import { NO_REPLY, type Query } from '../../src/dns/message.ts';
import { AclHandler, type AclRuleOptions } from '../../src/plugins/acl.ts';
import { PluginOptionError } from '../../src/plugins/errors.ts';

const q = (name: string, type: number): Query => ({ id: 1, flags: 0, name, type, class: 1, questionEnd: 0, edns: null });

interface Row {
  rules: AclRuleOptions[];
  name: string;
  type: number;
  from: string;
  /** 'pass' for the next handler. */
  want: 'pass' | 'refused' | 'filtered' | 'dropped';
  why: string;
}

const internalOnly: AclRuleOptions = {
  zones: [''],
  policies: [
    { action: 'allow', types: [], nets: ['10.0.0.0/8', 'fd00::/8'] },
    { action: 'block', types: [], nets: [] },
  ],
};
const noTransfers: AclRuleOptions = { zones: ['example.org'], policies: [{ action: 'block', types: [TYPE.AXFR, TYPE.IXFR], nets: [] }] };
const filterAaaa: AclRuleOptions = { zones: [''], policies: [{ action: 'filter', types: [TYPE.AAAA], nets: [] }] };
const dropOne: AclRuleOptions = { zones: [''], policies: [{ action: 'drop', types: [], nets: ['192.168.1.1'] }] };

const rows: Row[] = [
  { rules: [internalOnly], name: 'a.example', type: TYPE.A, from: '10.1.2.3', want: 'pass', why: 'an allowed network goes on' },
  { rules: [internalOnly], name: 'a.example', type: TYPE.A, from: '203.0.113.9', want: 'refused', why: 'the catch-all block: REFUSED' },
  { rules: [internalOnly], name: 'a.example', type: TYPE.A, from: 'fd00::5', want: 'pass', why: 'an IPv6 network' },
  {
    rules: [internalOnly],
    name: 'a.example',
    type: TYPE.A,
    from: '::ffff:10.9.9.9',
    want: 'pass',
    why: 'an IPv4-mapped client (dual-stack socket) against an IPv4 network',
  },
  { rules: [noTransfers], name: 'example.org', type: TYPE.AXFR, from: '10.1.1.1', want: 'refused', why: 'by type' },
  { rules: [noTransfers], name: 'www.example.org', type: TYPE.A, from: '10.1.1.1', want: 'pass', why: 'other types match no policy' },
  { rules: [noTransfers], name: 'example.com', type: TYPE.AXFR, from: '10.1.1.1', want: 'pass', why: 'outside the rule’s zones' },
  { rules: [filterAaaa], name: 'a.example', type: TYPE.AAAA, from: '10.1.1.1', want: 'filtered', why: 'filter: NOERROR, nothing in it' },
  { rules: [dropOne], name: 'a.example', type: TYPE.A, from: '192.168.1.1', want: 'dropped', why: 'drop: no reply at all' },
  { rules: [dropOne], name: 'a.example', type: TYPE.A, from: '192.168.1.2', want: 'pass', why: 'a bare address is a /32' },
  {
    rules: [internalOnly, filterAaaa],
    name: 'a.example',
    type: TYPE.AAAA,
    from: '10.1.1.1',
    want: 'pass',
    why: 'allow ends the checks: a later rule is not asked',
  },
  {
    rules: [noTransfers, filterAaaa],
    name: 'www.example.org',
    type: TYPE.AAAA,
    from: '10.1.1.1',
    want: 'filtered',
    why: 'a rule with no matching policy leaves it to the next rule',
  },
];

for (const row of rows) {
  test(`acl ${row.name} ${row.type} from ${row.from}: ${row.why}`, () => {
    const reply = new AclHandler(row.rules).serve(q(row.name, row.type), { protocol: 'udp', remoteAddress: row.from });
    if (row.want === 'pass') assert.equal(reply, null);
    else if (row.want === 'dropped') assert.equal(reply, NO_REPLY);
    else {
      assert.ok(reply && reply !== NO_REPLY);
      assert.equal(reply.rcode, row.want === 'refused' ? RCODE.REFUSED : RCODE.NOERROR);
      assert.equal(reply.ancount + reply.nscount + reply.arcount, 0);
    }
  });
}

test('acl: a network that is not one is a PluginOptionError naming acl', () => {
  assert.throws(
    () => new AclHandler([{ zones: [''], policies: [{ action: 'block', types: [], nets: ['10.0.0.0/40'] }] }]),
    (err: unknown) => err instanceof PluginOptionError && err.message.startsWith('acl: '),
  );
});
