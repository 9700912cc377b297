import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { RCODE, TYPE, typeName } from '../../src/dns/constants.ts';
import type { Handler, Query, Reply, RequestContext } from '../../src/dns/message.ts';
import { encodeReply, type ResourceRecord } from '../../src/dns/writer.ts';
import { PluginOptionError } from '../../src/plugins/errors.ts';
import { parseRewriteArgs, RewriteHandler } from '../../src/plugins/rewrite.ts';
import { decode, replyMessage } from '../support/dns.ts';

const CTX: RequestContext = { protocol: 'udp', remoteAddress: '127.0.0.1' };

function q(name: string, type: number = TYPE.A): Query {
  return { id: 1, flags: 0x0100, name, type, class: 1, questionEnd: 12 + name.length + 2 + 4, edns: null };
}

/**
 * The rest of the chain: answers every name with records for it, and remembers what it was asked.
 * `*.consul` names get three A records (the CoreDNS README's example); `api.*` names a CNAME to
 * `lb.` of the same suffix and its A record, to show targets being mapped.
 */
class Inner implements Handler {
  readonly name = 'inner';
  readonly asked: Query[] = [];
  readonly #prepared = new Map<string, Reply>();

  serve(query: Query): Reply {
    this.asked.push(query);
    const key = `${query.type}|${query.name}`;
    let reply = this.#prepared.get(key);
    if (reply === undefined) {
      const name = query.name;
      let answer: ResourceRecord[];
      if (name.endsWith('.consul'))
        answer = ['10.10.10.10', '10.20.20.20', '10.30.30.30'].map((address) => ({ name, type: TYPE.A, ttl: 0, address }));
      else if (name.startsWith('api.')) {
        const lb = `lb.${name.slice(4)}`;
        answer = [
          { name, type: TYPE.CNAME, ttl: 5, target: lb },
          { name: lb, type: TYPE.A, ttl: 5, address: '10.0.0.9' },
        ];
      } else if (query.type === TYPE.A) answer = [{ name, type: TYPE.A, ttl: 5, address: '10.96.0.1' }];
      else answer = [];
      reply = encodeReply(name, { rcode: RCODE.NOERROR, authoritative: true, answer, authority: [], additional: [] });
      this.#prepared.set(key, reply);
    }
    return reply;
  }
}

interface Row {
  /** Each rule as the words after `rewrite` (a block's words appended). */
  rules: string[];
  name: string;
  type?: keyof typeof TYPE;
  /** What the rest of the chain is asked: `name TYPE`. */
  inner: string;
  answer?: string[];
  rcode?: string;
  why: string;
}

const rows: Row[] = [
  {
    rules: ['name example.com registry.kube-system.svc.cluster.local'],
    name: 'example.com',
    inner: 'registry.kube-system.svc.cluster.local A',
    answer: ['example.com. 5 IN A 10.96.0.1'],
    why: 'minikube registry alias: exact (the default), the answer comes back under the asked name',
  },
  {
    rules: ['name exact RED BLUE'],
    name: 'red',
    inner: 'blue A',
    answer: ['red. 5 IN A 10.96.0.1'],
    why: 'exact answers are mapped back automatically (README)',
  },
  { rules: ['name exact RED BLUE'], name: 'red.x', inner: 'red.x A', answer: ['red.x. 5 IN A 10.96.0.1'], why: 'exact is the whole name' },
  {
    rules: ['name substring service.us-west-1.example.org service.us-west-1.consul'],
    name: 'ftp.service.us-west-1.example.org',
    inner: 'ftp.service.us-west-1.consul A',
    answer: [
      'ftp.service.us-west-1.consul. 0 IN A 10.10.10.10',
      'ftp.service.us-west-1.consul. 0 IN A 10.20.20.20',
      'ftp.service.us-west-1.consul. 0 IN A 10.30.30.30',
    ],
    why: 'substring (README); without answer rules the records keep their names',
  },
  {
    rules: ['name substring service.us-west-1.example.org service.us-west-1.consul answer auto'],
    name: 'ftp.service.us-west-1.example.org',
    inner: 'ftp.service.us-west-1.consul A',
    answer: [
      'ftp.service.us-west-1.example.org. 0 IN A 10.10.10.10',
      'ftp.service.us-west-1.example.org. 0 IN A 10.20.20.20',
      'ftp.service.us-west-1.example.org. 0 IN A 10.30.30.30',
    ],
    why: 'answer auto maps the rewritten name back',
  },
  {
    rules: ['name regex (.*)-(us-west-1)\\.example\\.org {1}.service.{2}.consul'],
    name: 'ftp-us-west-1.example.org',
    inner: 'ftp.service.us-west-1.consul A',
    answer: [
      'ftp.service.us-west-1.consul. 0 IN A 10.10.10.10',
      'ftp.service.us-west-1.consul. 0 IN A 10.20.20.20',
      'ftp.service.us-west-1.consul. 0 IN A 10.30.30.30',
    ],
    why: "regex with groups (README); the README's mismatch, with no answer rule",
  },
  {
    rules: [
      'stop name regex (.*)-(us-west-1)\\.coredns\\.rocks {1}.service.{2}.consul answer name (.*)\\.service\\.(us-west-1)\\.consul {1}-{2}.coredns.rocks',
    ],
    name: 'ftp-us-west-1.coredns.rocks',
    inner: 'ftp.service.us-west-1.consul A',
    answer: [
      'ftp-us-west-1.coredns.rocks. 0 IN A 10.10.10.10',
      'ftp-us-west-1.coredns.rocks. 0 IN A 10.20.20.20',
      'ftp-us-west-1.coredns.rocks. 0 IN A 10.30.30.30',
    ],
    why: "the README's block form: answer name puts the records under the asked name",
  },
  {
    rules: [
      'stop name regex (.*)\\.example\\.com {1}.default.svc.cluster.local answer name (.*)\\.default\\.svc\\.cluster\\.local {1}.example.com',
    ],
    name: 'web.example.com',
    inner: 'web.default.svc.cluster.local A',
    answer: ['web.example.com. 5 IN A 10.96.0.1'],
    why: "AKS's documented coredns-custom rewrite",
  },
  {
    rules: [
      'stop name regex (.*)\\.gardener\\.cloud\\.svc\\.cluster\\.local {1}.gardener.cloud answer name (.*)\\.gardener\\.cloud {1}.gardener.cloud.svc.cluster.local answer value (.*)\\.gardener\\.cloud {1}.gardener.cloud.svc.cluster.local',
    ],
    name: 'api.gardener.cloud.svc.cluster.local',
    inner: 'api.gardener.cloud A',
    answer: [
      'api.gardener.cloud.svc.cluster.local. 5 IN CNAME lb.gardener.cloud.svc.cluster.local.',
      'lb.gardener.cloud.svc.cluster.local. 5 IN A 10.0.0.9',
    ],
    why: "Gardener's search-path fix: answer value maps the CNAME target too",
  },
  {
    rules: ['name suffix .schmoogle.com. .google.com.'],
    name: 'www.schmoogle.com',
    inner: 'www.google.com A',
    answer: ['www.google.com. 5 IN A 10.96.0.1'],
    why: 'suffix (README)',
  },
  {
    rules: ['name suffix .schmoogle.com. .google.com. answer auto'],
    name: 'api.schmoogle.com',
    inner: 'api.google.com A',
    answer: ['api.schmoogle.com. 5 IN CNAME lb.schmoogle.com.', 'lb.schmoogle.com. 5 IN A 10.0.0.9'],
    why: 'suffix with answer auto maps every name under the suffix, owners and targets',
  },
  {
    rules: ['name prefix foo bar'],
    name: 'foo.example.org',
    inner: 'bar.example.org A',
    answer: ['bar.example.org. 5 IN A 10.96.0.1'],
    why: 'prefix: CoreDNS normalizes it to "foo."',
  },
  { rules: ['name prefix foo bar'], name: 'foobar.example.org', inner: 'foobar.example.org A', why: 'so it is a whole first label' },
  {
    rules: ['type ANY HINFO'],
    name: 'x.example',
    type: 'ANY',
    inner: 'x.example HINFO',
    answer: [],
    why: 'type rewrite (README); the question is echoed as asked by the server',
  },
  {
    rules: ['continue name exact a.example b.example', 'name exact b.example c.example'],
    name: 'a.example',
    inner: 'c.example A',
    answer: ['a.example. 5 IN A 10.96.0.1'],
    why: 'continue: the next rule sees the rewritten name; the answer is mapped back through both',
  },
  {
    rules: ['stop name exact a.example b.example', 'name exact b.example c.example'],
    name: 'a.example',
    inner: 'b.example A',
    why: 'stop ends the rules',
  },
  {
    rules: ['name exact b.example c.example', 'name exact a.example b.example'],
    name: 'a.example',
    inner: 'b.example A',
    why: 'rules run in order: an earlier rule does not see a later rewrite',
  },
  {
    rules: ['stop name exact z.example y.example', 'name exact a.example b.example'],
    name: 'a.example',
    inner: 'b.example A',
    why: 'a stop rule that does not match does not stop',
  },
  {
    rules: ['continue type A AAAA', 'name exact a.example b.example'],
    name: 'a.example',
    inner: 'b.example AAAA',
    answer: [],
    why: 'type and name rules together',
  },
  {
    rules: ['name regex (.*)\\.x\\.org {1}..y.org'],
    name: 'foo.x.org',
    inner: '',
    rcode: 'SERVFAIL',
    why: 'a rewrite that makes no name: SERVFAIL, the chain is not asked',
  },
];

for (const row of rows) {
  test(`rewrite ${row.rules.join(' ; ').slice(0, 60)} for ${row.name}: ${row.why}`, () => {
    const inner = new Inner();
    const h = new RewriteHandler({ rules: row.rules.map((r) => parseRewriteArgs(r.split(' '))) }, inner);
    const type = TYPE[row.type ?? 'A'];
    const reply = h.serve(q(row.name, type), CTX);
    assert.deepEqual(
      inner.asked.map((a) => `${a.name} ${typeName(a.type)}`),
      row.inner === '' ? [] : [row.inner],
    );
    assert.ok(reply !== null && !(reply instanceof Promise));
    const d = decode(replyMessage(row.name, type, reply));
    assert.equal(d.rcode, row.rcode ?? 'NOERROR');
    if (row.answer !== undefined) assert.deepEqual(d.answer, row.answer);
  });
}

test('no rule matches: the query goes to the chain unchanged, the reply comes back unchanged', () => {
  const inner = new Inner();
  const h = new RewriteHandler({ rules: [parseRewriteArgs(['name', 'regex', '(.*)\\.example\\.com', '{1}.x'])] }, inner);
  const query = q('kubernetes.default.svc.cluster.local');
  const reply = h.serve(query, CTX);
  assert.equal(inner.asked[0], query);
  assert.equal(reply, inner.serve(query));
});

test('a prepared inner reply is re-encoded once per asked name, then handed out as is', () => {
  const inner = new Inner();
  const h = new RewriteHandler({ rules: [parseRewriteArgs(['name', 'example.com', 'registry.kube-system.svc.cluster.local'])] }, inner);
  const first = h.serve(q('example.com'), CTX);
  assert.equal(h.serve(q('example.com'), CTX), first);
  assert.notEqual(h.serve(q('example.com', TYPE.AAAA), CTX), first);
});

test('a chain that waits: the answer is mapped back when it comes', async () => {
  const inner = new Inner();
  const waiting: Handler = { name: 'slow', serve: async (query) => inner.serve(query) };
  const h = new RewriteHandler({ rules: [parseRewriteArgs(['name', 'example.com', 'registry.kube-system.svc.cluster.local'])] }, waiting);
  const reply = await h.serve(q('example.com'), CTX);
  assert.ok(reply !== null);
  assert.deepEqual(decode(replyMessage('example.com', TYPE.A, reply)).answer, ['example.com. 5 IN A 10.96.0.1']);
});

test('a chain that does not answer: null, so the server answers as it would', () => {
  const h = new RewriteHandler({ rules: [parseRewriteArgs(['name', 'a.example', 'b.example'])] }, { name: 'none', serve: () => null });
  assert.equal(h.serve(q('a.example'), CTX), null);
});

describe('parseRewriteArgs', () => {
  it('reads the modes and forms as CoreDNS does', () => {
    assert.deepEqual(parseRewriteArgs(['name', 'Example.NET', 'example.org']), {
      mode: 'stop',
      field: 'name',
      match: 'exact',
      from: 'example.net.',
      to: 'example.org.',
      answers: [],
    });
    assert.deepEqual(parseRewriteArgs(['continue', 'type', 'ANY', 'HINFO']), { mode: 'continue', field: 'type', from: 255, to: 13 });
    assert.deepEqual(parseRewriteArgs(['class', 'CH', 'IN']), { mode: 'stop', field: 'class', from: 3, to: 1 });
    const regex = parseRewriteArgs(['stop', 'name', 'regex', '(.*)\\.a', '{1}.B', 'answer', 'value', '(.*)\\.b', '{1}.a']);
    assert.ok(regex.field === 'name');
    assert.deepEqual(regex.answers, [{ kind: 'value', from: '(.*)\\.b', to: '{1}.a.' }]);
  });

  const bad: { args: string; error: RegExp; why: string }[] = [
    { args: 'continue', error: /no rule type/, why: 'a mode and nothing else' },
    { args: 'answer name a b', error: /must begin with a name rule/, why: 'answer first' },
    { args: 'name a', error: /too few/, why: 'one argument' },
    { args: 'name fuzzy a b', error: /only exact, prefix, suffix, substring, and regex/, why: 'unknown match type' },
    { args: 'name regex (a b', error: /invalid regex/, why: 'a regex that does not parse' },
    { args: 'name regex (a)\\1 b', error: /invalid regex/, why: 'a backreference (RE2 has none)' },
    { args: 'name regex (a) {1}{2}', error: /more subexpressions/, why: 'more placeholders than groups' },
    { args: 'name regex a b c d', error: /expected "answer"/, why: 'extra words' },
    { args: 'name regex a b answer', error: /invalid arguments/, why: 'answer with nothing' },
    { args: 'name regex a b answer name x', error: /needs FROM and TO/, why: 'answer name with one argument' },
    { args: 'name regex a b answer bogus x y', error: /invalid answer rule type/, why: 'unknown answer field' },
    { args: 'name exact a b answer auto answer name x y', error: /cannot be combined/, why: 'auto and name together' },
    { args: 'type A', error: /exactly two/, why: 'one type' },
    { args: 'type A BOGUS', error: /invalid type "BOGUS"/, why: 'not a type' },
    { args: 'class IN XX', error: /invalid class/, why: 'not a class' },
    { args: 'edns0 local set 0xffee abcd', error: /not supported/, why: 'edns0 rules are not implemented' },
    { args: 'ttl regex (.*)\\.coredns\\.rocks 15', error: /not supported/, why: 'ttl rules are not implemented' },
    { args: 'bogus a b', error: /invalid rule type/, why: 'unknown field' },
  ];
  for (const row of bad) {
    it(`refuses "${row.args}": ${row.why}`, () => {
      assert.throws(
        () => parseRewriteArgs(row.args.split(' ')),
        (err: unknown) => err instanceof PluginOptionError && row.error.test(err.message) && err.message.startsWith('rewrite: '),
      );
    });
  }
});
