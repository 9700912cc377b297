// loadKubeConfig: where the API server and the credentials come from, and what is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { loadKubeConfig } from '../../src/kube/kubernetes.ts';
import { KubeConfigError } from '../../src/kube/kubeconfig-error.ts';

test('credentials are never sent in clear text to another machine; loopback http (kubectl proxy) and https are fine', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cdns-kubeconfig-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const load = (server: string, user: string) => {
    const path = join(dir, `${Math.random()}.kubeconfig`);
    writeFileSync(
      path,
      `apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts: [{name: c, context: {cluster: x, user: u}}]\nclusters: [{name: x, cluster: {server: "${server}"}}]\nusers: [{name: u, user: ${user}}]\n`,
    );
    return () => loadKubeConfig(path, {});
  };
  for (const user of ['{token: secret}', '{username: a, password: b}', '{client-key-data: a2V5}']) {
    assert.throws(
      load('http://10.96.0.1:6443', user),
      (err: unknown) => err instanceof KubeConfigError && /refusing to send the user's credentials/.test(err.message),
      user,
    );
    assert.throws(load('http://api.example.com', user), KubeConfigError, user);
    assert.ok(load('https://10.96.0.1:6443', user)(), `${user} over https`);
    assert.ok(load('http://127.0.0.1:8001', user)(), `${user} to loopback`);
    assert.ok(load('http://[::1]:8001', user)(), `${user} to ::1`);
  }
  assert.ok(load('http://10.96.0.1:8080', '{}')(), 'no credentials: nothing to leak');
});

test('client-node and undici load only where a cluster is watched: --workers replicas and --manifests stay light', () => {
  // A fresh process, so this file's own import of kubernetes.ts does not count.
  const loaded = (path: string) => {
    const script = `import { createRequire } from 'node:module'; await import(${JSON.stringify(path)}); console.log(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));`;
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    return (JSON.parse(out.stdout) as string[]).filter((file) => /[/\\](@kubernetes[/\\]client-node|undici)[/\\]/.test(file));
  };
  assert.deepEqual(loaded(new URL('../../src/app.ts', import.meta.url).pathname), []);
  assert.ok(loaded(new URL('../../src/kube/kubernetes.ts', import.meta.url).pathname).length > 0, 'the check sees them when they load');
});

/** The imports of src/kube/ modules other than open.ts and options.ts (its option table, which
 * loads nothing) in `text` that are not type-only. */
function kubeCrossings(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?[^;]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/gm)) {
    const target = m[2] ?? m[3]!;
    if (/(^|\/)kube\//.test(target) && !/\/kube\/(open|options)\.ts$/.test(target) && !m[1]) out.push(target);
  }
  return out;
}

test('src/kube/ is entered through open.ts (and its option table) only: the rest of src/ imports its other modules for types alone', () => {
  assert.deepEqual(
    kubeCrossings(
      "import { A } from './kube/api.ts';\nimport type { B } from './kube/types.ts';\nimport { C } from './kube/open.ts';\nimport { O } from './kube/options.ts';\nconst d = await import('./kube/kubernetes.ts');\n",
    ),
    ['./kube/api.ts', './kube/kubernetes.ts'],
    'the scan sees value imports, static and dynamic, and lets types, open.ts and options.ts through',
  );
  const src = new URL('../../src/', import.meta.url).pathname;
  const crossings: string[] = [];
  for (const file of readdirSync(src, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts') || file.startsWith(`kube${sep}`)) continue;
    for (const target of kubeCrossings(readFileSync(join(src, file), 'utf8'))) crossings.push(`${file}: ${target}`);
  }
  assert.deepEqual(crossings, []);
});
