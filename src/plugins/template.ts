// CoreDNS's `template` plugin: answers built from the question. The templates run in order; one
// whose zone, class, type and a `match` regex fit answers (rcode, answer, authority, additional).
// Its zone fitting but no regex gives NXDOMAIN, or the next template with `fallthrough`. After
// the last template the query goes on to the next handler.
//
// A record is zone-file text with `{{ … }}` fields, CoreDNS's Go templates cut down to the data
// Corefiles use: `.Name`, `.Type`, `.Class`, `.Zone`, `index .Match N`, `.Group.NAME` (and
// `index .Group "NAME"`), with `{{-`/`-}}` trimming. Anything else is refused when the template is
// read, naming the template: a template is data, not code. A template without fields is encoded
// once; one with fields is encoded once per name and type asked (a bounded memo), since its
// output depends on nothing else.
import { CLASS, RCODE, TYPE } from '../dns/constants.ts';
import { emptyReply, type Handler, type Query, type Reply } from '../dns/message.ts';
import { classCode, classMnemonic, rcodeCode, typeCode, typeMnemonic } from '../dns/mnemonics.ts';
import { canonicalName, fqdn, ZoneSet } from '../dns/name.ts';
import { parseRecordText, RecordTextError } from '../dns/rrtext.ts';
import { writeReply, type WireRecord } from '../dns/writer.ts';
import { rateLimitedLog, type Logger, type RateLimitedLog } from '../base/log.ts';
import { PluginOptionError } from './errors.ts';
import { compileRe2, mayMatch, RegexSyntaxError, type CompiledRegex } from './regex.ts';

export interface TemplateOptions {
  /** Query class matched; CLASS.ANY for all. */
  readonly class: number;
  /** Query type matched; TYPE.ANY for all. */
  readonly type: number;
  /** Zones the template is for ('' the root). CoreDNS's default is the server block's zones. */
  readonly zones: readonly string[];
  /** RE2 regexes over the lower-case FQDN (trailing dot); the first match wins. */
  readonly match: readonly string[];
  readonly answer: readonly string[];
  readonly additional: readonly string[];
  readonly authority: readonly string[];
  readonly rcode: number;
  /** Zones where no regex matching goes on to the next template or handler; [] all; null none. */
  readonly fallthrough: readonly string[] | null;
}

export const DEFAULT_TEMPLATE_OPTIONS: Omit<TemplateOptions, 'class' | 'type'> = Object.freeze({
  zones: Object.freeze(['']),
  match: Object.freeze(['.*']),
  answer: Object.freeze([]),
  additional: Object.freeze([]),
  authority: Object.freeze([]),
  rcode: RCODE.NOERROR,
  fallthrough: null,
});

function fail(message: string): never {
  throw new PluginOptionError('template', message);
}

/** CLASS, TYPE and rcode mnemonics as a template block spells them. */
export function templateCodes(cls: string, type: string, rcode?: string): { class: number; type: number; rcode?: number } {
  const c = classCode(cls);
  if (c === null) fail(`invalid query class ${cls}`);
  const t = typeCode(type);
  if (t === null) fail(`invalid RR type ${type}`);
  if (rcode === undefined) return { class: c, type: t };
  const r = rcodeCode(rcode);
  if (r === null) fail(`unknown rcode ${rcode}`);
  return { class: c, type: t, rcode: r };
}

type Field = 'Name' | 'Type' | 'Class' | 'Zone';
type Part = string | { readonly field: Field } | { readonly match: number } | { readonly group: string };

export interface TemplateData {
  readonly Name: string;
  readonly Type: string;
  readonly Class: string;
  readonly Zone: string;
  readonly Match: readonly string[];
  readonly Group: Readonly<Record<string, string>>;
}

/** One `{{ … }}` action, whitespace and trim markers already removed. */
function action(inner: string, text: string): Part {
  const field = /^\.(Name|Type|Class|Zone)$/.exec(inner);
  if (field !== null) return { field: field[1] as Field };
  const index = /^index\s+\.Match\s+([0-9]+)$/.exec(inner);
  if (index !== null) return { match: Number(index[1]) };
  const group = /^\.Group\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(inner) ?? /^index\s+\.Group\s+"([A-Za-z0-9_]+)"$/.exec(inner);
  if (group !== null) return { group: group[1] as string };
  return fail(`template "${text}": unsupported {{ ${inner} }} (only .Name, .Type, .Class, .Zone, index .Match N, .Group.NAME)`);
}

/** The parts of a record template, or PluginOptionError naming it. */
export function compileTemplateText(text: string): readonly Part[] {
  const parts: Part[] = [];
  let literal = '';
  let i = 0;
  // Bounded: each turn consumes at least the `{{` it found, or ends.
  for (;;) {
    const open = text.indexOf('{{', i);
    if (open < 0) {
      literal += text.slice(i);
      break;
    }
    literal += text.slice(i, open);
    const close = text.indexOf('}}', open + 2);
    if (close < 0) fail(`template "${text}": unclosed {{`);
    let inner = text.slice(open + 2, close);
    // Go's trim markers: "{{- " and " -}}" (the dash needs the space).
    if (/^-\s/.test(inner)) {
      literal = literal.replace(/\s+$/, '');
      inner = inner.slice(1);
    }
    let trimAfter = false;
    if (/\s-$/.test(inner)) {
      trimAfter = true;
      inner = inner.slice(0, -1);
    }
    if (literal !== '') parts.push(literal);
    literal = '';
    parts.push(action(inner.trim(), text));
    i = close + 2;
    if (trimAfter) while (i < text.length && /\s/.test(text[i] as string)) i++;
  }
  if (literal !== '') parts.push(literal);
  return parts;
}

/** The text of `parts` for `data`; null when an index is out of range (Go's template fails). */
export function renderTemplate(parts: readonly Part[], data: TemplateData): string | null {
  let out = '';
  for (const part of parts) {
    if (typeof part === 'string') out += part;
    else if ('field' in part) out += data[part.field];
    else if ('match' in part) {
      const m = data.Match[part.match];
      if (m === undefined) return null;
      out += m;
    } else out += data.Group[part.group] ?? '';
  }
  return out;
}

type Section = 'answer' | 'authority' | 'additional';

interface CompiledTemplate {
  readonly options: TemplateOptions;
  readonly zones: ZoneSet;
  readonly regexes: readonly CompiledRegex[];
  readonly sections: Readonly<Record<Section, readonly (readonly Part[])[]>>;
  readonly fallthrough: ZoneSet | null;
  /** The reply when no record has a field. */
  readonly fixed: Reply | null;
  readonly memo: Map<string, Reply>;
}

/** Names and types remembered per template before the memo starts over. */
const MAX_MEMO = 1024;
const SECTIONS: readonly Section[] = ['answer', 'authority', 'additional'];
/** Not matched, no fallthrough (CoreDNS returns the rcode, so the server writes it without AA). */
const NXDOMAIN: Reply = emptyReply(RCODE.NXDOMAIN);
const SERVFAIL: Reply = emptyReply(RCODE.SERVFAIL);

function checkZones(what: string, zones: readonly string[]): string[] {
  return zones.map((z) => {
    const name = canonicalName(z);
    if (name === null) fail(`${what} "${z}" is not a domain name`);
    return name;
  });
}

function encode(questionName: string, rcode: number, records: Readonly<Record<Section, readonly WireRecord[]>>, compress: boolean): Reply {
  return writeReply(questionName, { rcode, authoritative: true }, records.answer, records.authority, records.additional, compress);
}

function compileTemplate(partial: Partial<TemplateOptions> & Pick<TemplateOptions, 'class' | 'type'>): CompiledTemplate {
  const options: TemplateOptions = { ...DEFAULT_TEMPLATE_OPTIONS, ...partial };
  if (!Number.isInteger(options.rcode) || options.rcode < 0 || options.rcode > 15) fail(`rcode ${options.rcode} is not a 4-bit rcode`);
  const zones = new ZoneSet(checkZones('zone', options.zones.length === 0 ? [''] : options.zones));
  const regexes = (options.match.length === 0 ? ['.*'] : options.match).map((source) => {
    try {
      return compileRe2(source);
    } catch (err) {
      if (err instanceof RegexSyntaxError) fail(`could not parse regex: ${source}, ${err.message}`);
      throw err;
    }
  });
  const sections = {
    answer: options.answer.map(compileTemplateText),
    authority: options.authority.map(compileTemplateText),
    additional: options.additional.map(compileTemplateText),
  };
  const dynamic = SECTIONS.some((s) => sections[s].some((parts) => parts.some((p) => typeof p !== 'string')));
  let fixed: Reply | null = null;
  const parseFixed = (text: string): WireRecord => {
    try {
      return parseRecordText(text);
    } catch (err) {
      if (err instanceof RecordTextError) fail(err.message);
      throw err;
    }
  };
  if (!dynamic) {
    // No field: the records are the same for every name, so they are written without pointers
    // into the question and fit after any.
    const records = {
      answer: options.answer.map(parseFixed),
      authority: options.authority.map(parseFixed),
      additional: options.additional.map(parseFixed),
    };
    fixed = encode('', options.rcode, records, false);
  }
  const fallthrough =
    options.fallthrough === null
      ? null
      : new ZoneSet(options.fallthrough.length === 0 ? [''] : checkZones('fallthrough zone', options.fallthrough));
  return { options, zones, regexes, sections, fallthrough, fixed, memo: new Map() };
}

export class TemplateHandler implements Handler {
  readonly name = 'template';
  readonly #templates: readonly CompiledTemplate[];
  readonly #zones: ZoneSet;
  readonly #log: RateLimitedLog | null;
  /** CoreDNS's coredns_template_matches_total, template_failures_total and rr_failures_total. */
  matches = 0;
  templateFailures = 0;
  rrFailures = 0;

  /** The `template` directives of one server block, in their order. Throws PluginOptionError. */
  constructor(templates: readonly (Partial<TemplateOptions> & Pick<TemplateOptions, 'class' | 'type'>)[], logger: Logger | null = null) {
    this.#templates = templates.map(compileTemplate);
    this.#zones = new ZoneSet(this.#templates.flatMap((t) => t.zones.zones));
    this.#log = logger === null ? null : rateLimitedLog(logger);
  }

  serve(query: Query): Reply | null {
    const name = query.name;
    if (!this.#zones.has(name)) return null;
    let full: string | null = null;
    for (const t of this.#templates) {
      const o = t.options;
      const zone = t.zones.match(name);
      if (zone === null) continue;
      if (o.class !== CLASS.ANY && query.class !== CLASS.ANY && query.class !== o.class) continue;
      if (o.type !== TYPE.ANY && query.type !== TYPE.ANY && query.type !== o.type) continue;
      let groups: RegExpExecArray | null = null;
      let regex: CompiledRegex | null = null;
      for (const r of t.regexes) {
        if (!mayMatch(r, name)) continue;
        full ??= fqdn(name);
        groups = r.regex.exec(full);
        if (groups !== null) {
          regex = r;
          break;
        }
      }
      if (groups === null || regex === null) {
        if (t.fallthrough?.has(name)) continue;
        return NXDOMAIN;
      }
      this.matches++;
      if (o.rcode === RCODE.SERVFAIL) return SERVFAIL;
      if (t.fixed !== null) return t.fixed;
      return this.#dynamic(t, query, zone, groups);
    }
    return null;
  }

  #dynamic(t: CompiledTemplate, query: Query, zone: string, groups: RegExpExecArray): Reply {
    const key = `${query.type}|${query.class}|${query.name}`;
    const known = t.memo.get(key);
    if (known !== undefined) return known;
    const o = t.options;
    const match = [...groups].map((g) => g ?? '');
    const group: Record<string, string> = {};
    for (const [i, g] of match.entries()) group[String(i)] = g;
    for (const [k, v] of Object.entries(groups.groups ?? {})) group[k] = v ?? '';
    const data: TemplateData = {
      Name: fqdn(query.name),
      Type: typeMnemonic(query.type !== TYPE.ANY ? query.type : o.type),
      Class: classMnemonic(query.class !== CLASS.ANY ? query.class : o.class),
      Zone: fqdn(zone),
      Match: match,
      Group: group,
    };
    const records: Record<Section, WireRecord[]> = { answer: [], authority: [], additional: [] };
    for (const s of SECTIONS) {
      for (const parts of t.sections[s]) {
        const text = renderTemplate(parts, data);
        if (text === null) {
          this.templateFailures++;
          this.#log?.('warn', 'template-render', { name: query.name, section: s }, 'template failed (index out of range): SERVFAIL');
          return SERVFAIL;
        }
        try {
          records[s].push(parseRecordText(text));
        } catch (err) {
          this.rrFailures++;
          this.#log?.(
            'warn',
            'template-rr',
            { name: query.name, section: s, err: (err as Error).message },
            'templated record invalid: SERVFAIL',
          );
          return SERVFAIL;
        }
      }
    }
    const reply = encode(query.name, o.rcode, records, true);
    if (t.memo.size >= MAX_MEMO) t.memo.clear();
    t.memo.set(key, reply);
    return reply;
  }
}
