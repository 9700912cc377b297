import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CorefileError, filesRead, parseCorefile, parseCorefileText, type ParseOptions } from '../../src/corefile/index.ts';
import { located, memoryFs, shape } from '../support/corefile.ts';

const COREFILE = '/etc/coredns/Corefile';

function parse(files: Record<string, string>, options: ParseOptions = {}) {
  return parseCorefile(COREFILE, memoryFs(files), { env: {}, ...options });
}

async function rejects(files: Record<string, string>, message: string, why: string, options: ParseOptions = {}) {
  await assert.rejects(parse(files, options), (err: unknown) => {
    assert.ok(err instanceof CorefileError, `${why}: ${String(err)}`);
    assert.equal(err.message, message, why);
    return true;
  });
}

test('a snippet imported in a block keeps the lines where the snippet is written', async () => {
  const cf = await parse({
    [COREFILE]: '(common) {\n  errors\n  cache 30\n}\n.:53 {\n  import common\n  log\n}\nexample.org {\n  import common\n}\n',
  });
  assert.deepEqual(shape(cf), [
    { keys: ['.:53'], lines: ['errors', 'cache 30', 'log'] },
    { keys: ['example.org:53'], lines: ['errors', 'cache 30'] },
  ]);
  assert.deepEqual(located(cf), [
    { name: 'errors', at: `${COREFILE}:2`, via: [`${COREFILE}:6`] },
    { name: 'cache', at: `${COREFILE}:3`, via: [`${COREFILE}:6`] },
    { name: 'log', at: `${COREFILE}:7`, via: [] },
    { name: 'errors', at: `${COREFILE}:2`, via: [`${COREFILE}:10`] },
    { name: 'cache', at: `${COREFILE}:3`, via: [`${COREFILE}:10`] },
  ]);
});

test('snippets: whole server blocks, inside a directive block, nested, from an imported file', async () => {
  const rows: { why: string; files: Record<string, string>; blocks: ReturnType<typeof shape> }[] = [
    {
      why: 'a snippet of server blocks imported at the top level',
      files: { [COREFILE]: '(stubs) {\n  a.org {\n    forward . 10.0.0.1\n  }\n}\nimport stubs\n' },
      blocks: [{ keys: ['a.org:53'], lines: ['forward . 10.0.0.1'] }],
    },
    {
      why: "a snippet of properties imported in a directive's block",
      files: {
        [COREFILE]: '(opts) {\n  force_tcp\n  max_fails 2\n}\n. {\n  forward . 10.0.0.1 {\n    import opts\n    expire 10s\n  }\n}\n',
      },
      blocks: [{ keys: ['.:53'], lines: [['forward . 10.0.0.1', ['force_tcp', 'max_fails 2', 'expire 10s']]] }],
    },
    {
      why: 'a snippet that imports a snippet',
      files: { [COREFILE]: '(a) {\n  errors\n}\n(b) {\n  import a\n  log\n}\n. {\n  import b\n}\n' },
      blocks: [{ keys: ['.:53'], lines: ['errors', 'log'] }],
    },
    {
      why: 'a snippet defined in an imported file is known after the import',
      files: { [COREFILE]: 'import snippets.conf\n. {\n  import common\n}\n', '/etc/coredns/snippets.conf': '(common) {\n  whoami\n}\n' },
      blocks: [{ keys: ['.:53'], lines: ['whoami'] }],
    },
  ];
  for (const row of rows) assert.deepEqual(shape(await parse(row.files)), row.blocks, row.why);
});

test('file imports resolve against the importing file, globs in sorted order', async () => {
  const cf = await parse({
    [COREFILE]: '.:53 {\n  errors\n  import conf.d/*.conf\n}\nimport /srv/zones/*.server\n',
    '/etc/coredns/conf.d/b.conf': 'cache 30\n',
    '/etc/coredns/conf.d/a.conf': '# a comment first\nlog\nimport ../extra/more\n',
    '/etc/coredns/conf.d/not-a-match.txt': 'nope\n',
    '/etc/coredns/extra/more': 'health {\n  lameduck 5s\n}\n',
    '/srv/zones/z.server': 'z.org {\n  whoami\n}\n',
    '/srv/zones/a.server': 'a.org:5353 {\n  whoami\n}\n',
  });
  assert.deepEqual(shape(cf), [
    { keys: ['.:53'], lines: ['errors', 'log', ['health', ['lameduck 5s']], 'cache 30'] },
    { keys: ['a.org:5353'], lines: ['whoami'] },
    { keys: ['z.org:53'], lines: ['whoami'] },
  ]);
  assert.deepEqual(located(cf).slice(0, 4), [
    { name: 'errors', at: `${COREFILE}:2`, via: [] },
    { name: 'log', at: '/etc/coredns/conf.d/a.conf:2', via: [`${COREFILE}:3`] },
    { name: 'health', at: '/etc/coredns/extra/more:1', via: [`${COREFILE}:3`, '/etc/coredns/conf.d/a.conf:3'] },
    { name: 'lameduck', at: '/etc/coredns/extra/more:2', via: [`${COREFILE}:3`, '/etc/coredns/conf.d/a.conf:3'] },
  ]);
  assert.deepEqual([cf.blocks[1]!.file, cf.blocks[1]!.line, cf.blocks[1]!.via], ['/srv/zones/a.server', 1, [{ file: COREFILE, line: 5 }]]);
  assert.deepEqual(filesRead(cf), [
    COREFILE,
    '/etc/coredns/conf.d/a.conf',
    '/etc/coredns/extra/more',
    '/etc/coredns/conf.d/b.conf',
    '/srv/zones/a.server',
    '/srv/zones/z.server',
  ]);
  assert.deepEqual(
    cf.globs.map((g) => [g.pattern, g.matches.length, `${g.importedAt.file}:${g.importedAt.line}`]),
    [
      ['/etc/coredns/conf.d/*.conf', 2, `${COREFILE}:3`],
      ['/srv/zones/*.server', 2, `${COREFILE}:5`],
    ],
  );
});

test('a glob may match nothing (a warning, and the glob is kept for watching)', async () => {
  const cf = await parse({ [COREFILE]: '.:53 {\n  import custom/*.override\n}\nimport custom/*.server\n' });
  assert.deepEqual(shape(cf), [{ keys: ['.:53'], lines: [] }]);
  assert.deepEqual(
    cf.warnings.map((w) => `${w.line}: ${w.message}`),
    ['2: no files match import custom/*.override', '4: no files match import custom/*.server'],
  );
  assert.deepEqual(
    cf.globs.map((g) => g.pattern),
    ['/etc/coredns/custom/*.override', '/etc/coredns/custom/*.server'],
  );
});

test('a file imported twice is listed once', async () => {
  const cf = await parse({ [COREFILE]: 'a.org {\n  import common\n}\nb.org {\n  import common\n}\n', '/etc/coredns/common': 'log\n' });
  assert.deepEqual(
    shape(cf).map((b) => b.lines),
    [['log'], ['log']],
  );
  assert.deepEqual(filesRead(cf), [COREFILE, '/etc/coredns/common']);
});

test('import errors name the import line, and lines in imported files name that file', async () => {
  const rows: { why: string; files: Record<string, string>; message: string; options?: ParseOptions }[] = [
    {
      why: 'a literal file that does not exist (a glob may match nothing, a file may not)',
      files: { [COREFILE]: '. {\n  import custom/extra.conf\n}' },
      message: `${COREFILE}:2: import custom/extra.conf: no such file (/etc/coredns/custom/extra.conf)`,
    },
    {
      why: 'a snippet used before it is defined reads as a file name',
      files: { [COREFILE]: '. {\n  import common\n}\n(common) {\n}' },
      message: `${COREFILE}:2: import common: no such file (/etc/coredns/common) and no snippet (common) is defined above this line`,
    },
    {
      why: 'import with no argument',
      files: { [COREFILE]: '. {\n  import\n  log\n}' },
      message: `${COREFILE}:2: import needs one argument: a snippet name, a file or a glob`,
    },
    {
      why: 'import with two arguments',
      files: { [COREFILE]: 'import a b\n' },
      message: `${COREFILE}:1: import takes one argument (a snippet name, a file or a glob)`,
    },
    { why: 'import of an empty name', files: { [COREFILE]: 'import ""\n' }, message: `${COREFILE}:1: import of an empty name` },
    {
      why: 'more than one * (Caddy refuses, caddy#2096)',
      files: { [COREFILE]: 'import /etc/*/*.server\n' },
      message: `${COREFILE}:1: an import pattern may hold one "*" and one "?" and no "[...]" (got /etc/*/*.server)`,
    },
    {
      why: 'a character class',
      files: { [COREFILE]: 'import [ab].server\n' },
      message: `${COREFILE}:1: an import pattern may hold one "*" and one "?" and no "[...]" (got /etc/coredns/[ab].server)`,
    },
    {
      why: 'a folder imported as a file',
      files: { [COREFILE]: 'import custom\n', '/etc/coredns/custom/x': '' },
      message: `${COREFILE}:1: import /etc/coredns/custom: is a directory, not a Corefile`,
    },
    {
      why: 'a folder matched by a glob (CoreDNS: "is a directory")',
      files: { [COREFILE]: 'import d/*\n', '/etc/coredns/d/sub/x': '' },
      message: `${COREFILE}:1: import /etc/coredns/d/sub: is a directory, not a Corefile`,
    },
    {
      why: 'a stray brace in an imported file: its own file and line, and where it was imported',
      files: { [COREFILE]: '.:53 {\n  import extra.conf\n}', '/etc/coredns/extra.conf': 'log\n}\n' },
      message: `/etc/coredns/extra.conf:2: unexpected '}': no block is open here (imported at ${COREFILE}:2)`,
    },
    {
      why: "an unclosed block in an imported file cannot borrow the importer's brace",
      files: { [COREFILE]: '.:53 {\n  import extra.conf\n}', '/etc/coredns/extra.conf': 'health {\n  lameduck 5s\n' },
      message: `/etc/coredns/extra.conf:1: '{' is never closed (missing '}') (imported at ${COREFILE}:2)`,
    },
    {
      why: 'an error two imports deep lists both import lines, nearest first',
      files: { [COREFILE]: '. {\n  import a\n}', '/etc/coredns/a': '\nimport b\n', '/etc/coredns/b': 'forward . "x\n' },
      message: `/etc/coredns/b:1: quoted string is never closed (missing ") (imported at /etc/coredns/a:2 <- ${COREFILE}:2)`,
    },
    {
      why: 'a file import loop is named',
      files: { [COREFILE]: 'import a.conf\n', '/etc/coredns/a.conf': 'import b.conf\n', '/etc/coredns/b.conf': 'import a.conf\n' },
      message: `/etc/coredns/b.conf:1: import loop: /etc/coredns/a.conf is already being imported (/etc/coredns/a.conf -> /etc/coredns/b.conf -> /etc/coredns/a.conf) (imported at /etc/coredns/a.conf:1 <- ${COREFILE}:1)`,
    },
    {
      why: 'a glob that matches the Corefile itself',
      files: { [COREFILE]: 'import *\n' },
      message: `${COREFILE}:1: import loop: /etc/coredns/Corefile is already being imported (/etc/coredns/Corefile -> /etc/coredns/Corefile)`,
    },
    {
      why: 'a snippet that imports itself (CoreDNS: maximum snippet import depth exceeded)',
      files: { [COREFILE]: '(loop) {\n  import loop\n}\n. {\n  import loop\n}\n' },
      message: `${COREFILE}:2: import loop: (loop) is already being imported ((loop) -> (loop)) (imported at ${COREFILE}:5)`,
    },
    {
      why: 'two snippets importing each other',
      files: { [COREFILE]: '(a) {\n  import b\n}\n(b) {\n  import a\n}\n. {\n  import a\n}\n' },
      message: `${COREFILE}:5: import loop: (a) is already being imported ((a) -> (b) -> (a)) (imported at ${COREFILE}:2 <- ${COREFILE}:8)`,
    },
    {
      why: 'imports are counted (CoreDNS stops at 1000)',
      files: { [COREFILE]: `(s) {\n  log\n}\n. {\n${'  import s\n'.repeat(4)}}\n` },
      options: { limits: { imports: 3 } },
      message: `${COREFILE}:8: more than 3 imports (an import loop?)`,
    },
    {
      why: 'imports within imports are bounded',
      files: { [COREFILE]: 'import a\n', '/etc/coredns/a': 'import b\n', '/etc/coredns/b': 'import c\n', '/etc/coredns/c': '' },
      options: { limits: { importDepth: 2 } },
      message: `/etc/coredns/b:1: imports nested deeper than 2 (imported at /etc/coredns/a:1 <- ${COREFILE}:1)`,
    },
  ];
  for (const row of rows) await rejects(row.files, row.message, row.why, row.options);
});

test('the size caps are checked before reading', async () => {
  const fs = memoryFs({ [COREFILE]: '. {\n  import big\n}', '/etc/coredns/big': `# ${'x'.repeat(2000)}\n` });
  await assert.rejects(parseCorefile(COREFILE, fs, { limits: { fileBytes: 1000 } }), {
    message: `${COREFILE}:2: import /etc/coredns/big: larger than 1000 bytes (the most a ConfigMap holds); not read`,
  });
  assert.deepEqual(fs.reads, [COREFILE], 'the large file was never read');

  const ten = memoryFs({ [COREFILE]: new Uint8Array(10 * 1024 * 1024) });
  await assert.rejects(parseCorefile(COREFILE, ten), {
    message: `${COREFILE}: larger than 1048576 bytes (the most a ConfigMap holds); not read`,
  });
  assert.deepEqual(ten.reads, []);

  await assert.rejects(parseCorefileText(`# ${'x'.repeat(2000)}`, COREFILE, memoryFs({}), { limits: { fileBytes: 1000 } }), {
    message: `${COREFILE}: larger than 1000 bytes (the most a ConfigMap holds)`,
  });

  const many = memoryFs({
    [COREFILE]: 'import *.conf\n',
    '/etc/coredns/a.conf': `# ${'x'.repeat(600)}\n`,
    '/etc/coredns/b.conf': `# ${'x'.repeat(600)}\n`,
  });
  await assert.rejects(parseCorefile(COREFILE, many, { limits: { totalBytes: 1000 } }), {
    message: `${COREFILE}:1: the Corefile and its imports exceed 1000 bytes`,
  });
});

test('whole-file problems of the Corefile itself', async () => {
  const rows: { why: string; fs: ReturnType<typeof memoryFs>; message: string; kind: string }[] = [
    { why: 'missing', fs: memoryFs({}), message: `${COREFILE}: no such file`, kind: 'file' },
    {
      why: 'a folder',
      fs: memoryFs({ '/etc/coredns/Corefile/x': '' }),
      message: `${COREFILE}: is a directory, not a Corefile`,
      kind: 'file',
    },
    {
      why: 'binary',
      fs: memoryFs({ [COREFILE]: new Uint8Array([0x2e, 0x20, 0x7b, 0x0a, 0x00, 0x7d]) }),
      message: `${COREFILE}:2: NUL byte: this is not a text file`,
      kind: 'file',
    },
  ];
  for (const row of rows) {
    await assert.rejects(parseCorefile(COREFILE, row.fs), (err: unknown) => {
      assert.ok(err instanceof CorefileError, row.why);
      assert.equal(err.message, row.message, row.why);
      assert.equal(err.kind, row.kind, row.why);
      return true;
    });
  }
});
