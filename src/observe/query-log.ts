// The opt-in query log: one line per answered query, for a sample of them. Either a JSON line
// (`json`, the default) or CoreDNS's `log` plugin line, `[INFO] ` and its format with CoreDNS's
// placeholders, so parsers written for CoreDNS's logs keep working. Each line costs more than
// the answer itself, hence off by default.
import type { Logger } from '../base/log.ts';
import { FLAG, RCODE, rcodeName, TYPE, typeName } from '../dns/constants.ts';
import { readMessage } from '../dns/reader.ts';
import { classMnemonic } from '../dns/mnemonics.ts';
import { ZoneSet } from '../dns/name.ts';
import type { Query } from '../dns/message.ts';
import type { QueryObserver, ServerContext } from '../server/processor.ts';

/** CoreDNS's formats; `{common}` is the default. */
export const COMMON_LOG_FORMAT =
  '{remote}:{port} - {>id} "{type} {class} {name} {proto} {size} {>do} {>bufsize}" {rcode} {>rflags} {rsize} {duration}';
export const COMBINED_LOG_FORMAT = `${COMMON_LOG_FORMAT} "{>opcode}"`;

export type LogClass = 'all' | 'success' | 'denial' | 'error';
export const LOG_CLASSES: readonly LogClass[] = ['all', 'success', 'denial', 'error'];

/** `{common}` and `{combined}` spelled out, alone or within a format of its own. */
export function expandLogFormat(format: string): string {
  return format.replaceAll('{common}', COMMON_LOG_FORMAT).replaceAll('{combined}', COMBINED_LOG_FORMAT);
}

/** What one line is made of. */
export interface LoggedQuery {
  readonly query: Query;
  readonly context: ServerContext;
  readonly rcode: number;
  readonly plugin: string;
  readonly reply: Buffer;
  readonly requestSize: number;
  readonly seconds: number;
}

/** CoreDNS's response classes (plugin/pkg/response): an answer or a referral, a denial, an error. */
export function classify(rcode: number, reply: Buffer): Exclude<LogClass, 'all'> {
  if (rcode === RCODE.NXDOMAIN) return 'denial';
  if (rcode !== RCODE.NOERROR) return 'error';
  // Our own replies, so readable; read only when a class filter asks (the log costs more anyway).
  const { answer, authority } = readMessage(reply);
  if (answer.length > 0) return 'success';
  // NOERROR without answers: a referral (NS in authority, no SOA) is success, NODATA denial.
  return authority.length > 0 && !authority.some((rr) => rr.type === TYPE.SOA) ? 'success' : 'denial';
}

const REPLY_FLAGS: readonly [number, string][] = [
  [FLAG.QR, 'qr'],
  [FLAG.AA, 'aa'],
  [FLAG.TC, 'tc'],
  [FLAG.RD, 'rd'],
  [FLAG.RA, 'ra'],
  [0x0040, 'z'],
  [0x0020, 'ad'],
  [FLAG.CD, 'cd'],
];

function flagsText(flags: number): string {
  let out = '';
  for (const [bit, name] of REPLY_FLAGS) if ((flags & bit) !== 0) out = out === '' ? name : `${out},${name}`;
  return out;
}

/** Go's time.Duration in seconds, as CoreDNS prints `{duration}`: `0.000123456s`. */
function durationText(seconds: number): string {
  const fixed = seconds.toFixed(9).replace(/\.?0+$/, '');
  return `${fixed}s`;
}

type Field = (q: LoggedQuery) => string;

const FIELDS: Readonly<Record<string, Field>> = {
  '{type}': ({ query }) => (query.questionEnd === 0 ? '-' : typeName(query.type)),
  '{name}': ({ query }) => (query.questionEnd === 0 ? '-' : query.name === '' ? '.' : `${query.name}.`),
  '{class}': ({ query }) => (query.questionEnd === 0 ? '-' : classMnemonic(query.class)),
  '{proto}': ({ context }) => context.protocol,
  '{size}': ({ requestSize }) => String(requestSize),
  '{remote}': ({ context }) => (context.remoteAddress.includes(':') ? `[${context.remoteAddress}]` : context.remoteAddress),
  '{port}': ({ context }) => String(context.remotePort ?? 0),
  '{local}': () => '-',
  '{>id}': ({ query }) => String(query.id),
  '{>opcode}': ({ query }) => String((query.flags >>> 11) & 0xf),
  '{>do}': ({ query }) => String(query.edns?.dnssecOk ?? false),
  '{>bufsize}': ({ query, context }) => String(context.protocol === 'tcp' ? 65535 : (query.edns?.udpSize ?? 512)),
  '{rcode}': ({ rcode }) => rcodeName(rcode),
  '{rsize}': ({ reply }) => String(reply.length),
  '{duration}': ({ seconds }) => durationText(seconds),
  '{>rflags}': ({ reply }) => (reply.length >= 4 ? flagsText(reply.readUInt16BE(2)) : '-'),
};

/**
 * A format compiled once into the parts of a line: text as it is, and CoreDNS's placeholders. A
 * placeholder CoreDNS does not know stays as written, as CoreDNS leaves it.
 */
export function compileLogFormat(format: string): (q: LoggedQuery) => string {
  const parts: (string | Field)[] = [];
  let text = '';
  for (const piece of expandLogFormat(format).split(/(\{>?[a-z_]+\})/)) {
    const field = FIELDS[piece];
    if (field === undefined) text += piece;
    else {
      if (text !== '') parts.push(text);
      text = '';
      parts.push(field);
    }
  }
  if (text !== '') parts.push(text);
  return (q) => {
    let line = '';
    for (const part of parts) line += typeof part === 'string' ? part : part(q);
    return line;
  };
}

export interface QueryLogOptions {
  /** `json`, or a CoreDNS format (`{common}`, `{combined}`, or placeholders of its own). */
  readonly format: string;
  /** The response classes logged; `all` for every one. */
  readonly classes: readonly LogClass[];
  /** Only names in these zones ('' the root) are logged. */
  readonly zones: readonly string[];
  /** The fraction of queries logged, 0 < x <= 1. */
  readonly sample: number;
}

/**
 * The query log's observer. JSON lines go through `log` (pino); CoreDNS lines to `write`, whole
 * lines, `[INFO] ` first as CoreDNS's log plugin prints them.
 */
export function queryLogger(log: Logger, options: QueryLogOptions, write: (line: string) => void): QueryObserver {
  const zones = new ZoneSet(options.zones);
  const every = options.classes.includes('all');
  const classes = new Set(options.classes);
  const wanted = (query: Query, rcode: number, reply: Buffer): boolean => {
    if (!zones.has(query.name)) return false;
    return every || classes.has(classify(rcode, reply));
  };
  const sample = options.sample;
  if (options.format === 'json') {
    return (query, context, rcode, plugin, reply, _requestSize, seconds) => {
      if (sample < 1 && Math.random() >= sample) return;
      if (!wanted(query, rcode, reply)) return;
      log.info(
        {
          remote: context.remoteAddress,
          id: query.id,
          // A FORMERR for a question that could not be read has neither.
          name: query.questionEnd === 0 ? null : query.name === '' ? '.' : `${query.name}.`,
          type: query.questionEnd === 0 ? null : typeName(query.type),
          proto: context.protocol,
          do: query.edns?.dnssecOk ?? false,
          rcode: rcodeName(rcode),
          plugin,
          rsize: reply.length,
          // Milliseconds, to the microsecond: from the query's arrival to its reply.
          ms: Math.round(seconds * 1e6) / 1000,
        },
        'query',
      );
    };
  }
  const line = compileLogFormat(options.format);
  return (query, context, rcode, plugin, reply, requestSize, seconds) => {
    if (sample < 1 && Math.random() >= sample) return;
    if (!wanted(query, rcode, reply)) return;
    write(`[INFO] ${line({ query, context, rcode, plugin, reply, requestSize, seconds })}\n`);
  };
}
