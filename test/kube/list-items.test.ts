// A list page cut into its items at `},{"metadata":{`, each parsed as the iteration reaches it,
// with the whole page parsed instead whenever the body is not shaped for that.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitListPage } from '../../src/kube/list-items.ts';
import { clusterObjects, dressPod } from '../../bench/synthetic.ts';

/** As the apiserver writes a list: compact, items last, each item opening with its metadata. */
function listBody(items: unknown[], metadata: object = { resourceVersion: '7', continue: 'abc:500', remainingItemCount: 3 }): Buffer {
  return Buffer.from(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata, items }));
}

function pieces(body: Buffer) {
  const split = splitListPage<unknown>(body);
  assert.ok(split, 'split');
  return { head: split.head, pieces: split.items.pieces, items: [...split.items] };
}

test('a page as the apiserver writes it: the head without items, then every item, parsed one by one', () => {
  const pods = [...clusterObjects(600)]
    .filter((o) => o.kind === 'Pod')
    .map((o) => {
      const { kind: _k, apiVersion: _a, ...item } = dressPod(o);
      return item;
    });
  const body = listBody(pods);
  const got = pieces(body);
  assert.deepEqual(got.head, {
    kind: 'PodList',
    apiVersion: 'v1',
    metadata: { resourceVersion: '7', continue: 'abc:500', remainingItemCount: 3 },
    items: [],
  });
  assert.equal(got.pieces, pods.length);
  assert.deepEqual(got.items, pods);
  assert.deepEqual(pieces(listBody([])), { head: JSON.parse(listBody([]).toString()), pieces: 0, items: [] });
  assert.deepEqual(pieces(listBody([pods[0]])).items, [pods[0]]);
  // The iteration parses again each time; nothing is kept between two.
  const split = splitListPage<unknown>(body)!;
  assert.deepEqual([...split.items].length, [...split.items].length);
});

test('the separator inside a string is no boundary: its quotes are escaped there', () => {
  const items = [
    { metadata: { name: 'a', annotations: { note: '},{"metadata":{', other: '"items":[ ] ]' } } },
    { metadata: { name: 'b\\', labels: { x: '\\"' } }, spec: { list: [']', '}'] } },
    { metadata: { name: 'é日😀' } },
  ];
  const got = pieces(listBody(items));
  assert.equal(got.pieces, 3);
  assert.deepEqual(got.items, items);
});

test('a cut in the wrong place (an array of objects opening with metadata) falls back to the whole page', () => {
  const items = [
    { metadata: { name: 'a' } },
    { metadata: { name: 'b' }, spec: { templates: [{ metadata: { name: 't1' } }, { metadata: { name: 't2' } }] } },
    { metadata: { name: 'c' } },
  ];
  const got = pieces(listBody(items));
  assert.equal(got.pieces, 4, 'cut inside b too');
  // What came before the bad piece comes again; the page whole follows, in order.
  assert.deepEqual(got.items, [items[0], ...items]);
});

test('bodies of another shape are left to be parsed whole', () => {
  const shapes = [
    JSON.stringify({ kind: 'PodList', items: [{ metadata: { name: 'a' } }] }, null, 2), // pretty-printed
    '{"kind":"PodList","items":[{"kind":"Pod","metadata":{"name":"a"}}]}', // items not opening with metadata
    '{"kind":"PodList","metadata":{}}', // no items
    '{"kind":"PodList","items":[{"metadata":', // cut short
    '{"kind":"PodList","items":[{"metadata":{}}], "x":', // not JSON around the items
    '[{"items":[{"metadata":{}}]}]', // close enough to fool a search, but the head is JSON, not an object: parsed whole by the caller
    '',
  ];
  for (const body of shapes.slice(0, 6)) {
    const split = splitListPage(Buffer.from(body));
    if (split === null) continue;
    // The only one that splits is the array, whose head the caller rejects as not a list.
    assert.ok(Array.isArray(split.head), body);
  }
  assert.equal(splitListPage(Buffer.from(shapes[0]!)), null);
  assert.equal(splitListPage(Buffer.from(shapes[1]!)), null);
  assert.equal(splitListPage(Buffer.from(shapes[2]!)), null);
  assert.equal(splitListPage(Buffer.from(shapes[3]!)), null);
  assert.equal(splitListPage(Buffer.from(shapes[4]!)), null);
  assert.equal(splitListPage(Buffer.from(shapes[6]!)), null);
});

test('a broken item whose page does not parse either throws when the iteration reaches it', () => {
  const body = Buffer.from('{"kind":"PodList","items":[{"metadata":{"name":"a"}},{"metadata":{"name":}}]}');
  const split = splitListPage<{ metadata: { name: string } }>(body);
  assert.ok(split);
  const iterator = split.items[Symbol.iterator]();
  assert.deepEqual(iterator.next().value, { metadata: { name: 'a' } });
  assert.throws(() => iterator.next(), SyntaxError);
});

test('random lists: every item comes out as JSON.parse makes it, the whole page last when a cut was wrong', () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const alphabet = ['a', 'metadata', 'items', '"', '\\', '{', '}', '[', ']', ',', ':', '},{"metadata":{', 'é', '日', '\n', '\u0000', '😀'];
  const string = () => Array.from({ length: Math.floor(random() * 5) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
  const value = (depth: number): unknown => {
    const pick = random();
    if (depth > 3 || pick < 0.35) return [string(), 1.5, -2, true, null][Math.floor(random() * 5)];
    if (pick < 0.65) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
    return object(depth + 1, random() < 0.3);
  };
  const object = (depth: number, withMetadata: boolean): Record<string, unknown> => {
    const out: Record<string, unknown> = withMetadata ? { metadata: { name: string() } } : {};
    for (let i = Math.floor(random() * 4); i > 0; i--) out[string()] = value(depth);
    return out;
  };
  for (let round = 0; round < 300; round++) {
    const items = Array.from({ length: Math.floor(random() * 8) }, () => object(0, true));
    const body = listBody(items);
    const split = splitListPage<unknown>(body);
    assert.ok(split, 'the apiserver shape always splits');
    const got = [...split.items];
    // The oracle is JSON.parse of the same body (not `items`): in a process that has parsed many
    // odd keys, V8 (Node 24.21) once returned the key "\\" for "\n" from either way of parsing.
    const whole = (JSON.parse(body.toString()) as { items: unknown[] }).items;
    assert.equal(whole.length, items.length);
    // Either exactly the items, or a prefix of them followed by all of them (a fallback).
    const prefix = got.length - whole.length;
    assert.ok(prefix >= 0, `round ${round}`);
    assert.deepEqual(got.slice(prefix), whole, `round ${round}`);
    assert.deepEqual(got.slice(0, prefix), whole.slice(0, prefix), `round ${round}`);
  }
});

test('items smaller than asked for on average leave the page to be parsed whole', () => {
  const items = [{ metadata: { name: 'a' } }, { metadata: { name: 'b', annotations: { big: 'x'.repeat(3000) } } }];
  const body = listBody(items);
  const bytes = body.length;
  assert.ok(splitListPage(body, 1024), 'average ~1.5 KB');
  assert.equal(splitListPage(body, 2048), null, 'average under 2 KB');
  assert.ok(bytes > 3000);
  assert.equal(splitListPage(listBody([]), 1024)?.items.pieces, 0, 'an empty page still splits');
});
