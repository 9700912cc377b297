import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CorefileError, parseCorefile, type Corefile, type ParseOptions } from '../../src/corefile/index.ts';
import { memoryFs, shape, type Line } from '../support/corefile.ts';

const COREFILE = '/etc/coredns/Corefile';

function parse(text: string, files: Record<string, string> = {}, options: ParseOptions = {}): Promise<Corefile> {
  return parseCorefile(COREFILE, memoryFs({ [COREFILE]: text, ...files }), { env: {}, ...options });
}

async function rejects(text: string, message: string, why: string, files: Record<string, string> = {}, options: ParseOptions = {}) {
  await assert.rejects(parse(text, files, options), (err: unknown) => {
    assert.ok(err instanceof CorefileError, `${why}: ${String(err)}`);
    assert.equal(err.message, message, why);
    assert.equal(err.code, 'CDNS_ERR_COREFILE');
    return true;
  });
}

const grammar: { why: string; input: string; blocks: { keys: string[]; lines: Line[] }[] }[] = [
  { why: 'the smallest Corefile (CoreDNS docs: ". { }")', input: '. { }', blocks: [{ keys: ['.:53'], lines: [] }] },
  {
    why: 'nested blocks, each line a directive with its arguments',
    input:
      '.:53 {\n    errors\n    health {\n       lameduck 5s\n    }\n    forward . /etc/resolv.conf {\n       max_concurrent 1000\n    }\n}\n',
    blocks: [{ keys: ['.:53'], lines: ['errors', ['health', ['lameduck 5s']], ['forward . /etc/resolv.conf', ['max_concurrent 1000']]] }],
  },
  {
    why: 'several blocks, on other ports, in order',
    input: 'cluster.local:53 {\n  errors\n}\n.:5353 {\n  whoami\n}\nhostname.bind:5353 {\n  chaos\n}\n',
    blocks: [
      { keys: ['cluster.local:53'], lines: ['errors'] },
      { keys: ['.:5353'], lines: ['whoami'] },
      { keys: ['hostname.bind:5353'], lines: ['chaos'] },
    ],
  },
  {
    why: 'several keys, space- or comma-separated; a trailing comma carries on to the next line',
    input: 'bar.com:5353 example.com:5353 {\n  errors\n}\na.org, b.org,\n  c.org {\n  log\n}\n',
    blocks: [
      { keys: ['bar.com:5353', 'example.com:5353'], lines: ['errors'] },
      { keys: ['a.org:53', 'b.org:53', 'c.org:53'], lines: ['log'] },
    ],
  },
  {
    why: 'the opening brace may stand on the line after the keys',
    input: '.:53\n{\n  whoami\n}\n',
    blocks: [{ keys: ['.:53'], lines: ['whoami'] }],
  },
  {
    why: "Caddy's brace-less block: the rest of the file is its lines",
    input: 'example.org\nlog\nwhoami\n',
    blocks: [{ keys: ['example.org:53'], lines: ['log', 'whoami'] }],
  },
  { why: 'keys alone: a block with no lines', input: 'example.org:1053', blocks: [{ keys: ['example.org:1053'], lines: [] }] },
  {
    why: 'the first line may follow the opening brace',
    input: '. { whoami\n  log\n}',
    blocks: [{ keys: ['.:53'], lines: ['whoami', 'log'] }],
  },
  {
    why: "a directive's block on one line (CoreDNS's forward reads it)",
    input: '. {\n  forward . 10.0.0.1 { max_fails 2 }\n  cache\n}\n',
    blocks: [{ keys: ['.:53'], lines: [['forward . 10.0.0.1', ['max_fails 2']], 'cache'] }],
  },
  {
    why: 'blocks in blocks, closing on one line',
    input: '. {\n  a {\n    b { c }\n  }\n  d { e { f } }\n}\n',
    blocks: [
      {
        keys: ['.:53'],
        lines: [
          ['a', [['b', ['c']]]],
          ['d', [['e', ['f']]]],
        ],
      },
    ],
  },
  {
    why: 'an empty block is kept apart from no block',
    input: '. {\n  errors {\n  }\n  proxy . 10.0.0.1 {\n}\n  log\n}',
    blocks: [{ keys: ['.:53'], lines: [['errors', []], ['proxy . 10.0.0.1', []], 'log'] }],
  },
  {
    why: 'comments: whole lines, after arguments, after braces',
    input: '# head\n.:53 { # open\n  errors # after\n  # alone\n  health {  ## <-- HERE\n    lameduck 5s\n  }\n} # STUBDOMAINS\n# tail',
    blocks: [{ keys: ['.:53'], lines: ['errors', ['health', ['lameduck 5s']]] }],
  },
  {
    why: 'double spaces and odd indentation mean nothing',
    input: '    .:53 {\n kubernetes  cluster.local  in-addr.arpa {\n\tpods insecure\n      }\n  }',
    blocks: [{ keys: ['.:53'], lines: [['kubernetes cluster.local in-addr.arpa', ['pods insecure']]] }],
  },
  {
    why: 'two blocks on one line (Caddy reads the next key after a closing brace)',
    input: 'a.org { } b.org { }',
    blocks: [
      { keys: ['a.org:53'], lines: [] },
      { keys: ['b.org:53'], lines: [] },
    ],
  },
  {
    why: 'quoted arguments keep spaces, braces and #; quoted braces are text',
    input: '. {\n  template IN A x {\n    answer "{{ .Name }} 60 IN A 10.0.0.1"\n    match "^a#b$" "{" "}"\n  }\n}',
    blocks: [{ keys: ['.:53'], lines: [['template IN A x', ['answer {{ .Name }} 60 IN A 10.0.0.1', 'match ^a#b$ { }']]] }],
  },
  {
    why: 'a quoted "import" is a directive name, not an import',
    input: '. {\n  "import" x\n}',
    blocks: [{ keys: ['.:53'], lines: ['import x'] }],
  },
  {
    why: '"import" that does not start a line is an argument',
    input: '. {\n  log import\n}',
    blocks: [{ keys: ['.:53'], lines: ['log import'] }],
  },
  {
    why: 'repeated directives stay in order',
    input: '. {\n  forward a.org 10.0.0.1\n  forward . 10.0.0.2\n  errors\n  errors\n}',
    blocks: [{ keys: ['.:53'], lines: ['forward a.org 10.0.0.1', 'forward . 10.0.0.2', 'errors', 'errors'] }],
  },
  {
    why: 'tokens after a quote that spans lines start a new line, as Caddy compares the lines tokens start on',
    input: '. {\n  answer "a\nb" log\n}',
    blocks: [{ keys: ['.:53'], lines: ['answer a\nb', 'log'] }],
  },
  {
    why: 'a CIDR key expands to reverse zones',
    input: '10.0.0.0/15:5353 {\n}',
    blocks: [{ keys: ['0.10.in-addr.arpa:5353', '1.10.in-addr.arpa:5353'], lines: [] }],
  },
  { why: 'an empty file has no blocks', input: '\n# nothing\n', blocks: [] },
];

test('the grammar as CoreDNS reads it', async () => {
  for (const row of grammar) {
    assert.deepEqual(shape(await parse(row.input)), row.blocks, row.why);
  }
});

test('directives keep their file and line', async () => {
  const cf = await parse('# one\n.:53 {\n  errors\n\n  health {\n    lameduck 5s\n  }\n}\n');
  const block = cf.blocks[0]!;
  assert.deepEqual([block.file, block.line], [COREFILE, 2]);
  const health = block.directives[1]!;
  assert.deepEqual([block.directives[0]!.line, health.line, health.block![0]!.line], [3, 5, 6]);
  assert.deepEqual(block.keys[0]!.line, 2);
});

const syntaxErrors: { why: string; input: string; message: string }[] = [
  {
    why: 'an unclosed server block reports the line it opened at',
    input: '.:53 {\n  errors\n  log\n',
    message: `${COREFILE}:1: '{' is never closed (missing '}')`,
  },
  {
    why: 'the innermost unclosed block is the one reported',
    input: '.:53 {\n  errors\n  health {\n    lameduck 5s\n',
    message: `${COREFILE}:3: '{' is never closed (missing '}')`,
  },
  {
    why: 'a block closed one brace short reads as the server block left open',
    input: '.:53 {\n  health {\n    lameduck 5s\n}\n',
    message: `${COREFILE}:1: '{' is never closed (missing '}')`,
  },
  {
    why: 'a stray closing brace at the top level',
    input: '.:53 {\n  errors\n}\n}\n',
    message: `${COREFILE}:4: unexpected '}': no block is open`,
  },
  {
    why: 'a stray closing brace in a brace-less block',
    input: 'example.org\n  log\n}\n',
    message: `${COREFILE}:3: unexpected '}': no block is open here`,
  },
  {
    why: "the server block's '}' on a directive's line (CoreDNS: no matching opening brace)",
    input: '. { whoami }',
    message: `${COREFILE}:1: '}' on the line of "whoami": the server block's '}' goes on a line of its own`,
  },
  {
    why: 'the same, after a one-line block',
    input: '. {\n  forward . 10.0.0.1 { force_tcp } }\n',
    message: `${COREFILE}:2: unexpected "}" after '}' on the same line`,
  },
  {
    why: 'a word after a closing brace',
    input: '. {\n  health {\n  } lameduck\n}',
    message: `${COREFILE}:3: unexpected "lameduck" after '}' on the same line`,
  },
  {
    why: 'an opening brace that starts a line',
    input: '. {\n  health\n  {\n  }\n}',
    message: `${COREFILE}:3: unexpected '{': a block opens at the end of its directive's line`,
  },
  {
    why: 'a block without a key (Caddy drops it silently)',
    input: '{\n  whoami\n}',
    message: `${COREFILE}:1: a server block needs a zone key (e.g. ".:53 {")`,
  },
  { why: 'an empty quoted key', input: '"" {\n}', message: `${COREFILE}:1: a server block needs a zone key (e.g. ".:53 {")` },
  { why: 'a comma before the brace', input: 'a.org, {\n}', message: `${COREFILE}:1: expected another key after ',' but found '{'` },
  { why: 'a comma at the end of the file', input: 'a.org,', message: `${COREFILE}:1: expected another key after ','` },
  { why: 'a brace among the keys', input: 'a.org }', message: `${COREFILE}:1: unexpected '}' among server block keys` },
  { why: 'an empty directive name', input: '. {\n  "" x\n}', message: `${COREFILE}:2: a directive has an empty name` },
  { why: 'an unclosed quote', input: '. {\n  log "x\n}\n', message: `${COREFILE}:2: quoted string is never closed (missing ")` },
  {
    why: 'a transport cluster-dns does not serve, with file and line',
    input: '.:53 {\n}\ntls://.:853 {\n}',
    message: `${COREFILE}:3: server block key "tls://.:853": tls:// (DNS over TLS) is not supported; cluster-dns serves plain DNS (dns://) only`,
  },
  { why: 'an empty zone', input: ':53 {\n}', message: `${COREFILE}:1: server block key ":53": the zone is empty` },
  {
    why: 'a snippet name among other keys',
    input: '(a) b.org {\n}',
    message: `${COREFILE}:1: "(a)": a snippet is named alone on its line, as "(name) {"`,
  },
  { why: 'a snippet without a block', input: '(common)\n', message: `${COREFILE}:1: snippet (common) needs a block: "(common) {" … "}"` },
  { why: 'an unclosed snippet', input: '(common) {\n  log\n', message: `${COREFILE}:1: '{' of snippet (common) is never closed` },
  {
    why: 'a snippet defined twice',
    input: '(c) {\n}\n(c) {\n}',
    message: `${COREFILE}:3: snippet (c) is already defined at ${COREFILE}:1`,
  },
  { why: 'a snippet with no name', input: '() {\n}', message: `${COREFILE}:1: a snippet needs a name: "(name) {"` },
];

test('syntax errors name the file and the line', async () => {
  for (const row of syntaxErrors) await rejects(row.input, row.message, row.why);
});

test('environment variables as CoreDNS substitutes them', async () => {
  const env = { ZONE: 'Cluster.Local', PORT: '1053', UP: '10.0.0.53', BRACE: '{', IMPORT: 'import', REF: '{$ZONE}' };
  const rows: { why: string; input: string; blocks: { keys: string[]; lines: Line[] }[] }[] = [
    { why: 'in keys, several in one token', input: '{$ZONE}:{$PORT} {\n}', blocks: [{ keys: ['cluster.local:1053'], lines: [] }] },
    { why: 'the Windows form', input: '{%ZONE%}:{%PORT%} {\n}', blocks: [{ keys: ['cluster.local:1053'], lines: [] }] },
    {
      why: 'in arguments, quoted or not, and inside words',
      input: '. {\n  forward . {$UP} "{$UP}:53" x{$PORT}y\n}',
      blocks: [{ keys: ['.:53'], lines: ['forward . 10.0.0.53 10.0.0.53:53 x1053y'] }],
    },
    {
      why: 'an unset variable reads as empty (CoreDNS)',
      input: '. {\n  forward . {$NOPE}\n}',
      blocks: [{ keys: ['.:53'], lines: ['forward . '] }],
    },
    { why: 'an unset key is no key', input: '{$EXTRA} {$ZONE} {\n}', blocks: [{ keys: ['cluster.local:53'], lines: [] }] },
    {
      why: 'a value is text: a brace from the environment opens nothing',
      input: '. {\n  log {$BRACE}\n}',
      blocks: [{ keys: ['.:53'], lines: ['log {'] }],
    },
    {
      why: 'a value is text: "import" from the environment imports nothing',
      input: '. {\n  {$IMPORT} x\n}',
      blocks: [{ keys: ['.:53'], lines: ['import x'] }],
    },
    { why: 'a value is not expanded again', input: '. {\n  log {$REF}\n}', blocks: [{ keys: ['.:53'], lines: ['log {$ZONE}'] }] },
    {
      why: 'template text with braces and no reference is left alone',
      input: '. {\n  answer "{{ .Name }} {1}"\n}',
      blocks: [{ keys: ['.:53'], lines: ['answer {{ .Name }} {1}'] }],
    },
  ];
  for (const row of rows) assert.deepEqual(shape(await parse(row.input, {}, { env })), row.blocks, row.why);

  const cf = await parse('. {\n  forward . {$NOPE}\n  log {$NOPE} {$ALSO}\n}', {}, { env });
  assert.deepEqual(
    cf.warnings.map((w) => `${w.line}: ${w.message}`),
    [
      '2: environment variable NOPE is not set; it reads as empty',
      '3: environment variable NOPE is not set; it reads as empty',
      '3: environment variable ALSO is not set; it reads as empty',
    ],
  );

  const bad: { why: string; input: string; message: string }[] = [
    {
      why: 'a Caddy v2 default is not Corefile syntax',
      input: '. {\n  forward . {$UP:8.8.8.8}\n}',
      message: `${COREFILE}:2: "{$UP:8.8.8.8}": defaults ({$NAME:default}) are not part of the Corefile syntax; CoreDNS would read the variable "UP:8.8.8.8"`,
    },
    { why: 'an empty name', input: '{$}:53 {\n}', message: `${COREFILE}:1: "{$}" names no environment variable` },
    {
      why: 'an unclosed reference',
      input: '. {\n  log {$UP\n}',
      message: `${COREFILE}:2: environment reference "{$UP…" is never closed with "}"`,
    },
    {
      why: 'an unclosed Windows reference',
      input: '. {\n  log {%UP}\n}',
      message: `${COREFILE}:2: environment reference "{%UP}…" is never closed with "%}"`,
    },
    {
      why: 'not a variable name',
      input: '. {\n  log "{$A B}"\n}',
      message: `${COREFILE}:2: "{$A B}": "A B" is not an environment variable name`,
    },
  ];
  for (const row of bad) await rejects(row.input, row.message, row.why, {}, { env });
});

test('the default port is the one given (CoreDNS -dns.port)', async () => {
  const cf = await parse('. {\n}\n.:53 {\n}', {}, { defaultPort: 1053 });
  assert.deepEqual(
    shape(cf).map((b) => b.keys),
    [['.:1053'], ['.:53']],
  );
  assert.deepEqual(
    cf.blocks.map((b) => b.keys[0]!.explicitPort),
    [false, true],
  );
});

test('duplicate keys are left to the mapper, which knows the bind addresses', async () => {
  const cf = await parse('.:53 {\n  bind 10.0.0.1\n}\n.:53 {\n  bind 10.0.0.2\n}');
  assert.equal(cf.blocks.length, 2);
});

test('limits on nesting and lines', async () => {
  const deep = `. {\n${'a {\n'.repeat(5)}${'}\n'.repeat(5)}}`;
  assert.equal((await parse(deep, {}, { limits: { nesting: 5 } })).blocks.length, 1);
  await rejects(deep, `${COREFILE}:6: blocks nested deeper than 4`, 'one level too deep', {}, { limits: { nesting: 4 } });
  await rejects(
    `. {\n${'log\n'.repeat(11)}}`,
    `${COREFILE}:12: more than 10 directive lines`,
    'too many lines',
    {},
    { limits: { directives: 10 } },
  );
});
