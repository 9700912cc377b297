import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCorefileText, printCorefile, type Corefile, type Directive } from '../../src/corefile/index.ts';
import { memoryFs } from '../support/corefile.ts';

const fs = memoryFs({});
const parse = (text: string) => parseCorefileText(text, '/etc/coredns/Corefile', fs, { env: { UP: '10.0.0.53' } });

/** The parse without places: what must survive printing. */
function content(cf: Corefile) {
  const strip = (ds: readonly Directive[]): unknown => ds.map((d) => ({ name: d.name, args: d.args, block: d.block && strip(d.block) }));
  return cf.blocks.map((b) => ({ keys: b.keys.flatMap((k) => k.zones.map((z) => `${z}:${k.port}`)), lines: strip(b.directives) }));
}

const rows: { why: string; input: string; printed: string }[] = [
  {
    why: 'comments and odd spacing go, four spaces a level, keys as zone:port',
    input: '# head\n.  {   # x\n errors\n  health {\n lameduck 5s }\n}\n',
    printed: '.:53 {\n    errors\n    health {\n        lameduck 5s\n    }\n}\n',
  },
  { why: 'a brace-less block gets braces', input: 'example.org\nwhoami\n', printed: 'example.org:53 {\n    whoami\n}\n' },
  { why: 'transports and trailing dots are normalized', input: 'dns://Example.ORG.:1053 {\n}\n', printed: 'example.org:1053 {\n}\n' },
  {
    why: 'a CIDR key is printed as its reverse zones',
    input: '10.0.0.0/15 {\n}\n',
    printed: '0.10.in-addr.arpa:53 1.10.in-addr.arpa:53 {\n}\n',
  },
  { why: 'an empty block stays an empty block', input: '. {\n  errors {\n  }\n}\n', printed: '.:53 {\n    errors {\n    }\n}\n' },
  {
    why: 'quotes where the text needs them, none where it does not',
    input: '. {\n  a "x y" "" "#" "{" "}" "\\"q" "tab\there" plain\\"quote "C:\\dir" "line\none"\n}\n',
    printed: '.:53 {\n    a "x y" "" "#" "{" "}" "\\"q" "tab\there" plain\\"quote C:\\dir "line\none"\n}\n',
  },
  {
    why: 'a directive named "import" is quoted so it stays a directive',
    input: '. {\n  "import" x\n}\n',
    printed: '.:53 {\n    "import" x\n}\n',
  },
  {
    why: 'environment values are printed as substituted',
    input: '. {\n  forward . {$UP}\n}\n',
    printed: '.:53 {\n    forward . 10.0.0.53\n}\n',
  },
  { why: 'an empty Corefile prints as nothing', input: '# only a comment\n', printed: '' },
];

test('printing normalizes and parses back to the same content', async () => {
  for (const row of rows) {
    const cf = await parse(row.input);
    const printed = printCorefile(cf);
    assert.equal(printed, row.printed, row.why);
    assert.deepEqual(content(await parse(printed)), content(cf), `${row.why}: round trip`);
    assert.equal(printCorefile(await parse(printed)), printed, `${row.why}: printing is stable`);
  }
});

test('text with no Corefile spelling is refused, not printed wrong', () => {
  const line = (arg: string): Directive => ({ name: 'log', args: [arg], block: null, file: 'x', line: 1, via: [] });
  const block = (arg: string) => ({
    blocks: [
      {
        keys: [{ text: '.', zones: ['.'], port: 53, explicitPort: false, transport: 'dns' as const, file: 'x', line: 1 }],
        directives: [line(arg)],
        file: 'x',
        line: 1,
        via: [],
      },
    ],
  });
  assert.equal(printCorefile(block('a\\"b')), '.:53 {\n    log a\\"b\n}\n', 'a backslash before a quote is fine unquoted');
  assert.throws(
    () => printCorefile(block('a \\"b')),
    /cannot write "a \\\\\\"b" as a Corefile token/,
    'but needs quotes here, and inside quotes \\" is an escape',
  );
  assert.throws(() => printCorefile(block('ends in space\\')), /cannot write/);
  assert.throws(
    () => printCorefile(block('{$HOME}')),
    /would read as an environment reference/,
    'an environment value that holds a reference',
  );
  const twoArgs = block('a\nb');
  (twoArgs.blocks[0]!.directives[0]!.args as string[]).push('c');
  assert.throws(() => printCorefile(twoArgs), /an argument holding a newline must end its line/, 'a token after it would start a new line');
});
