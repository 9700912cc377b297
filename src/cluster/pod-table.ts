// The table of plain pods (`ns/name` → the pod's IPv4 address as an int32, or its addresses
// joined by ' '), one entry per pod of the cluster. A Map of 150,000 entries has a ~7 MB backing
// store; this open-addressing table keeps the keys in one array and the addresses and key hashes
// in Int32Arrays (~4 MB at the same size). Pods with other addresses (IPv6, dual-stack) are kept
// in a plain Map beside it. Linear probing at a load of at most 3/4, deletion by backward shift.

const MIN_CAPACITY = 1024;

/** FNV-1a over the UTF-16 code units: pod keys are short, and a hash per pod event is cheap. */
function hashOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h | 0;
}

export class PlainPodTable {
  #keys: (string | undefined)[] = new Array<string | undefined>(MIN_CAPACITY).fill(undefined);
  #hashes = new Int32Array(MIN_CAPACITY);
  #v4 = new Int32Array(MIN_CAPACITY);
  #mask = MIN_CAPACITY - 1;
  #count = 0;
  readonly #other = new Map<string, string>();

  get size(): number {
    return this.#count + this.#other.size;
  }

  #slot(key: string, hash: number): number {
    let i = hash & this.#mask;
    for (;;) {
      const k = this.#keys[i];
      if (k === undefined) return -1;
      if (this.#hashes[i] === hash && k === key) return i;
      i = (i + 1) & this.#mask;
    }
  }

  get(key: string): number | string | undefined {
    const i = this.#slot(key, hashOf(key));
    return i >= 0 ? (this.#v4[i] as number) : this.#other.get(key);
  }

  /** `value`: an int32 (one IPv4 address) or a string (anything else). */
  set(key: string, value: number | string): void {
    this.delete(key);
    if (typeof value === 'string') {
      this.#other.set(key, value);
      return;
    }
    this.#insert(key, hashOf(key), value | 0);
    if (this.#count * 4 > (this.#mask + 1) * 3) this.#resize((this.#mask + 1) * 2);
  }

  #insert(key: string, hash: number, v4: number): void {
    let i = hash & this.#mask;
    while (this.#keys[i] !== undefined) i = (i + 1) & this.#mask;
    this.#keys[i] = key;
    this.#hashes[i] = hash;
    this.#v4[i] = v4;
    this.#count++;
  }

  delete(key: string): boolean {
    let i = this.#slot(key, hashOf(key));
    if (i < 0) return this.#other.delete(key);
    this.#count--;
    // Backward shift: move later entries of the run into the hole when their home allows it.
    let j = i;
    for (;;) {
      j = (j + 1) & this.#mask;
      if (this.#keys[j] === undefined) break;
      const home = (this.#hashes[j] as number) & this.#mask;
      // Entry j may fill hole i unless its home lies cyclically in (i, j].
      const between = i <= j ? home > i && home <= j : home > i || home <= j;
      if (between) continue;
      this.#keys[i] = this.#keys[j];
      this.#hashes[i] = this.#hashes[j] as number;
      this.#v4[i] = this.#v4[j] as number;
      i = j;
    }
    this.#keys[i] = undefined;
    return true;
  }

  *keys(): IterableIterator<string> {
    for (const [key] of this) yield key;
  }

  *[Symbol.iterator](): IterableIterator<[string, number | string]> {
    for (let i = 0; i <= this.#mask; i++) {
      const key = this.#keys[i];
      if (key !== undefined) yield [key, this.#v4[i] as number];
    }
    yield* this.#other;
  }

  #resize(capacity: number): void {
    const keys = this.#keys;
    const hashes = this.#hashes;
    const v4 = this.#v4;
    this.#keys = new Array<string | undefined>(capacity).fill(undefined);
    this.#hashes = new Int32Array(capacity);
    this.#v4 = new Int32Array(capacity);
    this.#mask = capacity - 1;
    this.#count = 0;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (key !== undefined) this.#insert(key, hashes[i] as number, v4[i] as number);
    }
  }
}
