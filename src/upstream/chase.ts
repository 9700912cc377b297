// ExternalName services whose CNAME leaves the cluster zone: the target is resolved upstream on
// the client's behalf and its records appended to the zone's chain, so the client gets the chain
// whole. The chaser does it for the zone's own answers, autopath for the name it found on the
// search list; both through chaseUpstream.
import { CLASS, RCODE } from '../dns/constants.ts';
import type { Handler, Query, Reply, RequestContext } from '../dns/message.ts';
import { replyRecords } from '../dns/rebase.ts';
import { type Sections, type WireRecord, writeReply } from '../dns/writer.ts';
import type { Forwarder } from './forward.ts';

/** The cluster zone as the chaser and autopath see it. */
export interface SectionsHandler extends Handler {
  sections(name: string, type: number): Sections | null;
}

/**
 * Asks upstream for `target` (the query's type and DO bit, never CD) on behalf of `client`; the
 * reply to the asked name is `lead()` (the chain that ends at `target`, read once the upstream has
 * answered) followed by the upstream's records. Synchronous on a cache hit. Null when that cannot
 * be built (appendUpstream says when, or there is no lead).
 */
export function chaseUpstream(
  forwarder: Forwarder,
  query: Query,
  client: string,
  target: string,
  lead: () => readonly WireRecord[] | null,
): Reply | null | Promise<Reply | null> {
  const question = { name: target, type: query.type, class: CLASS.IN, dnssecOk: query.edns?.dnssecOk ?? false, checkingDisabled: false };
  const upstream = forwarder.resolve(question, client);
  const append = (reply: Reply): Reply | null => {
    if (reply.rcode !== RCODE.NOERROR && reply.rcode !== RCODE.NXDOMAIN) return null;
    const records = lead();
    return records && appendUpstream(query.name, records, target, reply);
  };
  return upstream instanceof Promise ? upstream.then(append) : append(upstream);
}

/**
 * A reply to `name`: `lead`, then the answer of `reply` (the upstream's, to `target`), its
 * authority, its rcode. Null when `reply` is neither NOERROR nor NXDOMAIN or cannot be read.
 */
export function appendUpstream(name: string, lead: readonly WireRecord[], target: string, reply: Reply): Reply | null {
  if (reply.rcode !== RCODE.NOERROR && reply.rcode !== RCODE.NXDOMAIN) return null;
  const records = replyRecords(target, reply, 'skip');
  if (records === null) return null;
  return writeReply(
    name,
    { rcode: reply.rcode, authoritative: false, recursionAvailable: true },
    [...lead, ...records.answer],
    records.authority,
    [],
  );
}

/** The zone's replies with their ExternalName targets outside the zone chased upstream. */
export class ExternalNameChaser implements Handler {
  readonly name: string;
  readonly #zone: SectionsHandler;
  readonly #forwarder: Forwarder;

  constructor(zone: SectionsHandler, forwarder: Forwarder) {
    this.#zone = zone;
    this.#forwarder = forwarder;
    this.name = zone.name;
  }

  sections(name: string, type: number): Sections | null {
    return this.#zone.sections(name, type);
  }

  serve(query: Query, context: RequestContext): Reply | null | Promise<Reply | null> {
    const reply = this.#zone.serve(query, context);
    if (reply === null || reply instanceof Promise || reply.chase === undefined) return reply;
    return this.#chase(query, context, reply, reply.chase);
  }

  async #chase(query: Query, context: RequestContext, zoneReply: Reply, target: string): Promise<Reply> {
    const lead = () => this.#zone.sections(query.name, query.type)?.answer ?? null;
    return (await chaseUpstream(this.#forwarder, query, context.remoteAddress, target, lead)) ?? zoneReply;
  }
}
