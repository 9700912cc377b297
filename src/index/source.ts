// What feeds the index: the API server's watches (src/kube/), the manifests files (manifests.ts)
// or, in a --workers replica, the watching process (src/replica/). Each source owns its
// lifecycle, so app.ts only wires one: it starts and stops, says when every kind has had a full
// list, tells listeners of each full list, and gives back the memory a full load leaves behind.
import { type Kind, KINDS } from '../objects/kinds.ts';
import type { Logger } from '../base/log.ts';
import { memoryReleaser, type MemoryReleaser } from '../base/memory.ts';

/** A kind finished a full list: its first (`first`), or a relist or reload after that. */
export type ListedListener = (kind: Kind, first: boolean) => void;

export interface Source {
  /** Starts feeding the index; resolves once it runs (a source whose first load fails rejects). Once. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Every kind has had its first full list from this source. */
  synced(): boolean;
  onListed(listener: ListedListener): void;
}

/**
 * What every source keeps the same way: the kinds listed so far, the listeners, and the memory
 * release after a full load (a load parses and drops several times what it keeps). The first
 * sync's release waits for every kind: taken between two lists, it paused the next list before ready,
 * and the rest of that list undid it.
 */
export class ListedKinds {
  readonly #listed = new Set<Kind>();
  #expected: number = KINDS.length;
  readonly #listeners: ListedListener[] = [];
  readonly #releaser: MemoryReleaser | null;
  readonly #again: string;

  /** `logger` null: no memory release. `again` names a later full list in the release's reasons. */
  constructor(logger: Logger | null, again = 'relisted', releaser: MemoryReleaser | null = logger ? memoryReleaser(logger) : null) {
    this.#releaser = releaser;
    this.#again = again;
  }

  listed(kind: Kind, first: boolean): void {
    this.#listed.add(kind);
    const reason = first ? `${kind} synced` : `${kind} ${this.#again}`;
    if (first && !this.synced()) this.#releaser?.hold(reason);
    else this.#releaser?.schedule(reason);
    for (const listener of this.#listeners) listener(kind, first);
  }

  /** The kinds the source reads, when not all of them (noendpoints leaves EndpointSlices out). */
  expect(kinds: readonly Kind[]): void {
    this.#expected = kinds.length;
  }

  synced(): boolean {
    return this.#listed.size === this.#expected;
  }

  onListed(listener: ListedListener): void {
    this.#listeners.push(listener);
  }

  /** Drops a release still armed (the source stops). */
  stop(): void {
    this.#releaser?.cancel();
  }
}
