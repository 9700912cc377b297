// A cache that a flood of names asked once cannot flush: W-TinyLFU (Einziger, Friedman, Manes,
// "TinyLFU: A Highly Efficient Cache Admission Policy"), chosen over LRU, a segmented LRU and 2Q
// by bench/cache-admission.ts. New entries wait in a window LRU (10 %); what leaves the window
// enters the main region only if the AccessSketch says it was asked more often than the entry it
// would push out. The main region is a segmented LRU: a second use moves an entry from probation
// to the protected 80 %, whose coldest steps back to probation when it is full.
// One Map finds an entry in any segment and each segment is an intrusive list, so a hit is one
// lookup and a relink (lru-cache is one cache per instance: three of them cost three lookups).

/** How often each key was asked lately; shared by the caches whose keys it counts. */
export class AccessSketch {
  /** 4-bit counts (in bytes), 16 per block: each key has 4 in one block, one per row. */
  readonly #counters: Uint8Array;
  /** The same bytes four at a time, for aging. */
  readonly #words: Uint32Array;
  readonly #blockMask: number;
  /** The doorkeeper: two bits per key in one word, set on its first sighting. */
  readonly #door: Uint32Array;
  readonly #doorMask: number;
  readonly #seed: number;
  /** Records between two halvings of one word; the cursor walks the table once a sample. */
  readonly #ageStride: number;
  #ageTick = 0;
  #ageCursor = 0;

  /**
   * Sized as Caffeine sizes its own (16 counters a cached entry, in cache-line blocks; a byte a
   * counter here): 2 × 10,000 entries take 544 KiB. Counts age by half once per 10 samples an
   * entry, so yesterday's popular names do not stay popular forever; the halving is spread over
   * the records (a few words at a time), never a sweep that stalls the event loop.
   */
  constructor(capacity: number, seed = (Math.random() * 0x100000000) >>> 0) {
    let blocks = 16;
    while (blocks < capacity) blocks *= 2;
    this.#counters = new Uint8Array(blocks * 16);
    this.#words = new Uint32Array(this.#counters.buffer);
    this.#blockMask = blocks - 1;
    this.#door = new Uint32Array(blocks / 4);
    this.#doorMask = blocks / 4 - 1;
    this.#seed = seed;
    this.#ageStride = Math.max(1, Math.ceil((10 * Math.max(capacity, 16)) / this.#words.length));
  }

  /** FNV-1a over the key's UTF-16 code units, seeded per process (collisions cannot be planned). */
  hash(key: string): number {
    let h = (0x811c9dc5 ^ this.#seed) >>> 0;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    return h >>> 0;
  }

  record(key: string): void {
    this.recordHash(this.hash(key));
  }

  /** One use of the key whose hash() is `h`. */
  recordHash(h: number): void {
    if (++this.#ageTick === this.#ageStride) this.#age();
    const g = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
    const word = (Math.imul(h, 0x9e3779b1) >>> 0) & this.#doorMask;
    const bits = (1 << (g & 31)) | (1 << ((g >>> 5) & 31));
    const door = this.#door;
    if ((door[word]! & bits) !== bits) {
      door[word] = door[word]! | bits;
      return;
    }
    const counters = this.#counters;
    const block = (h & this.#blockMask) << 4;
    for (let row = 0; row < 4; row++) {
      const at = block + (row << 2) + ((g >>> (10 + 2 * row)) & 3);
      if (counters[at]! < 15) counters[at]!++;
    }
  }

  frequency(h: number): number {
    const g = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
    const bits = (1 << (g & 31)) | (1 << ((g >>> 5) & 31));
    const seen = (this.#door[(Math.imul(h, 0x9e3779b1) >>> 0) & this.#doorMask]! & bits) === bits;
    const block = (h & this.#blockMask) << 4;
    let min = 15;
    for (let row = 0; row < 4; row++) min = Math.min(min, this.#counters[block + (row << 2) + ((g >>> (10 + 2 * row)) & 3)]!);
    return min + (seen ? 1 : 0);
  }

  /** Halves the next four counters (each byte holds at most 15, so the shift leaks nothing between them). */
  #age(): void {
    this.#ageTick = 0;
    const words = this.#words;
    const at = this.#ageCursor;
    words[at] = (words[at]! >>> 1) & 0x7f7f7f7f;
    if (++this.#ageCursor === words.length) {
      this.#ageCursor = 0;
      this.#door.fill(0);
    }
  }
}

const WINDOW = 0;
const PROBATION = 1;
const PROTECTED = 2;

interface Node<V> {
  readonly key: string;
  readonly hash: number;
  value: V;
  segment: number;
  prev: Node<V>;
  next: Node<V>;
}

/** A segment: a circular list around a sentinel, coldest first (sentinel.next), hottest last. */
class Segment<V> {
  readonly sentinel: Node<V>;
  size = 0;

  constructor() {
    // Same shape as every node (fields in the same order), so the list code stays monomorphic.
    const s = { key: '', hash: 0, value: undefined as V, segment: -1, prev: null, next: null } as unknown as Node<V>;
    s.prev = s;
    s.next = s;
    this.sentinel = s;
  }

  coldest(): Node<V> | null {
    return this.size === 0 ? null : this.sentinel.next;
  }

  append(n: Node<V>, segment: number): void {
    const last = this.sentinel.prev;
    n.prev = last;
    n.next = this.sentinel;
    last.next = n;
    this.sentinel.prev = n;
    n.segment = segment;
    this.size++;
  }

  unlink(n: Node<V>): void {
    n.prev.next = n.next;
    n.next.prev = n.prev;
    this.size--;
  }
}

export interface TinyLfuOptions<V> {
  readonly max: number;
  readonly sketch: AccessSketch;
  /** Share of `max` for the window (default 0.1). */
  readonly window?: number;
  /** An entry left: replaced or deleted (`evicted` false), or pushed out or turned away (true). */
  readonly onRemove?: (value: V, key: string, evicted: boolean) => void;
}

export class TinyLfuCache<V> {
  readonly #map = new Map<string, Node<V>>();
  readonly #window = new Segment<V>();
  readonly #probation = new Segment<V>();
  readonly #protected = new Segment<V>();
  readonly #windowMax: number;
  readonly #mainMax: number;
  readonly #protectedMax: number;
  readonly #sketch: AccessSketch;
  readonly #onRemove: ((value: V, key: string, evicted: boolean) => void) | undefined;

  constructor(options: TinyLfuOptions<V>) {
    if (!(options.max >= 1)) throw new RangeError('a TinyLfuCache holds at least one entry');
    this.#windowMax = Math.max(1, Math.round(options.max * (options.window ?? 0.1)));
    this.#mainMax = options.max - this.#windowMax;
    this.#protectedMax = Math.floor(this.#mainMax * 0.8);
    this.#sketch = options.sketch;
    this.#onRemove = options.onRemove;
  }

  get size(): number {
    return this.#map.size;
  }

  /** The value for `key`, as a use (a second one protects it). The caller counts uses in the sketch. */
  get(key: string): V | undefined {
    const n = this.#map.get(key);
    if (n === undefined) return undefined;
    if (n.segment === PROTECTED) {
      this.#protected.unlink(n);
      this.#protected.append(n, PROTECTED);
    } else if (n.segment === WINDOW) {
      this.#window.unlink(n);
      this.#window.append(n, WINDOW);
    } else {
      this.#probation.unlink(n);
      this.#protected.append(n, PROTECTED);
      if (this.#protected.size > this.#protectedMax) {
        const demoted = this.#protected.coldest()!;
        this.#protected.unlink(demoted);
        this.#probation.append(demoted, PROBATION);
      }
    }
    return n.value;
  }

  peek(key: string): V | undefined {
    return this.#map.get(key)?.value;
  }

  /** The keys held, in no order (a reload's purge walks them once). */
  keys(): IterableIterator<string> {
    return this.#map.keys();
  }

  /** Stores `value`: in place of the entry for `key`, or new, in the window. */
  set(key: string, value: V): void {
    const known = this.#map.get(key);
    if (known !== undefined) {
      const old = known.value;
      known.value = value;
      this.#onRemove?.(old, key, false);
      return;
    }
    const n: Node<V> = {
      key,
      hash: this.#sketch.hash(key),
      value,
      segment: WINDOW,
      prev: this.#window.sentinel,
      next: this.#window.sentinel,
    };
    this.#map.set(key, n);
    this.#window.append(n, WINDOW);
    if (this.#window.size > this.#windowMax) {
      const candidate = this.#window.coldest()!;
      this.#window.unlink(candidate);
      this.#admit(candidate);
    }
  }

  delete(key: string): boolean {
    const n = this.#map.get(key);
    if (n === undefined) return false;
    this.#segment(n).unlink(n);
    this.#map.delete(key);
    this.#onRemove?.(n.value, key, false);
    return true;
  }

  /** What leaves the window: into probation if there is room or it is asked more often than probation's coldest. */
  #admit(candidate: Node<V>): void {
    if (this.#probation.size + this.#protected.size < this.#mainMax) {
      this.#probation.append(candidate, PROBATION);
      return;
    }
    const victim = this.#probation.coldest() ?? this.#protected.coldest();
    if (victim !== null && this.#sketch.frequency(candidate.hash) > this.#sketch.frequency(victim.hash)) {
      this.#segment(victim).unlink(victim);
      this.#evict(victim);
      this.#probation.append(candidate, PROBATION);
    } else {
      this.#evict(candidate);
    }
  }

  #segment(n: Node<V>): Segment<V> {
    return n.segment === WINDOW ? this.#window : n.segment === PROBATION ? this.#probation : this.#protected;
  }

  #evict(n: Node<V>): void {
    this.#map.delete(n.key);
    this.#onRemove?.(n.value, n.key, true);
  }
}
