// Which IPv6 nibble prefixes (1-31 nibbles) hold a cluster address: the ip6.arpa reverse zone's
// empty non-terminals, as V4Prefixes is for in-addr.arpa. A prefix counts its children that
// exist (the 31-nibble one its addresses), so an address usually costs one update: its parent
// prefix exists already and nothing above it changes.
import { ipv6Bytes } from '../dns/writer.ts';

/** Nibbles of a full address. */
const NIBBLES = 32;
const HEX = '0123456789abcdef';

export class V6Prefixes {
  /** A prefix's hex digits (1-31 of them) → how many children it has (addresses at 31). */
  readonly #counts = new Map<string, number>();
  readonly #bytes = new Uint8Array(16);

  /** `ip`: an IPv6 address, any spelling; false when it is not one. */
  add(ip: string): boolean {
    const hex = this.#hexOf(ip);
    if (hex === null) return false;
    for (let length = NIBBLES - 1; length >= 1; length--) {
      const key = hex.slice(0, length);
      const n = this.#counts.get(key) ?? 0;
      this.#counts.set(key, n + 1);
      if (n > 0) break; // the prefix was there: nothing above it changes
    }
    return true;
  }

  remove(ip: string): void {
    const hex = this.#hexOf(ip);
    if (hex === null) return;
    for (let length = NIBBLES - 1; length >= 1; length--) {
      const key = hex.slice(0, length);
      const n = this.#counts.get(key);
      if (n === undefined) return;
      if (n > 1) {
        this.#counts.set(key, n - 1);
        return;
      }
      this.#counts.delete(key); // its last child went: one child fewer above
    }
  }

  /** Whether an address starts with `prefix`: 1-31 lowercase hex nibbles, most significant first. */
  has(prefix: string): boolean {
    return this.#counts.has(prefix);
  }

  /** Prefixes counted (for tests). */
  get size(): number {
    return this.#counts.size;
  }

  #hexOf(ip: string): string | null {
    if (!ipv6Bytes(ip, this.#bytes, 0)) return null;
    let hex = '';
    for (const b of this.#bytes) hex += HEX[b >> 4]! + HEX[b & 15]!;
    return hex;
  }
}
