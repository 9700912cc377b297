import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CorefileError } from '../../src/corefile/errors.ts';
import { tokenize } from '../../src/corefile/lexer.ts';

/** [text, line] per token; a leading '"' marks a quoted token. */
const rows: { why: string; input: string; tokens: [string, number][] }[] = [
  {
    why: 'words split on spaces and tabs, newlines count lines',
    input: 'a b\tc\n\n  d',
    tokens: [
      ['a', 1],
      ['b', 1],
      ['c', 1],
      ['d', 3],
    ],
  },
  {
    why: 'braces are tokens of their own when spaced',
    input: '.:53 {\n whoami\n}',
    tokens: [
      ['.:53', 1],
      ['{', 1],
      ['whoami', 2],
      ['}', 3],
    ],
  },
  {
    why: 'a brace glued to a word stays in the word, as in Caddy v1',
    input: 'a{ }b',
    tokens: [
      ['a{', 1],
      ['}b', 1],
    ],
  },
  {
    why: 'a comment runs to the end of the line',
    input: 'a # b c\nd',
    tokens: [
      ['a', 1],
      ['d', 2],
    ],
  },
  {
    why: '# inside a word starts a comment too (Caddy v1, CoreDNS: "anywhere on a line")',
    input: 'a#b c\nd',
    tokens: [
      ['a', 1],
      ['d', 2],
    ],
  },
  {
    why: 'a comment after an opening brace',
    input: 'k {  ## note\n}',
    tokens: [
      ['k', 1],
      ['{', 1],
      ['}', 2],
    ],
  },
  {
    why: 'quotes keep spaces and # and braces',
    input: 'a "b c # { }" d',
    tokens: [
      ['a', 1],
      ['"b c # { }', 1],
      ['d', 1],
    ],
  },
  {
    why: '\\" is the only escape inside quotes',
    input: 'x "say \\"hi\\"" y',
    tokens: [
      ['x', 1],
      ['"say "hi"', 1],
      ['y', 1],
    ],
  },
  {
    why: 'other backslashes stay as written',
    input: '"C:\\dir\\x" "a\\\\b"',
    tokens: [
      ['"C:\\dir\\x', 1],
      ['"a\\\\b', 1],
    ],
  },
  {
    why: 'a regex with backslashes and braces in quotes',
    input: 'match "^(?:[^.]+\\.){4,}x\\.$"',
    tokens: [
      ['match', 1],
      ['"^(?:[^.]+\\.){4,}x\\.$', 1],
    ],
  },
  {
    why: 'a quoted string may span lines; it keeps its first line',
    input: 'a "one\ntwo" b\nc',
    tokens: [
      ['a', 1],
      ['"one\ntwo', 1],
      ['b', 2],
      ['c', 3],
    ],
  },
  {
    why: 'an empty quoted string is a token',
    input: 'a "" b',
    tokens: [
      ['a', 1],
      ['"', 1],
      ['b', 1],
    ],
  },
  {
    why: 'a quote inside a word is a plain character',
    input: 'a"b c"',
    tokens: [
      ['a"b', 1],
      ['c"', 1],
    ],
  },
  {
    why: 'a closing quote ends the token at once',
    input: '"a"b',
    tokens: [
      ['"a', 1],
      ['b', 1],
    ],
  },
  {
    why: 'CRLF line ends',
    input: 'a b\r\nc\r\n',
    tokens: [
      ['a', 1],
      ['b', 1],
      ['c', 2],
    ],
  },
  { why: 'a lone CR outside quotes is dropped, even inside a word (Caddy v1)', input: 'a\rb', tokens: [['ab', 1]] },
  { why: 'a leading byte order mark is skipped', input: '\ufeff.:53', tokens: [['.:53', 1]] },
  {
    why: "Go's unicode.IsSpace: NBSP and NEL separate words, U+FEFF inside the text does not",
    input: 'a\u00a0b\u0085c d\ufeffe',
    tokens: [
      ['a', 1],
      ['b', 1],
      ['c', 1],
      ['d\ufeffe', 1],
    ],
  },
  {
    why: 'no line continuation: a trailing backslash is a word of its own',
    input: 'a \\\nb',
    tokens: [
      ['a', 1],
      ['\\', 1],
      ['b', 2],
    ],
  },
  {
    why: 'trailing spaces and blank lines are nothing',
    input: 'hosts { \n\n   \n}',
    tokens: [
      ['hosts', 1],
      ['{', 1],
      ['}', 4],
    ],
  },
];

test('tokens as the Caddy v1 lexer reads them', () => {
  for (const row of rows) {
    const got = tokenize(row.input, 'Corefile').map((t): [string, number] => [(t.quoted ? '"' : '') + t.text, t.line]);
    assert.deepEqual(got, row.tokens, row.why);
  }
});

test('lexer errors name the file and the line', () => {
  const bad: { why: string; input: string; message: string }[] = [
    {
      why: 'an unclosed quote is reported where it opened (Caddy accepts it to the end of the file)',
      input: 'a\nb "c\nd\n',
      message: 'Corefile:2: quoted string is never closed (missing ")',
    },
    { why: 'an escaped quote does not close', input: 'a "b\\"', message: 'Corefile:1: quoted string is never closed (missing ")' },
    { why: 'a lone quote at the end', input: 'a\n"', message: 'Corefile:2: quoted string is never closed (missing ")' },
    { why: 'NUL bytes: a binary file', input: '.:53 {\n\u0000\u0001\n}', message: 'Corefile:2: NUL byte: this is not a text file' },
  ];
  for (const row of bad) {
    assert.throws(
      () => tokenize(row.input, 'Corefile'),
      (err: unknown) => {
        assert.ok(err instanceof CorefileError, row.why);
        assert.equal(err.message, row.message, row.why);
        assert.equal(err.code, 'CDNS_ERR_COREFILE');
        return true;
      },
    );
  }
});
