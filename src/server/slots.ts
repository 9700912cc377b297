// Connection slots shared by every listener of one kind: a cap per source address and a global
// cap, where a full pool closes its longest-idle connection to admit a newcomer instead of
// refusing it (RFC 7766 §6.2.2 per-client limits, §6.2.3 closing idle connections under load).
// Every update is O(1): a Map of counts by address, and an intrusive list of the idle
// connections, least recently active first.

/** What a slot's owner does when its connection is chosen to make room: close it, now. */
export interface Evictable {
  evict(): void;
}

export class Slot {
  readonly address: string;
  /** Set by whoever took the slot, once its connection exists. */
  owner: Evictable | null = null;
  prev: Slot | null = null;
  next: Slot | null = null;
  /** In the idle list (nothing in flight); only idle slots are ever evicted. */
  idle = false;
  released = false;

  constructor(address: string) {
    this.address = address;
  }
}

/**
 * --tcp-max-conns-per-client's default: a tenth of the pool (100 of 1000), at least 1. Loose, as
 * RFC 7766 asks: one address may be many clients (a node's NodeLocal DNSCache, a NAT).
 */
export function defaultPerClient(maxConnections: number): number {
  return Math.max(1, Math.ceil(maxConnections / 10));
}

/** Why a connection was not admitted. */
export type Refusal = 'client_limit' | 'full';

export class ConnectionSlots {
  readonly maxConnections: number;
  readonly maxPerClient: number;
  #count = 0;
  readonly #perClient = new Map<string, number>();
  #head: Slot | null = null;
  #tail: Slot | null = null;

  constructor(maxConnections: number, maxPerClient: number) {
    this.maxConnections = maxConnections;
    this.maxPerClient = maxPerClient;
  }

  get size(): number {
    return this.#count;
  }

  /** Connections held by `address` (for tests and diagnostics). */
  heldBy(address: string): number {
    return this.#perClient.get(address) ?? 0;
  }

  /**
   * A slot for a new connection from `address`, which starts idle; or the refusal. At the global
   * cap the longest-idle connection is evicted first (its owner closes and counts it).
   */
  take(address: string): Slot | Refusal {
    const held = this.#perClient.get(address) ?? 0;
    if (held >= this.maxPerClient) return 'client_limit';
    if (this.#count >= this.maxConnections) {
      const victim = this.#head;
      if (victim === null) return 'full';
      this.release(victim);
      victim.owner?.evict();
    }
    const slot = new Slot(address);
    this.#perClient.set(address, held + 1);
    this.#count++;
    this.#append(slot);
    return slot;
  }

  /** The connection did something (a query read, a reply written): it becomes the most recent. */
  touch(slot: Slot): void {
    if (slot.released) return;
    if (slot.idle) {
      if (slot === this.#tail) return;
      this.#unlink(slot);
    }
    this.#append(slot);
  }

  /** Queries are in flight: not a candidate for eviction until touch() makes it idle again. */
  busy(slot: Slot): void {
    if (slot.idle) this.#unlink(slot);
  }

  /** The connection is gone. Idempotent. */
  release(slot: Slot): void {
    if (slot.released) return;
    slot.released = true;
    if (slot.idle) this.#unlink(slot);
    this.#count--;
    const held = (this.#perClient.get(slot.address) ?? 1) - 1;
    if (held <= 0) this.#perClient.delete(slot.address);
    else this.#perClient.set(slot.address, held);
  }

  #append(slot: Slot): void {
    slot.prev = this.#tail;
    slot.next = null;
    if (this.#tail !== null) this.#tail.next = slot;
    else this.#head = slot;
    this.#tail = slot;
    slot.idle = true;
  }

  #unlink(slot: Slot): void {
    if (slot.prev !== null) slot.prev.next = slot.next;
    else this.#head = slot.next;
    if (slot.next !== null) slot.next.prev = slot.prev;
    else this.#tail = slot.prev;
    slot.prev = null;
    slot.next = null;
    slot.idle = false;
  }
}
