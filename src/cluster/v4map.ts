// A Map from IPv4 addresses (as 32-bit integers) to values, for the one table that has an entry
// per pod: with 150,000 pods a Map's backing store is ~7 MB (three 8-byte slots per entry plus
// buckets, at a power-of-two capacity); this open-addressing table keeps the keys in an Int32Array
// and the values in one array: ~3 MB. Linear probing at a load of at most 3/4, deletion by
// backward shift (no tombstones, so a table that churns stays as fast as a fresh one).

const MIN_CAPACITY = 1024;

export class V4Map<V> {
  #keys = new Int32Array(MIN_CAPACITY);
  /** undefined marks a free slot. */
  #values: (V | undefined)[] = new Array<V | undefined>(MIN_CAPACITY).fill(undefined);
  #mask = MIN_CAPACITY - 1;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Fibonacci hashing: consecutive addresses (a pod CIDR) spread over the table. */
  #home(key: number): number {
    return (Math.imul(key, 0x9e3779b1) >>> 0) & this.#mask;
  }

  #slot(key: number): number {
    let i = this.#home(key);
    while (this.#values[i] !== undefined) {
      if (this.#keys[i] === key) return i;
      i = (i + 1) & this.#mask;
    }
    return -1;
  }

  get(key: number): V | undefined {
    const i = this.#slot(key | 0);
    return i < 0 ? undefined : this.#values[i];
  }

  set(key: number, value: V): void {
    if (value === undefined) throw new TypeError('V4Map values cannot be undefined');
    key |= 0;
    let i = this.#home(key);
    while (this.#values[i] !== undefined) {
      if (this.#keys[i] === key) {
        this.#values[i] = value;
        return;
      }
      i = (i + 1) & this.#mask;
    }
    this.#keys[i] = key;
    this.#values[i] = value;
    this.#size++;
    if (this.#size * 4 > (this.#mask + 1) * 3) this.#resize((this.#mask + 1) * 2);
  }

  delete(key: number): boolean {
    let i = this.#slot(key | 0);
    if (i < 0) return false;
    this.#size--;
    // Backward shift: move later entries of the run into the hole when their home allows it.
    let j = i;
    for (;;) {
      j = (j + 1) & this.#mask;
      if (this.#values[j] === undefined) break;
      const home = this.#home(this.#keys[j] as number);
      // Entry j may fill hole i unless its home lies cyclically in (i, j].
      const between = i <= j ? home > i && home <= j : home > i || home <= j;
      if (between) continue;
      this.#keys[i] = this.#keys[j] as number;
      this.#values[i] = this.#values[j];
      i = j;
    }
    this.#values[i] = undefined;
    return true;
  }

  *entries(): IterableIterator<[number, V]> {
    for (let i = 0; i <= this.#mask; i++) {
      const value = this.#values[i];
      if (value !== undefined) yield [this.#keys[i] as number, value];
    }
  }

  #resize(capacity: number): void {
    const keys = this.#keys;
    const values = this.#values;
    this.#keys = new Int32Array(capacity);
    this.#values = new Array<V | undefined>(capacity).fill(undefined);
    this.#mask = capacity - 1;
    this.#size = 0;
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (value !== undefined) this.set(keys[i] as number, value);
    }
  }
}
