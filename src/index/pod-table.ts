// The table of plain pods (`ns/name` → the pod's IPv4 address as an int32, or its addresses
// joined by ' '), one entry per pod of the cluster. A Map of 150,000 entries has a ~7 MB backing
// store and its 150,000 key strings another ~4.5 MB; this open-addressing table keeps each key as
// UTF-8 bytes in one arena (a 2-byte length, then the bytes: ~17 bytes a pod) and a slot's arena
// offset and address in two Int32Arrays: ~4.5 MB in all. Pods with other addresses (IPv6,
// dual-stack) are kept in a plain Map beside it. Linear probing at a load of at most 3/4,
// deletion by backward shift; the arena is compacted when more than half of it is dead keys.
// A relist marks the pods it lists (one byte a slot) and then removes the unmarked ones, instead
// of holding a set of 150,000 key strings (~15 MB) while it runs.

const MIN_CAPACITY = 1024;
const MIN_ARENA = 16 * 1024;
/** Keys are stored with a 2-byte length; longer ones (no valid pod name is) go to the Map. */
const MAX_KEY_BYTES = 0xffff;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** FNV-1a over bytes: pod keys are short, and a hash per pod event is cheap. */
function hashBytes(bytes: Uint8Array, start: number, length: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < start + length; i++) h = Math.imul(h ^ (bytes[i] as number), 0x01000193);
  return h | 0;
}

/** The key stored at `offset` of an arena. */
function keyAt(arena: Uint8Array, offset: number): string {
  const start = offset + 2;
  return decoder.decode(arena.subarray(start, start + ((arena[offset] as number) | ((arena[offset + 1] as number) << 8))));
}

/**
 * The table as it was when copy() was called, readable while the table goes on changing: its
 * entries, and slot by slot for a reader that wants the keys' bytes without a string per pod
 * (the snapshot writer). Nothing is copied when it is taken: the table saves a block of slots
 * into it only before changing that block (copy-on-write), and the arena is never rewritten
 * below the length it had (keys are appended; a compaction makes a new arena).
 */
export interface PlainPodsCopy extends Iterable<[string, number | string]> {
  /** Slots to read, 0 to slots - 1. */
  readonly slots: number;
  /** 1 + the arena offset of slot `i`'s key (a 2-byte little-endian length, then UTF-8), or 0. */
  at(i: number): number;
  /** Slot `i`'s IPv4 address as an int32. */
  v4(i: number): number;
  readonly arena: Uint8Array;
  /** The pods with other addresses (IPv6, several), kept apart. */
  readonly other: readonly [string, number | string][];
  /** The reader is done: the table stops saving blocks for it. */
  release(): void;
}

/** Slots saved together before a change (16 KiB of each array). */
const BLOCK_BITS = 12;
const BLOCK_MASK = (1 << BLOCK_BITS) - 1;

/** What a copy reads: the table's arrays as they were, and the blocks saved before they changed. */
interface CopyState {
  readonly at: Int32Array;
  readonly v4: Int32Array;
  readonly savedAt: (Int32Array | undefined)[];
  readonly savedV4: (Int32Array | undefined)[];
}

export class PlainPodTable {
  /** Per slot: 1 + the arena offset of its key, 0 for a free slot. */
  #at = new Int32Array(MIN_CAPACITY);
  #v4 = new Int32Array(MIN_CAPACITY);
  /** Per slot: 1 when the relist under way has listed its pod. */
  #marked = new Uint8Array(MIN_CAPACITY);
  #mask = MIN_CAPACITY - 1;
  #count = 0;
  #arena = new Uint8Array(MIN_ARENA);
  #arenaUsed = 0;
  /** Bytes of the arena held by keys still in the table. */
  #arenaLive = 0;
  /** The key being looked up, encoded once per call. */
  #scratch = new Uint8Array(512);
  #scratchLength = 0;
  // A pod's upsert looks its key up to three times (get, unlink, set): the key in the scratch
  // buffer and the slot found for it are kept until another key, or a change to the table.
  #scratchKey: string | null = null;
  #scratchFits = false;
  #changes = 0;
  #foundSlot = -1;
  #foundAtChange = -1;
  readonly #other = new Map<string, number | string>();
  /**
   * The copies still being read (weakly, so a copy nobody releases costs nothing once it is
   * gone): a slot of the arrays they read is saved into them before it changes.
   */
  #copies: WeakRef<CopyState>[] = [];
  /** The marked keys of `#other` (pods with IPv6 or several addresses). */
  readonly #otherMarked = new Set<string>();

  get size(): number {
    return this.#count + this.#other.size;
  }

  /** The arena's size in bytes: churn must not grow it past a few times the live keys. */
  get arenaBytes(): number {
    return this.#arena.length;
  }

  /** Encodes `key` into the scratch buffer; false when it is too long for the arena. */
  #encode(key: string): boolean {
    if (key === this.#scratchKey) return this.#scratchFits;
    this.#foundAtChange = -1;
    for (;;) {
      const { read, written } = encoder.encodeInto(key, this.#scratch);
      if (read === key.length) {
        this.#scratchLength = written;
        this.#scratchKey = key;
        this.#scratchFits = written <= MAX_KEY_BYTES;
        return this.#scratchFits;
      }
      this.#scratch = new Uint8Array(this.#scratch.length * 4);
    }
  }

  #keyLength(offset: number): number {
    return (this.#arena[offset] as number) | ((this.#arena[offset + 1] as number) << 8);
  }

  #home(offset: number): number {
    return hashBytes(this.#arena, offset + 2, this.#keyLength(offset)) & this.#mask;
  }

  /** The slot holding the key in the scratch buffer, or -1. */
  #slot(): number {
    if (this.#foundAtChange === this.#changes) return this.#foundSlot;
    this.#foundSlot = this.#probe();
    this.#foundAtChange = this.#changes;
    return this.#foundSlot;
  }

  #probe(): number {
    const length = this.#scratchLength;
    const scratch = this.#scratch;
    const arena = this.#arena;
    let i = hashBytes(scratch, 0, length) & this.#mask;
    for (;;) {
      const at = this.#at[i] as number;
      if (at === 0) return -1;
      const offset = at - 1;
      if (this.#keyLength(offset) === length) {
        let k = 0;
        while (k < length && arena[offset + 2 + k] === scratch[k]) k++;
        if (k === length) return i;
      }
      i = (i + 1) & this.#mask;
    }
  }

  get(key: string): number | string | undefined {
    const i = this.#encode(key) ? this.#slot() : -1;
    return i >= 0 ? (this.#v4[i] as number) : this.#other.get(key);
  }

  /** `value`: an int32 (one IPv4 address) or a string (anything else). */
  set(key: string, value: number | string): void {
    this.delete(key);
    // delete() left the key encoded in the scratch buffer.
    if (typeof value === 'string' || this.#scratchLength > MAX_KEY_BYTES) {
      this.#other.set(key, value);
      return;
    }
    this.#insert(this.#store(), value | 0, 0);
    if (this.#count * 4 > (this.#mask + 1) * 3) this.#resize((this.#mask + 1) * 2);
  }

  /** Appends the scratch key to the arena; returns its offset. */
  #store(): number {
    const need = 2 + this.#scratchLength;
    if (this.#arenaUsed + need > this.#arena.length) this.#makeRoom(need);
    const offset = this.#arenaUsed;
    this.#arena[offset] = this.#scratchLength & 0xff;
    this.#arena[offset + 1] = this.#scratchLength >>> 8;
    this.#arena.set(this.#scratch.subarray(0, this.#scratchLength), offset + 2);
    this.#arenaUsed += need;
    this.#arenaLive += need;
    return offset;
  }

  /** Compacts the arena when most of it is dead keys, else doubles it. */
  #makeRoom(need: number): void {
    this.#changes++;
    // Every slot's offset changes below.
    if (this.#copies.length > 0) for (let block = 0; block << BLOCK_BITS < this.#at.length; block++) this.#saveBlock(block << BLOCK_BITS);
    const live = this.#arenaLive + need;
    let size = this.#arena.length;
    while (live * 2 > size) size *= 2;
    const old = this.#arena;
    const arena = new Uint8Array(Math.max(size, MIN_ARENA));
    let used = 0;
    for (let i = 0; i <= this.#mask; i++) {
      const at = this.#at[i] as number;
      if (at === 0) continue;
      const length = 2 + ((old[at - 1] as number) | ((old[at] as number) << 8));
      arena.set(old.subarray(at - 1, at - 1 + length), used);
      this.#at[i] = used + 1;
      used += length;
    }
    this.#arena = arena;
    this.#arenaUsed = used;
    this.#arenaLive = used;
  }

  #insert(offset: number, v4: number, marked: number): void {
    this.#changes++;
    let i = this.#home(offset);
    while (this.#at[i] !== 0) i = (i + 1) & this.#mask;
    if (this.#copies.length > 0) this.#saveBlock(i);
    this.#at[i] = offset + 1;
    this.#v4[i] = v4;
    this.#marked[i] = marked;
    this.#count++;
  }

  delete(key: string): boolean {
    let i = this.#encode(key) ? this.#slot() : -1;
    if (i < 0) {
      this.#otherMarked.delete(key);
      return this.#other.delete(key);
    }
    this.#changes++;
    this.#count--;
    this.#arenaLive -= 2 + this.#keyLength((this.#at[i] as number) - 1);
    // Backward shift: move later entries of the run into the hole when their home allows it.
    let j = i;
    for (;;) {
      j = (j + 1) & this.#mask;
      const at = this.#at[j] as number;
      if (at === 0) break;
      const home = this.#home(at - 1);
      // Entry j may fill hole i unless its home lies cyclically in (i, j].
      const between = i <= j ? home > i && home <= j : home > i || home <= j;
      if (between) continue;
      if (this.#copies.length > 0) this.#saveBlock(i);
      this.#at[i] = at;
      this.#v4[i] = this.#v4[j] as number;
      this.#marked[i] = this.#marked[j] as number;
      i = j;
    }
    if (this.#copies.length > 0) this.#saveBlock(i);
    this.#at[i] = 0;
    this.#marked[i] = 0;
    return true;
  }

  /** Marks the entry of `key`, if there is one, as listed by the relist under way. */
  mark(key: string): void {
    const i = this.#encode(key) ? this.#slot() : -1;
    if (i >= 0) this.#marked[i] = 1;
    else if (this.#other.has(key)) this.#otherMarked.add(key);
  }

  /** The keys the relist under way has not marked. */
  unmarkedKeys(): string[] {
    const keys: string[] = [];
    for (let i = 0; i <= this.#mask; i++) {
      const at = this.#at[i] as number;
      if (at !== 0 && this.#marked[i] === 0) keys.push(this.#keyAt(at - 1));
    }
    for (const key of this.#other.keys()) if (!this.#otherMarked.has(key)) keys.push(key);
    return keys;
  }

  /** Forgets every mark: a relist starts (or ended). */
  clearMarks(): void {
    this.#marked.fill(0);
    this.#otherMarked.clear();
  }

  #keyAt(offset: number): string {
    return keyAt(this.#arena, offset);
  }

  *[Symbol.iterator](): IterableIterator<[string, number | string]> {
    for (let i = 0; i <= this.#mask; i++) {
      const at = this.#at[i] as number;
      if (at === 0) continue;
      yield [this.#keyAt(at - 1), this.#v4[i] as number];
    }
    yield* this.#other;
  }

  /** The entries as they are now, to be read later while the table goes on changing (PlainPodsCopy). */
  copy(): PlainPodsCopy {
    const state: CopyState = { at: this.#at, v4: this.#v4, savedAt: [], savedV4: [] };
    const ref = new WeakRef(state);
    this.#copies.push(ref);
    const other = [...this.#other];
    const arena = this.#arena.subarray(0, this.#arenaUsed);
    const at = (i: number) => state.savedAt[i >>> BLOCK_BITS]?.[i & BLOCK_MASK] ?? (state.at[i] as number);
    const v4 = (i: number) => state.savedV4[i >>> BLOCK_BITS]?.[i & BLOCK_MASK] ?? (state.v4[i] as number);
    return {
      slots: state.at.length,
      at,
      v4,
      arena,
      other,
      release: () => {
        this.#copies = this.#copies.filter((r) => r !== ref);
      },
      *[Symbol.iterator]() {
        for (let i = 0; i < state.at.length; i++) {
          const a = at(i);
          if (a !== 0) yield [keyAt(arena, a - 1), v4(i)];
        }
        yield* other;
      },
    };
  }

  /** Before slot `i` of the arrays changes: its block is saved into every copy that reads these arrays and lacks it. */
  #saveBlock(i: number): void {
    const block = i >>> BLOCK_BITS;
    let gone = false;
    for (const ref of this.#copies) {
      const copy = ref.deref();
      if (copy === undefined) {
        gone = true;
        continue;
      }
      if (copy.at !== this.#at || copy.savedAt[block] !== undefined) continue;
      const from = block << BLOCK_BITS;
      copy.savedAt[block] = this.#at.slice(from, from + BLOCK_MASK + 1);
      copy.savedV4[block] = this.#v4.slice(from, from + BLOCK_MASK + 1);
    }
    if (gone) this.#copies = this.#copies.filter((r) => r.deref() !== undefined);
  }

  #resize(capacity: number): void {
    const at = this.#at;
    const v4 = this.#v4;
    const marked = this.#marked;
    this.#at = new Int32Array(capacity);
    this.#v4 = new Int32Array(capacity);
    this.#marked = new Uint8Array(capacity);
    this.#mask = capacity - 1;
    this.#count = 0;
    for (let i = 0; i < at.length; i++) {
      const a = at[i] as number;
      if (a !== 0) this.#insert(a - 1, v4[i] as number, marked[i] as number);
    }
  }
}
