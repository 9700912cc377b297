// loadKubeConfig: where the API server and the credentials come from, and what is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    assert.throws(load('http://10.96.0.1:6443', user), (err: unknown) => err instanceof KubeConfigError && /refusing to send the user's credentials/.test(err.message), user);
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
