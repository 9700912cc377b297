// The items of a list page, parsed one at a time as the reflector takes them. `JSON.parse` of a
// whole page builds every item's objects at once: far more than the 2 MiB young generation holds
// (~20 MB for 500 pods as the apiserver sends them, managedFields and all), so all of it is
// promoted and waits for a full collection, the garbage behind a list's peak memory. One item
// parsed and converted at a time dies young (bench/RESULTS.md, "Figures behind the code").
//
// Finding the items costs no parse: the apiserver writes a list compactly, `items` last, each
// item opening with its `metadata`, so `},{"metadata":{` outside a string marks every boundary
// and cannot occur inside one (a string's quotes are escaped). It can occur deeper inside an item
// only if an array held objects that open with `metadata`, which no kind we list has; and if it
// ever did, the piece before it would not be valid JSON. A body of any other shape, or a piece
// that does not parse, falls back to parsing the page whole.

const ITEMS = Buffer.from('"items":[');
const FIRST_ITEM = Buffer.from('{"metadata":{');
const NEXT_ITEM = Buffer.from('},{"metadata":{');
const CLOSE_ARRAY = 0x5d;

/** A page's items, each parsed when the iteration reaches it. */
export interface ListItems<Item> extends Iterable<Item> {
  /** How many pieces the body was cut into (the items, unless a fallback parsed it whole). */
  readonly pieces: number;
}

export interface SplitPage<Item> {
  /** The list with `items: []`. */
  readonly head: unknown;
  readonly items: ListItems<Item>;
}

/**
 * Cuts a list body into its head and items, or null when it is not shaped as the apiserver writes
 * lists, or its items are smaller than `minItemBytes` on average (then parse it whole). Throws
 * nothing.
 */
export function splitListPage<Item>(body: Buffer, minItemBytes = 0): SplitPage<Item> | null {
  const at = body.indexOf(ITEMS);
  const close = body.lastIndexOf(CLOSE_ARRAY);
  if (at < 0 || close < at + ITEMS.length) return null;
  let head: unknown;
  try {
    // Also checks that `items` is the last member and what surrounds it is JSON.
    head = JSON.parse(`${body.toString('utf8', 0, at + ITEMS.length)}]${body.toString('utf8', close + 1)}`);
  } catch {
    return null;
  }
  const start = at + ITEMS.length;
  if (start === close) return { head, items: new Pieces<Item>(body, new Int32Array(0)) };
  if (body.compare(FIRST_ITEM, 0, FIRST_ITEM.length, start, start + FIRST_ITEM.length) !== 0) return null;
  let spans = new Int32Array(1024);
  let count = 0;
  let from = start;
  for (;;) {
    const next = body.indexOf(NEXT_ITEM, from);
    const end = next < 0 || next >= close ? close : next + 1;
    if (2 * count + 2 > spans.length) {
      const grown = new Int32Array(spans.length * 2);
      grown.set(spans);
      spans = grown;
    }
    spans[2 * count] = from;
    spans[2 * count + 1] = end;
    count++;
    if (end === close) break;
    from = end + 1;
  }
  if (count * minItemBytes > close - start) return null;
  return { head, items: new Pieces<Item>(body, spans.subarray(0, 2 * count)) };
}

class Pieces<Item> implements ListItems<Item> {
  readonly #body: Buffer;
  /** [start, end) of each piece in the body. */
  readonly #spans: Int32Array;

  constructor(body: Buffer, spans: Int32Array) {
    this.#body = body;
    this.#spans = spans;
  }

  get pieces(): number {
    return this.#spans.length / 2;
  }

  *[Symbol.iterator](): Iterator<Item> {
    const body = this.#body;
    const spans = this.#spans;
    for (let i = 0; i < spans.length; i += 2) {
      let item: Item;
      try {
        item = JSON.parse(body.toString('utf8', spans[i], spans[i + 1])) as Item;
      } catch {
        // A cut in the wrong place, or a broken item: the page whole, from its first item (those
        // taken already come again; taking an item twice is harmless), or its SyntaxError.
        const whole = JSON.parse(body.toString('utf8')) as { items?: unknown };
        if (!Array.isArray(whole.items)) throw new SyntaxError('the list has no items array');
        yield* whole.items as Item[];
        return;
      }
      yield item;
    }
  }
}
