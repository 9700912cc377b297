// A Corefile's server blocks in front of the cluster chain: a query goes to the block whose zone
// is the longest suffix of its name (as CoreDNS picks a server block), and through that block's
// handlers (acl, rewrite, template, hosts, …) to the cluster chain (zone, cache, forward) they
// share. A block with no handlers of its own passes (null): the cluster chain after the stage
// answers, and is counted under its own plugin names. A name no block holds is REFUSED, as
// CoreDNS refuses it. Classes other than IN get only what a block's acl and chaos say, else
// REFUSED: the cluster chain answers IN alone. A reload swaps every block at once.
import { CLASS, RCODE } from '../dns/constants.ts';
import { emptyReply, type Handler, type Query, type Reply, type RequestContext } from '../dns/message.ts';

export interface StageBlock {
  /** Lower-case, no trailing dot; '' for the root. */
  readonly zones: readonly string[];
  /** The block's handlers with the cluster chain at their end; null when it has none. */
  readonly chain: Handler | null;
  /** What answers the block's queries of other classes (acl, chaos); null or absent: REFUSED. */
  readonly otherClasses?: Handler | null;
}

interface Route {
  readonly suffix: string;
  readonly chain: Handler | null;
  readonly otherClasses: Handler | null;
}

const REFUSED = emptyReply(RCODE.REFUSED);

function routesOf(blocks: readonly StageBlock[]): Route[] {
  const routes: Route[] = [];
  for (const block of blocks) {
    for (const zone of block.zones) {
      routes.push({ suffix: zone === '' ? '' : `.${zone}`, chain: block.chain, otherClasses: block.otherClasses ?? null });
    }
  }
  // Longest zone first; for the same zone, the first block (CoreDNS refuses duplicates anyway).
  return routes.sort((a, b) => b.suffix.length - a.suffix.length);
}

function refusedIfPassed(reply: Reply | null | Promise<Reply | null>): Reply | Promise<Reply> {
  if (reply === null) return REFUSED;
  if (reply instanceof Promise) return reply.then((r) => r ?? REFUSED);
  return reply;
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

  #route(name: string): Route | undefined {
    const dotted = `.${name}`;
    for (const route of this.#routes) if (route.suffix === '' || dotted.endsWith(route.suffix)) return route;
    return undefined;
  }

  /** The chain a name is served by: null for the cluster chain alone, undefined when no block holds it. */
  chainFor(name: string): Handler | null | undefined {
    return this.#route(name)?.chain;
  }

  serve(query: Query, context: RequestContext): Reply | null | Promise<Reply | null> {
    const route = this.#route(query.name);
    if (route === undefined) return REFUSED;
    if (query.class !== CLASS.IN) return route.otherClasses === null ? REFUSED : refusedIfPassed(route.otherClasses.serve(query, context));
    return route.chain === null ? null : route.chain.serve(query, context);
  }
}
