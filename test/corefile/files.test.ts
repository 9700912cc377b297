// The reader on real files: a ConfigMap volume's symlink layout, folders, large and binary files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CorefileError, filesRead, parseCorefile } from '../../src/corefile/index.ts';
import { shape } from '../support/corefile.ts';

/**
 * Writes `files` the way the kubelet projects a ConfigMap into `dir`: the data in a timestamped
 * folder, `..data` pointing at it, and each key a symlink through `..data`. Called again, it
 * swaps `..data` atomically (a new folder, a temporary link renamed over the old one).
 */
function projectConfigMap(dir: string, stamp: string, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  const data = `..${stamp}`;
  mkdirSync(join(dir, data));
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(dir, data, name), content);
    try {
      symlinkSync(join('..data', name), join(dir, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  symlinkSync(data, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
}

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'cluster-dns-corefile-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a ConfigMap-mounted Corefile with a coredns-custom ConfigMap beside it (AKS shape)', async (t) => {
  const root = join(tempDir(t), 'etc-coredns');
  projectConfigMap(root, '2026_12_03_10_00_00.000000001', {
    Corefile: '.:53 {\n    errors\n    import custom/*.override\n}\nimport custom/*.server\n',
  });
  const custom = join(root, 'custom');
  projectConfigMap(custom, '2026_12_03_10_00_00.000000002', {
    'log.override': 'log\n',
    'stub.server': 'corp.example:53 {\n    forward . 10.2.0.53\n}\n',
  });

  const corefile = join(root, 'Corefile');
  const first = await parseCorefile(corefile);
  assert.deepEqual(shape(first), [
    { keys: ['.:53'], lines: ['errors', 'log'] },
    { keys: ['corp.example:53'], lines: ['forward . 10.2.0.53'] },
  ]);
  assert.deepEqual(
    filesRead(first),
    [corefile, join(custom, 'log.override'), join(custom, 'stub.server')],
    'paths as imported, through the symlinks',
  );
  assert.deepEqual(
    first.sources.map((s) => s.realPath),
    [
      join(root, '..2026_12_03_10_00_00.000000001', 'Corefile'),
      join(custom, '..2026_12_03_10_00_00.000000002', 'log.override'),
      join(custom, '..2026_12_03_10_00_00.000000002', 'stub.server'),
    ],
    'and where the symlinks point today',
  );
  const log = first.blocks[0]!.directives[1]!;
  assert.deepEqual([log.file, log.line], [join(custom, 'log.override'), 1], 'an imported line names its own file');

  // An edit to either ConfigMap is a swap of its ..data link; a new key adds a symlink.
  projectConfigMap(root, '2026_12_03_10_05_00.000000003', {
    Corefile: '.:53 {\n    errors\n    cache 30\n    import custom/*.override\n}\nimport custom/*.server\n',
  });
  projectConfigMap(custom, '2026_12_03_10_05_00.000000004', {
    'log.override': 'log\n',
    'stub.server': 'corp.example:53 {\n    forward . 10.2.0.53\n}\n',
    'hosts.override': 'hosts {\n    10.2.0.10 build.corp.example\n    fallthrough\n}\n',
  });
  const second = await parseCorefile(corefile);
  assert.deepEqual(shape(second)[0], {
    keys: ['.:53'],
    lines: ['errors', 'cache 30', ['hosts', ['10.2.0.10 build.corp.example', 'fallthrough']], 'log'],
  });
  assert.equal(second.sources[0]!.realPath, join(root, '..2026_12_03_10_05_00.000000003', 'Corefile'));
  assert.deepEqual(second.globs[0]!.matches, [join(custom, 'hosts.override'), join(custom, 'log.override')]);

  // Go's glob has no hidden-file rule: `*` also matches the ..data folders, which CoreDNS refuses.
  writeFileSync(join(root, 'star.Corefile'), '.:53 {\n    import custom/*\n}\n');
  await assert.rejects(parseCorefile(join(root, 'star.Corefile')), {
    message: `${join(root, 'star.Corefile')}:2: import ${join(custom, '..2026_12_03_10_00_00.000000002')}: is a directory, not a Corefile`,
  });
});

test('relative imports resolve against the folder of the path given, not the symlink target', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'elsewhere'));
  writeFileSync(join(dir, 'elsewhere', 'Corefile'), '.:53 {\n    import extra.conf\n}\n');
  symlinkSync(join('elsewhere', 'Corefile'), join(dir, 'Corefile'));
  writeFileSync(join(dir, 'extra.conf'), 'whoami\n');
  const cf = await parseCorefile(join(dir, 'Corefile'));
  assert.deepEqual(shape(cf), [{ keys: ['.:53'], lines: ['whoami'] }]);
});

test('a loop through a symlink is found by the file it reaches', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'Corefile'), 'import a.conf\n');
  writeFileSync(join(dir, 'b.conf'), 'import a.conf\n');
  symlinkSync('b.conf', join(dir, 'a.conf'));
  await assert.rejects(parseCorefile(join(dir, 'Corefile')), (err: unknown) => {
    assert.ok(err instanceof CorefileError);
    assert.equal(err.kind, 'import');
    assert.match(
      err.message,
      /a\.conf:1: import loop: \S*a\.conf is already being imported \(\S*a\.conf -> \S*a\.conf\) \(imported at \S*Corefile:1\)$/,
    );
    return true;
  });
});

test('a Corefile that is a folder, too large, binary or missing', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'Corefile.d'));
  const big = join(dir, 'big.Corefile');
  writeFileSync(big, '');
  truncateSync(big, 10 * 1024 * 1024);
  const binary = join(dir, 'binary.Corefile');
  writeFileSync(binary, Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x0a, 0x00]));
  const rows: { why: string; path: string; message: string }[] = [
    { why: 'a folder', path: join(dir, 'Corefile.d'), message: `${join(dir, 'Corefile.d')}: is a directory, not a Corefile` },
    {
      why: 'a 10 MB file, refused before it is read',
      path: big,
      message: `${big}: larger than 1048576 bytes (the most a ConfigMap holds); not read`,
    },
    { why: 'a gzip file', path: binary, message: `${binary}:1: NUL byte: this is not a text file` },
    { why: 'nothing there', path: join(dir, 'nope'), message: `${join(dir, 'nope')}: no such file` },
  ];
  for (const row of rows) await assert.rejects(parseCorefile(row.path), { name: 'CorefileError', message: row.message }, row.why);
});

test('a Corefile read in several chunks (300 KB of comments before the block)', async (t) => {
  const path = join(tempDir(t), 'Corefile');
  writeFileSync(path, `${'# padding padding padding padding padding padding padding padding\n'.repeat(4700)}.:53 {\n    whoami\n}\n`);
  const cf = await parseCorefile(path);
  assert.deepEqual(shape(cf), [{ keys: ['.:53'], lines: ['whoami'] }]);
  assert.equal(cf.blocks[0]!.line, 4701);
});
