// A list of handlers as one handler: each in turn until one answers (CoreDNS's "next plugin").
// A handler that must see what the rest of the chain answers (rewrite) is given the rest as a
// Chain. Synchronous answers stay synchronous; a Promise only when a handler hands one back.
import type { Handler, Query, Reply, RequestContext } from '../dns/message.ts';

type Pending = Reply | null | Promise<Reply | null>;

function isPromise(value: Pending): value is Promise<Reply | null> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** Handlers from `first` on; a handler's throw or rejection reaches the caller (the server's SERVFAIL). */
function serveFrom(handlers: readonly Handler[], first: number, query: Query, context: RequestContext): Pending {
  for (let i = first; i < handlers.length; i++) {
    const reply = (handlers[i] as Handler).serve(query, context);
    if (reply === null || reply === undefined) continue;
    if (!isPromise(reply)) return reply;
    return reply.then((settled) => settled ?? serveFrom(handlers, i + 1, query, context));
  }
  return null;
}

export class Chain implements Handler {
  readonly name: string;
  readonly #handlers: readonly Handler[];

  constructor(handlers: readonly Handler[], name = 'chain') {
    this.#handlers = [...handlers];
    this.name = name;
  }

  get handlers(): readonly Handler[] {
    return this.#handlers;
  }

  serve(query: Query, context: RequestContext): Pending {
    return serveFrom(this.#handlers, 0, query, context);
  }
}
