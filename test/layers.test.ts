// The layer order is written once, in the README's "How it is built"; this reads it from there and
// checks every import of src/ against it: static, type-only, re-exports and lazy import().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SRC = join(ROOT, 'src');

function layerOrder(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf('The folders of `src/` are layers.');
  assert.ok(at > 0, 'the README states the layer order');
  const block = /```\n([^`]+)\n```/.exec(readme.slice(at));
  assert.ok(block, 'the layer order is a fenced line after it');
  return block[1]!.trim().split(/\s+/);
}

/** `config` for src/config/ and src/config.ts; the folder or file name without .ts otherwise. */
function layerOf(file: string): string {
  const top = file.split('/')[0]!;
  return top.endsWith('.ts') ? top.slice(0, -3) : top;
}

function importsOf(file: string): string[] {
  const text = readFileSync(join(SRC, file), 'utf8');
  const specifiers = [
    ...[...text.matchAll(/^(?:import|export)\b[^;'"]*?from\s+'(\.[^']+)'/gm)].map((m) => m[1]!),
    ...[...text.matchAll(/^import\s+'(\.[^']+)'/gm)].map((m) => m[1]!),
    ...[...text.matchAll(/\bimport\(\s*'(\.[^']+)'\s*\)/g)].map((m) => m[1]!),
  ];
  return specifiers.map((s) => normalize(relative(SRC, join(SRC, file, '..', s))));
}

const files = (readdirSync(SRC, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).sort();
const graph = new Map(files.map((f) => [f, importsOf(f)]));

test('every part of src/ has its place in the written layer order', () => {
  const order = layerOrder();
  assert.equal(new Set(order).size, order.length, 'no layer twice');
  const parts = [...new Set(files.map(layerOf))];
  assert.deepEqual(
    parts.filter((p) => !order.includes(p)),
    [],
    'parts missing from the README line',
  );
  assert.deepEqual(
    order.filter((p) => !parts.includes(p)),
    [],
    'layers in the README line that do not exist',
  );
});

test('no import runs against the layer order', () => {
  const rank = new Map(layerOrder().map((layer, i) => [layer, i]));
  const upward: string[] = [];
  for (const [file, targets] of graph) {
    for (const target of targets) {
      assert.ok(graph.has(target), `${file} imports ${target}, which is not a module of src/`);
      if (rank.get(layerOf(target))! > rank.get(layerOf(file))!) upward.push(`${file} -> ${target}`);
    }
  }
  assert.deepEqual(upward, []);
});

test('no chain of imports comes back to where it started', () => {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const cycles: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    path.push(file);
    for (const target of graph.get(file) ?? []) {
      if (state.get(target) === 'open') cycles.push([...path.slice(path.indexOf(target)), target].join(' -> '));
      else if (!state.has(target)) visit(target);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  assert.deepEqual(cycles, []);
});

test('the checks find what they look for', () => {
  // A module imports at least one other; the graph is not empty by a broken pattern.
  const edges = [...graph.values()].reduce((n, t) => n + t.length, 0);
  assert.ok(edges > 300, `${edges} imports read`);
  assert.ok(
    graph.get('app.ts')!.some((t) => t.startsWith('kube/')),
    'the lazy import() of kube/ is read',
  );
  assert.ok(graph.get('objects/check.ts')!.includes('objects/meta.ts'), 'type imports are read');
});
