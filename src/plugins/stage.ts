// A Corefile's server blocks in front of the cluster chain: a query goes to the block whose zone
// is the longest suffix of its name (as CoreDNS picks a server block), and through that block's
// handlers (rewrite, template, hosts, …) to the cluster chain (zone, cache, forward) they share.
// A block with no handlers of its own passes (null): the cluster chain after the stage answers,
// and is counted under its own plugin names. A reload swaps every block at once.
import type { Handler, Query, Reply, RequestContext } from '../dns/message.ts';

export interface StageBlock {
  /** Lower-case, no trailing dot; '' for the root. */
  readonly zones: readonly string[];
  /** The block's handlers with the cluster chain at their end; null when it has none. */
  readonly chain: Handler | null;
}

interface Route {
  readonly suffix: string;
  readonly chain: Handler | null;
}

function routesOf(blocks: readonly StageBlock[]): Route[] {
  const routes: Route[] = [];
  for (const block of blocks) for (const zone of block.zones) routes.push({ suffix: zone === '' ? '' : `.${zone}`, chain: block.chain });
  // Longest zone first; for the same zone, the first block (CoreDNS refuses duplicates anyway).
  return routes.sort((a, b) => b.suffix.length - a.suffix.length);
}

export class PluginStage implements Handler {
  readonly name = 'corefile';
  #routes: Route[];

  constructor(blocks: readonly StageBlock[]) {
    this.#routes = routesOf(blocks);
  }

  /** The new blocks, all at once. */
  swap(blocks: readonly StageBlock[]): void {
    this.#routes = routesOf(blocks);
  }

  /** The chain a name is served by; null for the cluster chain alone (for tests and serve). */
  chainFor(name: string): Handler | null {
    const dotted = `.${name}`;
    for (const route of this.#routes) if (route.suffix === '' || dotted.endsWith(route.suffix)) return route.chain;
    return null;
  }

  serve(query: Query, context: RequestContext): Reply | null | Promise<Reply | null> {
    const chain = this.chainFor(query.name);
    return chain === null ? null : chain.serve(query, context);
  }
}
