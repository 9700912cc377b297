import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRe2, MAX_REGEX_LENGTH, mayMatch, RegexSyntaxError } from '../../src/plugins/regex.ts';

// RE2 regexes that must mean the same in JavaScript: each row matches `input` to `match` (the
// whole match and the groups), or not at all (null).
const same: { re: string; input: string; match: (string | undefined)[] | null; why: string }[] = [
  { re: '(.*)\\.example\\.com', input: 'foo.example.com.', match: ['foo.example.com', 'foo'], why: 'AKS docs rewrite' },
  {
    re: '(^(?:[^\\.]+\\.)+)svc\\.cluster\\.local\\.svc\\.cluster\\.local',
    input: 'a.b.svc.cluster.local.svc.cluster.local.',
    match: ['a.b.svc.cluster.local.svc.cluster.local', 'a.b.'],
    why: 'Gardener rewrite',
  },
  {
    re: '^(?:[^.]+\\.){4,}internal\\.cloudapp\\.net\\.$',
    input: 'a.b.c.d.internal.cloudapp.net.',
    match: ['a.b.c.d.internal.cloudapp.net.'],
    why: 'AKS template, 4 labels',
  },
  {
    re: '^(?:[^.]+\\.){4,}internal\\.cloudapp\\.net\\.$',
    input: 'b.c.d.internal.cloudapp.net.',
    match: null,
    why: 'AKS template, 3 labels',
  },
  {
    re: '(^[\\w\\-_]*[.]|^.*[.]pages[.])fzen[.]pro[.]$',
    input: 'x.pages.fzen.pro.',
    match: ['x.pages.fzen.pro.', 'x.pages.'],
    why: 'homelab template',
  },
  {
    re: '^ip-(?P<a>[0-9]*)-(?P<b>[0-9]*)[.]example[.]$',
    input: 'ip-10-2.example.',
    match: ['ip-10-2.example.', '10', '2'],
    why: 'Go named groups',
  },
  { re: '[]a]+', input: ']a]', match: [']a]'], why: 'a leading ] is a literal in RE2 (an empty class in JavaScript)' },
  { re: '[^]a]', input: 'b', match: ['b'], why: 'a leading ] in a negated class' },
  { re: '[[:alpha:]]+[[:digit:]]', input: 'ab1', match: ['ab1'], why: 'POSIX classes' },
  { re: '(?i)EXAMPLE', input: 'example.', match: ['example'], why: 'a leading flag group' },
  { re: 'a(?i:B)c', input: 'abc', match: ['abc'], why: 'a flag group' },
  { re: 'x\\z', input: 'x', match: ['x'], why: '\\z: end of text' },
  { re: '\\Aab', input: 'ab', match: ['ab'], why: '\\A: start of text' },
  { re: '\\Qa.b\\E', input: 'axb a.b', match: ['a.b'], why: '\\Q…\\E quotes' },
  { re: 'a{,3}', input: 'a{,3}', match: ['a{,3}'], why: 'not a repeat: a literal brace in RE2' },
  { re: '(a)|b', input: 'b', match: ['b', undefined], why: 'a group that did not take part' },
  { re: '\\x41\\x{42}', input: 'AB', match: ['AB'], why: 'hex escapes' },
];

for (const row of same) {
  test(`RE2 ${row.re} on ${row.input}: ${row.why}`, () => {
    const m = compileRe2(row.re).regex.exec(row.input);
    assert.deepEqual(m === null ? null : [...m], row.match);
  });
}

const refused: { re: string; error: RegExp; why: string }[] = [
  { re: '(a)\\1', error: /backreference/, why: 'RE2 has no backreferences' },
  { re: '(?P=a)', error: /backreference/, why: 'a named backreference' },
  { re: 'a(?=b)', error: /lookaround/, why: 'lookahead' },
  { re: '(?<!a)b', error: /lookaround/, why: 'lookbehind' },
  { re: '(?>a)', error: /atomic/, why: 'atomic group' },
  { re: 'a++', error: /possessive/, why: 'possessive repetition' },
  { re: 'a**', error: /nested repetition operator/, why: 'RE2 refuses ** too' },
  { re: 'a{1001}', error: /over 1000/, why: "RE2's repeat limit" },
  { re: 'a{3,2}', error: /max below min/, why: 'reversed bounds' },
  { re: '\\pL', error: /Unicode classes/, why: 'not translated' },
  { re: '\\e', error: /unknown escape/, why: 'RE2 refuses unknown letter escapes (JavaScript would match "e")' },
  { re: 'a(?i)b', error: /middle of a pattern/, why: 'flags mid-pattern' },
  { re: '(?U)a*', error: /ungreedy/, why: 'no JavaScript equivalent' },
  { re: '(a', error: /missing "\)"/, why: 'unbalanced' },
  { re: 'a)', error: /unmatched/, why: 'unbalanced' },
  { re: '[a', error: /missing "\]"/, why: 'unclosed class' },
  { re: '*a', error: /missing argument/, why: 'nothing to repeat' },
  { re: '(a+)+', error: /exponential/, why: 'nested repetition' },
  { re: '(.*\\.)+', error: /exponential/, why: 'the inner part can match the delimiter' },
  { re: '(a?a?)+', error: /exponential/, why: 'optional parts inside a repetition' },
  { re: '(a|a)*', error: /exponential/, why: 'a repeated ambiguous alternation' },
  { re: 'a'.repeat(MAX_REGEX_LENGTH + 1), error: /longer than/, why: 'too long' },
];

for (const row of refused) {
  test(`RE2 refuses ${row.re.slice(0, 30)}: ${row.why}`, () => {
    assert.throws(
      () => compileRe2(row.re),
      (err: unknown) => err instanceof RegexSyntaxError && row.error.test(err.message),
    );
  });
}

test('the delimited nested repetitions Corefiles use are accepted, and stay fast on a crafted name', () => {
  const { regex } = compileRe2('^(?:[^.]+\\.){4,}internal\\.cloudapp\\.net\\.$');
  const crafted = `${'a.'.repeat(120)}x.`;
  const start = performance.now();
  assert.equal(regex.test(crafted), false);
  // Linear: microseconds. A backtracking blow-up would take seconds; a loaded machine, not 1 s.
  assert.ok(performance.now() - start < 1000);
});

test('the literal every match must contain is found, for a cheap test first', () => {
  assert.equal(compileRe2('(.*)\\.example\\.com').literal, '.example.com');
  assert.equal(compileRe2('a|bcd').literal, null, 'alternation at the top');
  assert.equal(compileRe2('(?i)example').literal, null, 'case-insensitive');
  assert.equal(compileRe2('(.*)-(us-west-1)\\.example\\.org').groups, 2);
});

test('mayMatch tests a query name (no trailing dot) against the FQDN literal without building it', () => {
  const aks = compileRe2('^(?:[^.]+\\.){4,}internal\\.cloudapp\\.net\\.$');
  assert.equal(aks.literal, 'internal.cloudapp.net.');
  const rows: [string, boolean, string][] = [
    ['a.b.c.d.internal.cloudapp.net', true, 'the literal ends at the dot the name lacks'],
    ['internal.cloudapp.net.example', true, 'inside the name'],
    ['kubernetes.default.svc.cluster.local', false, 'a cluster name: the regex is never run'],
  ];
  for (const [name, may, why] of rows) assert.equal(mayMatch(aks, name), may, why);
  assert.equal(mayMatch(compileRe2('x|y'), 'anything'), true, 'no literal: always run the regex');
});
