// A Map from IPv4 addresses (as 32-bit integers) to values, for the one table that has an entry
// per pod: with 150,000 pods a Map's backing store is ~7 MB (three 8-byte slots per entry plus
// buckets, at a power-of-two capacity). This open-addressing table keeps the keys in an Int32Array
// and, since its values repeat (a namespace name per pod), each distinct value once with a count
// of its uses and a slot's value as an id in a second Int32Array: ~2 MB. Linear probing at a load
// of at most 3/4, deletion by backward shift (no tombstones, so a table that churns stays as fast
// as a fresh one).

const MIN_CAPACITY = 1024;

export class V4Map<V> {
  #keys = new Int32Array(MIN_CAPACITY);
  /** Per slot: 1 + the id of its value, 0 for a free slot. */
  #ids = new Int32Array(MIN_CAPACITY);
  #mask = MIN_CAPACITY - 1;
  #size = 0;
  /** Distinct values by id (compared as Map keys are), with the number of slots holding each. */
  readonly #values: (V | undefined)[] = [];
  readonly #uses: number[] = [];
  readonly #idOf = new Map<V, number>();
  readonly #freeIds: number[] = [];

  get size(): number {
    return this.#size;
  }

  /** How many distinct values are held: bounded by the entries, however much they churn. */
  get distinctValues(): number {
    return this.#idOf.size;
  }

  /** 1 + the id of `value`, its use counted. */
  #acquire(value: V): number {
    let id = this.#idOf.get(value);
    if (id === undefined) {
      id = this.#freeIds.pop() ?? this.#values.length;
      this.#values[id] = value;
      this.#uses[id] = 0;
      this.#idOf.set(value, id);
    }
    this.#uses[id]!++;
    return id + 1;
  }

  #release(ref: number): void {
    const id = ref - 1;
    if (--this.#uses[id]! > 0) return;
    this.#idOf.delete(this.#values[id] as V);
    this.#values[id] = undefined;
    this.#freeIds.push(id);
  }

  /** Fibonacci hashing: consecutive addresses (a pod CIDR) spread over the table. */
  #home(key: number): number {
    return (Math.imul(key, 0x9e3779b1) >>> 0) & this.#mask;
  }

  #slot(key: number): number {
    let i = this.#home(key);
    while (this.#ids[i] !== 0) {
      if (this.#keys[i] === key) return i;
      i = (i + 1) & this.#mask;
    }
    return -1;
  }

  get(key: number): V | undefined {
    const i = this.#slot(key | 0);
    return i < 0 ? undefined : this.#values[(this.#ids[i] as number) - 1];
  }

  set(key: number, value: V): void {
    if (value === undefined) throw new TypeError('V4Map values cannot be undefined');
    key |= 0;
    let i = this.#home(key);
    while (this.#ids[i] !== 0) {
      if (this.#keys[i] === key) {
        const old = this.#ids[i] as number;
        this.#ids[i] = this.#acquire(value);
        this.#release(old);
        return;
      }
      i = (i + 1) & this.#mask;
    }
    this.#keys[i] = key;
    this.#ids[i] = this.#acquire(value);
    this.#size++;
    if (this.#size * 4 > (this.#mask + 1) * 3) this.#resize((this.#mask + 1) * 2);
  }

  delete(key: number): boolean {
    let i = this.#slot(key | 0);
    if (i < 0) return false;
    this.#size--;
    this.#release(this.#ids[i] as number);
    // Backward shift: move later entries of the run into the hole when their home allows it.
    let j = i;
    for (;;) {
      j = (j + 1) & this.#mask;
      if (this.#ids[j] === 0) break;
      const home = this.#home(this.#keys[j] as number);
      // Entry j may fill hole i unless its home lies cyclically in (i, j].
      const between = i <= j ? home > i && home <= j : home > i || home <= j;
      if (between) continue;
      this.#keys[i] = this.#keys[j] as number;
      this.#ids[i] = this.#ids[j] as number;
      i = j;
    }
    this.#ids[i] = 0;
    return true;
  }

  *entries(): IterableIterator<[number, V]> {
    for (let i = 0; i <= this.#mask; i++) {
      const ref = this.#ids[i] as number;
      if (ref !== 0) yield [this.#keys[i] as number, this.#values[ref - 1] as V];
    }
  }

  /** Moves every entry (its value id unchanged) into tables of `capacity` slots. */
  #resize(capacity: number): void {
    const keys = this.#keys;
    const ids = this.#ids;
    this.#keys = new Int32Array(capacity);
    this.#ids = new Int32Array(capacity);
    this.#mask = capacity - 1;
    for (let j = 0; j < ids.length; j++) {
      const ref = ids[j] as number;
      if (ref === 0) continue;
      const key = keys[j] as number;
      let i = this.#home(key);
      while (this.#ids[i] !== 0) i = (i + 1) & this.#mask;
      this.#keys[i] = key;
      this.#ids[i] = ref;
    }
  }
}
