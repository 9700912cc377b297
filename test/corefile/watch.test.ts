// The reload watcher on a real folder laid out as kubelet lays out a ConfigMap volume:
// ..2026_12_03_data/Corefile, ..data -> it, Corefile -> ..data/Corefile, and an update that
// writes a new data folder and renames a new ..data link over the old one. Waits are bounded
// and generous (a loaded 2-core machine), and "nothing happened" is asserted only after the
// watcher has done a check of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watchCorefile, type CorefileWatcher, type ReloadEvent } from '../../src/corefile/watch.ts';

const WAIT_MS = 15_000;

async function until(what: string, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A ConfigMap volume: each update is a new timestamped folder and an atomic ..data swap. */
class ConfigMapVolume {
  readonly dir: string;
  #generation = 0;
  #current: string | null = null;

  constructor(keys: Record<string, string>) {
    this.dir = mkdtempSync(join(tmpdir(), 'cdns-watch-'));
    this.update(keys);
    for (const key of Object.keys(keys)) symlinkSync(join('..data', key), join(this.dir, key));
  }

  update(keys: Record<string, string>): void {
    const name = `..2026_12_0${3 + this.#generation++}_data`;
    mkdirSync(join(this.dir, name));
    for (const [key, value] of Object.entries(keys)) writeFileSync(join(this.dir, name, key), value);
    symlinkSync(name, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
    if (this.#current !== null) rmSync(join(this.dir, this.#current), { recursive: true });
    this.#current = name;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const corefile = (upstream: string) => `.:53 {\n    errors\n    forward . ${upstream}\n    cache 30\n}\n`;

function upstreamOf(w: CorefileWatcher): string {
  const f = w.current.plan.forwardZones[0]?.forward.to[0];
  return f?.kind === 'address' ? f.host : String(f?.kind);
}

async function started(path: string, extra: Partial<Parameters<typeof watchCorefile>[1]> = {}) {
  const events: ReloadEvent[] = [];
  const watcher = await watchCorefile(path, { env: {}, debounceMs: 50, onReload: (e) => events.push(e), ...extra });
  return { watcher, events };
}

test('a ConfigMap update (..data swap) is a new plan; an unchanged one is no event', async (t) => {
  const volume = new ConfigMapVolume({ Corefile: corefile('127.0.0.11'), NodeHosts: '10.0.0.1 a\n' });
  const { watcher, events } = await started(join(volume.dir, 'Corefile'));
  t.after(() => {
    watcher.close();
    volume.remove();
  });
  assert.equal(upstreamOf(watcher), '127.0.0.11');

  volume.update({ Corefile: corefile('127.0.0.12'), NodeHosts: '10.0.0.1 a\n' });
  await until('the swap to be seen', () => events.length > 0);
  assert.equal(events[0]?.kind, 'changed');
  assert.equal(upstreamOf(watcher), '127.0.0.12');

  // Another key of the same ConfigMap changes: the folder swaps, the Corefile's bytes do not.
  const checks = watcher.checks;
  volume.update({ Corefile: corefile('127.0.0.12'), NodeHosts: '10.0.0.2 b\n' });
  await until('the watcher to check the no-op swap', () => watcher.checks > checks);
  await watcher.check();
  assert.equal(events.length, 1, 'same bytes, no event');
});

test('a broken edit is reported once with FILE:LINE and keeps the running plan; the fix applies', async (t) => {
  const volume = new ConfigMapVolume({ Corefile: corefile('127.0.0.11') });
  const path = join(volume.dir, 'Corefile');
  const { watcher, events } = await started(path);
  t.after(() => {
    watcher.close();
    volume.remove();
  });
  volume.update({ Corefile: '.:53 {\n    errors\n    forward . 127.0.0.13 {\n        max_fails lots\n    }\n}\n' });
  await until('the failure', () => events.length > 0);
  const failed = events[0];
  assert.ok(failed?.kind === 'failed');
  assert.equal(failed.error.message, `${path}:4: forward: max_fails "lots" is not a whole number`);
  assert.equal(upstreamOf(watcher), '127.0.0.11', 'the running plan stays');

  await watcher.check();
  assert.equal(events.length, 1, 'the same failure is reported once');

  volume.update({ Corefile: corefile('127.0.0.14') });
  await until('the fix', () => events.length > 1);
  assert.equal(events[1]?.kind, 'changed');
  assert.equal(upstreamOf(watcher), '127.0.0.14');
});

test('imported files are watched, and a file that starts to match an import glob is a change', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cdns-watch-'));
  mkdirSync(join(dir, 'custom'));
  writeFileSync(join(dir, 'Corefile'), '.:53 {\n    errors\n    import custom/*.override\n}\nimport custom/*.server\n');
  writeFileSync(join(dir, 'custom', 'log.override'), 'log\n');
  const { watcher, events } = await started(join(dir, 'Corefile'));
  t.after(() => {
    watcher.close();
    rmSync(dir, { recursive: true, force: true });
  });
  assert.deepEqual(
    watcher.current.plan.servers.map((s) => s.plugins.map((p) => p.name)),
    [['errors', 'log']],
  );

  writeFileSync(join(dir, 'custom', 'log.override'), 'log\nloadbalance\n');
  await until('the edited import', () => events.length > 0);
  assert.deepEqual(
    watcher.current.plan.servers.map((s) => s.plugins.map((p) => p.name)),
    [['errors', 'log', 'loadbalance']],
  );

  writeFileSync(join(dir, 'custom', 'lab.server'), 'lab.example:53 {\n    forward . 127.0.0.21\n}\n');
  await until('the new .server file', () => events.length > 1);
  assert.deepEqual(
    watcher.current.plan.stubDomains.map((f) => f.zone),
    ['lab.example'],
  );
});

test("without folder events, `reload` polling finds the change (CoreDNS's own mechanism)", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cdns-watch-'));
  const path = join(dir, 'Corefile');
  writeFileSync(path, corefile('127.0.0.11'));
  const { watcher, events } = await started(path, { events: false, poll: { intervalMs: 50, jitterMs: 20 } });
  t.after(() => {
    watcher.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const checks = watcher.checks;
  await until('a poll', () => watcher.checks > checks);
  assert.equal(events.length, 0, 'polls of unchanged bytes report nothing');
  writeFileSync(path, corefile('127.0.0.15'));
  await until('the polled change', () => events.length > 0);
  assert.equal(upstreamOf(watcher), '127.0.0.15');
});

test("the plan's own reload line sets the poll; without one there is none", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cdns-watch-'));
  const path = join(dir, 'Corefile');
  writeFileSync(path, corefile('127.0.0.11'));
  const { watcher } = await started(path, { events: false });
  t.after(() => {
    watcher.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(watcher.checks, 0, 'no reload line, no events: nothing checks');
  assert.equal(watcher.current.plan.reload, null);
});
