// CoreDNS's `chaos` plugin: CH-class TXT answers about the server itself, `version.bind` and
// `version.server` (the version), `authors.bind` (one TXT per author), `hostname.bind` and
// `id.server` (the host name). Every answer is encoded once, at construction; TTL 0 and not
// authoritative, as CoreDNS answers. Anything else passes on.
import { hostname } from 'node:os';
import { CLASS, RCODE, TYPE } from '../dns/constants.ts';
import { emptyReply, type Handler, type Query, type Reply } from '../dns/message.ts';

export interface ChaosOptions {
  /** `version.bind`'s text. */
  readonly version: string;
  /** `authors.bind`'s texts; none is an empty NOERROR. */
  readonly authors: readonly string[];
  /** `hostname.bind`'s text; the host name by default. */
  readonly hostname?: string;
}

/** One CH TXT record owned by the question's name (a pointer to offset 12), TTL 0. */
function txtRecord(text: string): Uint8Array {
  const bytes = Buffer.from(text, 'utf8');
  // A character-string holds 255 octets at most: a longer text is several strings in one record.
  const strings: Buffer[] = [];
  for (let at = 0; at < bytes.length || strings.length === 0; at += 255) strings.push(bytes.subarray(at, at + 255));
  const rdlength = strings.reduce((n, s) => n + 1 + s.length, 0);
  const out = Buffer.alloc(12 + rdlength);
  out.writeUInt16BE(0xc00c, 0);
  out.writeUInt16BE(TYPE.TXT, 2);
  out.writeUInt16BE(CLASS.CH, 4);
  out.writeUInt32BE(0, 6);
  out.writeUInt16BE(rdlength, 10);
  let at = 12;
  for (const s of strings) {
    out[at++] = s.length;
    s.copy(out, at);
    at += s.length;
  }
  return out;
}

function txtReply(texts: readonly string[]): Reply {
  if (texts.length === 0) return emptyReply(RCODE.NOERROR);
  const records = texts.map(txtRecord);
  return { rcode: RCODE.NOERROR, authoritative: false, ancount: records.length, nscount: 0, arcount: 0, body: Buffer.concat(records) };
}

export class ChaosHandler implements Handler {
  readonly name = 'chaos';
  readonly #answers: ReadonlyMap<string, Reply>;

  constructor(options: ChaosOptions) {
    const version = txtReply([options.version]);
    const host = txtReply([options.hostname ?? hostname()]);
    this.#answers = new Map([
      ['version.bind', version],
      ['version.server', version],
      ['authors.bind', txtReply(options.authors)],
      ['hostname.bind', host],
      ['id.server', host],
    ]);
  }

  serve(query: Query): Reply | null {
    if (query.class !== CLASS.CH || query.type !== TYPE.TXT) return null;
    return this.#answers.get(query.name) ?? null;
  }
}
