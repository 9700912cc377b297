// Which /8, /16 and /24 networks hold a cluster address (a Service's ClusterIP or an
// EndpointSlice address), counted as addresses come and go: the reverse zone's empty
// non-terminals (`96.10.in-addr.arpa` above `1.1.96.10.in-addr.arpa`) exist while an address lies
// below them, and must then not be NXDOMAIN (RFC 8020 lets a cache drop everything below an
// NXDOMAIN). Small-integer keys, shared by every address of a network.

/** Keys: `octets × 2^24 + the network's leading octets`. */
const OCTETS = 2 ** 24;

export class V4Prefixes {
  /** /24 → its addresses; /16 and /8 → their /24s that hold one (so an address costs one update). */
  readonly #counts = new Map<number, number>();

  /** `address`: a 32-bit address (signed or not). */
  add(address: number): void {
    const key = keyOf(address, 3);
    const n = this.#counts.get(key) ?? 0;
    this.#counts.set(key, n + 1);
    if (n === 0) for (let octets = 1; octets <= 2; octets++) this.#bump(keyOf(address, octets), 1);
  }

  remove(address: number): void {
    const key = keyOf(address, 3);
    const n = this.#counts.get(key);
    if (n === undefined) return;
    if (n > 1) {
      this.#counts.set(key, n - 1);
      return;
    }
    this.#counts.delete(key);
    for (let octets = 1; octets <= 2; octets++) this.#bump(keyOf(address, octets), -1);
  }

  /** Whether an address starts with the first `octets` (1-3) octets of `address`. */
  has(address: number, octets: number): boolean {
    return this.#counts.has(keyOf(address, octets));
  }

  /** Networks counted (for tests). */
  get size(): number {
    return this.#counts.size;
  }

  #bump(key: number, delta: number): void {
    const n = (this.#counts.get(key) ?? 0) + delta;
    if (n > 0) this.#counts.set(key, n);
    else this.#counts.delete(key);
  }
}

function keyOf(address: number, octets: number): number {
  return octets * OCTETS + (address >>> (32 - 8 * octets));
}
