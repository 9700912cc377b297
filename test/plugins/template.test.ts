import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { CLASS, RCODE, TYPE } from '../../src/dns/constants.ts';
import type { Query } from '../../src/dns/message.ts';
import { PluginOptionError } from '../../src/plugins/errors.ts';
import { compileTemplateText, renderTemplate, TemplateHandler, templateCodes, type TemplateOptions } from '../../src/plugins/template.ts';
import { decode, decodeReply, replyMessage } from '../support/dns.ts';

type Spec = Partial<TemplateOptions> & Pick<TemplateOptions, 'class' | 'type'>;

function q(name: string, type: keyof typeof TYPE): Query {
  return { id: 1, flags: 0x0100, name, type: TYPE[type], class: CLASS.IN, questionEnd: 0, edns: null };
}

const IN = CLASS.IN;
const ANY = CLASS.ANY;

// The CoreDNS README's examples, as the options its setup would produce.
const EVERYTHING_NXDOMAIN: Spec[] = [{ class: ANY, type: TYPE.ANY, rcode: RCODE.NXDOMAIN }];
const INVALID: Spec[] = [
  {
    class: ANY,
    type: TYPE.ANY,
    zones: ['invalid'],
    rcode: RCODE.NXDOMAIN,
    authority: ['invalid. 60 {{ .Class }} SOA ns.invalid. hostmaster.invalid. (1 60 60 60 60)'],
  },
];
const SEARCH_ZONE: Spec[] = [
  {
    class: IN,
    type: TYPE.ANY,
    zones: ['example.com.dc1.example.com'],
    rcode: RCODE.NXDOMAIN,
    authority: ['{{ .Zone }} 60 IN SOA ns.example.com hostmaster.example.com (1 60 60 60 60)'],
  },
];
const SEARCH_REGEX: Spec[] = [
  {
    class: IN,
    type: TYPE.ANY,
    zones: ['example.com'],
    match: ['example\\.com\\.(dc1\\.example\\.com\\.)$'],
    rcode: RCODE.NXDOMAIN,
    authority: ['{{ index .Match 1 }} 60 IN SOA ns.{{ index .Match 1 }} hostmaster.{{ index .Match 1 }} (1 60 60 60 60)'],
    fallthrough: [],
  },
];
const IP_EXAMPLE: Spec[] = [
  {
    class: IN,
    type: TYPE.A,
    zones: ['example'],
    match: ['(^|[.])ip-(?P<a>[0-9]*)-(?P<b>[0-9]*)-(?P<c>[0-9]*)-(?P<d>[0-9]*)[.]example[.]$'],
    answer: ['{{ .Name }} 60 IN A {{ .Group.a }}.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d }}'],
    fallthrough: [],
  },
  {
    class: IN,
    type: TYPE.PTR,
    zones: ['in-addr.arpa'],
    match: ['^(?P<d>[0-9]*)[.](?P<c>[0-9]*)[.](?P<b>[0-9]*)[.](?P<a>[0-9]*)[.]in-addr[.]arpa[.]$'],
    answer: ['{{ .Name }} 60 IN PTR ip-{{ .Group.a }}-{{ .Group.b }}-{{ .Group.c }}-{{ .Group.d }}.example.'],
  },
];
const TWO_PATTERNS: Spec[] = [
  {
    class: IN,
    type: TYPE.A,
    zones: ['example'],
    match: [
      '^ip-(?P<a>10)-(?P<b>[0-9]*)-(?P<c>[0-9]*)-(?P<d>[0-9]*)[.]dc[.]example[.]$',
      '^(?P<a>[0-9]*)[.](?P<b>[0-9]*)[.](?P<c>[0-9]*)[.](?P<d>[0-9]*)[.]ext[.]example[.]$',
    ],
    answer: ['{{ .Name }} 60 IN A {{ .Group.a}}.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d }}'],
    fallthrough: [],
  },
];
const MX: Spec[] = [
  {
    class: IN,
    type: TYPE.MX,
    zones: ['example'],
    match: ['^ip-10-(?P<b>[0-9]*)-(?P<c>[0-9]*)-(?P<d>[0-9]*)[.]example[.]$'],
    answer: ['{{ .Name }} 60 IN MX 10 {{ .Name }}'],
    additional: ['{{ .Name }} 60 IN A 10.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d }}', 'ns0.example. 60 IN A 203.0.113.8'],
    authority: ['example. 60 IN NS ns0.example.'],
    fallthrough: [],
  },
];
const BLOCK_AAAA: Spec[] = [{ class: IN, type: TYPE.AAAA, rcode: RCODE.NOERROR }];
// AKS's default Corefile: two templates in one server block, so one handler.
const AKS: Spec[] = [
  {
    class: ANY,
    type: TYPE.ANY,
    zones: ['internal.cloudapp.net'],
    match: ['^(?:[^.]+\\.){4,}internal\\.cloudapp\\.net\\.$'],
    rcode: RCODE.NXDOMAIN,
    fallthrough: [],
  },
  { class: ANY, type: TYPE.ANY, zones: ['reddog.microsoft.com'], rcode: RCODE.NXDOMAIN },
];
const FIELDS: Spec[] = [
  { class: IN, type: TYPE.ANY, zones: ['example'], answer: ['{{ .Name }} 60 {{ .Class }} TXT "{{.Type}} {{- .Class -}} {{ .Zone }}"'] },
];

interface Row {
  templates: Spec[];
  name: string;
  type: keyof typeof TYPE;
  /** undefined: the next handler answers. */
  rcode?: string;
  aa?: boolean;
  answer?: string[];
  authority?: string[];
  additional?: string[];
  why: string;
}

const rows: Row[] = [
  {
    templates: EVERYTHING_NXDOMAIN,
    name: 'anything.example.org',
    type: 'A',
    rcode: 'NXDOMAIN',
    aa: true,
    answer: [],
    why: 'resolve everything to NXDOMAIN',
  },
  {
    templates: INVALID,
    name: 'foo.invalid',
    type: 'A',
    rcode: 'NXDOMAIN',
    authority: ['invalid. 60 IN SOA ns.invalid. hostmaster.invalid. 1 60 60 60 60'],
    why: '.invalid as NXDOMAIN with a SOA for caching',
  },
  { templates: INVALID, name: 'foo.example', type: 'A', why: 'outside the zone: the next handler' },
  {
    templates: SEARCH_ZONE,
    name: 'something.example.com.dc1.example.com',
    type: 'A',
    rcode: 'NXDOMAIN',
    authority: ['example.com.dc1.example.com. 60 IN SOA ns.example.com. hostmaster.example.com. 1 60 60 60 60'],
    why: 'search-domain completions blocked by zone, with {{ .Zone }}',
  },
  {
    templates: SEARCH_REGEX,
    name: 'something.example.com.dc1.example.com',
    type: 'A',
    rcode: 'NXDOMAIN',
    authority: ['dc1.example.com. 60 IN SOA ns.dc1.example.com. hostmaster.dc1.example.com. 1 60 60 60 60'],
    why: 'the regex equivalent, with index .Match 1',
  },
  { templates: SEARCH_REGEX, name: 'www.example.com', type: 'A', why: 'the zone matches, no regex does, fallthrough: the next handler' },
  {
    templates: IP_EXAMPLE,
    name: 'ip-10-1-2-3.example',
    type: 'A',
    rcode: 'NOERROR',
    aa: true,
    answer: ['ip-10-1-2-3.example. 60 IN A 10.1.2.3'],
    why: 'A from named groups',
  },
  {
    templates: IP_EXAMPLE,
    name: 'sub.ip-10-1-2-3.example',
    type: 'A',
    rcode: 'NOERROR',
    answer: ['sub.ip-10-1-2-3.example. 60 IN A 10.1.2.3'],
    why: 'the README notes it is a wildcard',
  },
  {
    templates: IP_EXAMPLE,
    name: 'ip-10-1-2-3.example',
    type: 'AAAA',
    why: 'another type: the template does not apply, the next handler answers',
  },
  {
    templates: IP_EXAMPLE,
    name: '3.2.1.10.in-addr.arpa',
    type: 'PTR',
    rcode: 'NOERROR',
    answer: ['3.2.1.10.in-addr.arpa. 60 IN PTR ip-10-1-2-3.example.'],
    why: 'PTR from named groups',
  },
  {
    templates: IP_EXAMPLE,
    name: 'x.3.2.1.10.in-addr.arpa',
    type: 'PTR',
    rcode: 'NXDOMAIN',
    aa: false,
    answer: [],
    why: 'no regex matches and no fallthrough: NXDOMAIN',
  },
  {
    templates: TWO_PATTERNS,
    name: '1.2.3.4.ext.example',
    type: 'A',
    rcode: 'NOERROR',
    answer: ['1.2.3.4.ext.example. 60 IN A 1.2.3.4'],
    why: 'the second match regex',
  },
  {
    templates: TWO_PATTERNS,
    name: 'ip-10-5-6-7.dc.example',
    type: 'A',
    rcode: 'NOERROR',
    answer: ['ip-10-5-6-7.dc.example. 60 IN A 10.5.6.7'],
    why: 'the first match regex',
  },
  {
    templates: MX,
    name: 'ip-10-1-2-3.example',
    type: 'MX',
    rcode: 'NOERROR',
    authority: ['example. 60 IN NS ns0.example.'],
    additional: ['ip-10-1-2-3.example. 60 IN A 10.1.2.3', 'ns0.example. 60 IN A 203.0.113.8'],
    why: 'MX with additional and authority records',
  },
  {
    templates: BLOCK_AAAA,
    name: 'www.google.com',
    type: 'AAAA',
    rcode: 'NOERROR',
    aa: true,
    answer: [],
    authority: [],
    why: 'blocking AAAA: NOERROR, empty (NODATA)',
  },
  { templates: BLOCK_AAAA, name: 'www.google.com', type: 'A', why: 'A is not blocked' },
  {
    templates: AKS,
    name: 'a.b.c.d.internal.cloudapp.net',
    type: 'A',
    rcode: 'NXDOMAIN',
    aa: true,
    why: 'AKS: four labels or more under internal.cloudapp.net',
  },
  { templates: AKS, name: 'vm1.internal.cloudapp.net', type: 'A', why: 'AKS: a VM name falls through' },
  { templates: AKS, name: 'x.reddog.microsoft.com', type: 'AAAA', rcode: 'NXDOMAIN', why: 'AKS: reddog.microsoft.com' },
  { templates: AKS, name: 'www.microsoft.com', type: 'A', why: 'AKS: other names' },
  {
    templates: FIELDS,
    name: 'x.example',
    type: 'TXT',
    rcode: 'NOERROR',
    answer: ['x.example. 60 IN TXT "TXTINexample."'],
    why: '.Type, .Class, .Zone and trim markers',
  },
  {
    templates: [{ class: IN, type: TYPE.A, rcode: RCODE.SERVFAIL }],
    name: 'x.example',
    type: 'A',
    rcode: 'SERVFAIL',
    aa: false,
    why: 'rcode SERVFAIL',
  },
];

for (const row of rows) {
  test(`template ${row.name} ${row.type}: ${row.why}`, () => {
    const h = new TemplateHandler(row.templates);
    const d = decodeReply(row.name, TYPE[row.type], h.serve(q(row.name, row.type)));
    assert.equal(d?.rcode, row.rcode, 'undefined: passed on to the next handler');
    if (d === null) return;
    if (row.aa !== undefined) assert.equal(d.aa, row.aa);
    if (row.answer !== undefined && row.type !== 'MX') assert.deepEqual(d.answer, row.answer);
    if (row.authority !== undefined) assert.deepEqual(d.authority, row.authority);
    if (row.additional !== undefined) assert.deepEqual(d.additional, row.additional);
  });
}

test('a template without fields is one prepared reply for every name', () => {
  const h = new TemplateHandler([
    { ...(INVALID[0] as Spec), authority: ['invalid. 60 IN SOA ns.invalid. hostmaster.invalid. (1 60 60 60 60)'] },
  ]);
  const first = h.serve(q('a.invalid', 'A'));
  assert.ok(first !== null);
  assert.equal(h.serve(q('b.c.invalid', 'MX')), first);
  assert.equal(h.matches, 2);
});

test('a template with fields is encoded once per name and type', () => {
  const h = new TemplateHandler(IP_EXAMPLE);
  const first = h.serve(q('ip-10-1-2-3.example', 'A'));
  assert.equal(h.serve(q('ip-10-1-2-3.example', 'A')), first);
  assert.notEqual(h.serve(q('ip-10-1-2-4.example', 'A')), first);
});

test('a failing template or an invalid record is SERVFAIL, counted as CoreDNS counts them', () => {
  const h = new TemplateHandler([
    { class: IN, type: TYPE.A, zones: ['a'], answer: ['{{ .Name }} 60 IN A 10.0.0.{{ index .Match 3 }}'] },
    { class: IN, type: TYPE.A, zones: ['b'], match: ['^(?P<n>[0-9]*)'], answer: ['{{ .Name }} 60 IN A 10.0.0.{{ .Group.n }}'] },
  ]);
  assert.equal(decode(replyMessage('x.a', TYPE.A, h.serve(q('x.a', 'A'))!)).rcode, 'SERVFAIL');
  assert.equal(h.templateFailures, 1);
  assert.equal(decode(replyMessage('x.b', TYPE.A, h.serve(q('x.b', 'A'))!)).rcode, 'SERVFAIL');
  assert.equal(h.rrFailures, 1);
});

describe('template text', () => {
  it('parses the supported fields, whitespace variants included', () => {
    const parts = compileTemplateText('{{.Name}} {{ .Type }} {{  index   .Match  2 }} {{ .Group.host_1 }} {{ index .Group "a" }}');
    const text = renderTemplate(parts, {
      Name: 'n.',
      Type: 'A',
      Class: 'IN',
      Zone: 'z.',
      Match: ['m0', 'm1', 'm2'],
      Group: { host_1: 'h', a: 'x' },
    });
    assert.equal(text, 'n. A m2 h x');
  });

  const refused = [
    '{{ .Message }}',
    '{{ .Question.Name }}',
    '{{ printf "%s" .Name }}',
    '{{ .Meta "kubernetes/client-namespace" }}',
    '{{ $x := .Name }}',
    '{{/* comment */}}',
    '{{ .Name',
    '{{ index .Match a }}',
  ];
  for (const text of refused) {
    it(`refuses ${text}: not a field Corefiles use, or not a template (a template is data, not code)`, () => {
      assert.throws(
        () => compileTemplateText(text),
        (e: unknown) => e instanceof PluginOptionError && e.message.includes(text),
      );
    });
  }

  it('refuses at start-up what would never answer', () => {
    assert.throws(() => new TemplateHandler([{ class: IN, type: TYPE.A, answer: ['x. 60 IN A 1.2.3'] }]), /bad IPv4 address/);
    assert.throws(() => new TemplateHandler([{ class: IN, type: TYPE.A, match: ['(a+)+'] }]), /could not parse regex/);
    assert.throws(() => new TemplateHandler([{ class: IN, type: TYPE.A, zones: ['a..b'] }]), /not a domain name/);
    assert.throws(() => templateCodes('XX', 'A'), /invalid query class/);
    assert.throws(() => templateCodes('IN', 'AA'), /invalid RR type/);
    assert.throws(() => templateCodes('IN', 'A', 'SUCCESS'), /unknown rcode SUCCESS/, 'CoreDNS issue 5327: SUCCESS is not an rcode');
    assert.deepEqual(templateCodes('ANY', 'https', 'NXDOMAIN'), { class: 255, type: 65, rcode: 3 });
  });
});
