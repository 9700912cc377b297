// The zone's prepared replies: each built once and kept as encoded bytes, so a repeated question
// costs one Map lookup. A reply stays good until the part of the index it was read from changes
// (its Scope's generation moves on); a new index epoch (a relist from scratch) drops them all, and
// so does reaching the bound, which keeps memory flat under random names.
import type { Scope } from '../index/index.ts';
import type { Reply } from '../dns/message.ts';

/** A prepared reply and the generation of the scope it was read from. */
class Prepared {
  readonly reply: Reply | null;
  readonly scope: Scope;
  readonly gen: number;
  constructor(reply: Reply | null, scope: Scope, gen: number) {
    this.reply = reply;
    this.scope = scope;
    this.gen = gen;
  }
}

export class PreparedReplies {
  /**
   * By qtype, then name: keying by the name string the query reader made saves building (and
   * hashing) a `type|name` string per query. Types ≥ 256 share the last slot's map with the type
   * in the key.
   */
  readonly #byType: Map<string, Prepared>[] = Array.from({ length: 257 }, () => new Map());
  readonly #max: number;
  #count = 0;
  #epoch = -1;

  /** `max`: most replies kept before starting over. */
  constructor(max: number) {
    this.#max = max;
  }

  /**
   * The reply prepared for `name` and `type` while its scope is unchanged (null: prepared as not
   * the zone's); undefined when there is none to serve. `epoch` is the index's: a new one drops all.
   */
  get(name: string, type: number, epoch: number): Reply | null | undefined {
    if (this.#epoch !== epoch) {
      this.#clear();
      this.#epoch = epoch;
    }
    const entry = (this.#byType[Math.min(type, 256)] as Map<string, Prepared>).get(type < 256 ? name : `${type}|${name}`);
    return entry !== undefined && entry.gen === entry.scope.gen ? entry.reply : undefined;
  }

  /** Keeps `reply`, read from `scope` just now (its generation as it is), in place of any older one. */
  set(name: string, type: number, reply: Reply | null, scope: Scope): void {
    const map = this.#byType[Math.min(type, 256)] as Map<string, Prepared>;
    const key = type < 256 ? name : `${type}|${name}`;
    if (!map.has(key)) {
      if (this.#count >= this.#max) this.#clear();
      this.#count++;
    }
    map.set(key, new Prepared(reply, scope, scope.gen));
  }

  #clear(): void {
    if (this.#count === 0) return;
    for (const map of this.#byType) if (map.size > 0) map.clear();
    this.#count = 0;
  }
}
