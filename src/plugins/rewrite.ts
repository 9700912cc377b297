// CoreDNS's `rewrite` plugin for names, types and classes: the rules run in order on the question
// (a rule that matches and says `stop` ends the list), the rest of the chain answers the rewritten
// question, and the client gets that answer under the question it asked: the server echoes the
// asked question, and the records are written again after it, their owners and targets mapped
// back by the `answer` rules (`answer auto`, always for `exact`, maps the rewritten name back).
// The answer's body was encoded after the rewritten question (its pointers count from there), so
// it is decoded and encoded again; that is kept with the inner reply, so a prepared reply (the
// zone's, a cache entry's) is re-encoded once per asked name, not per query. A query no rule
// matches costs the rule tests and goes to the chain as it is.
import { RCODE, TYPE } from '../dns/constants.ts';
import { emptyReply, type Handler, type Query, type Reply, type RequestContext } from '../dns/message.ts';
import { classCode, typeCode } from '../dns/mnemonics.ts';
import { canonicalName, fqdn } from '../dns/name.ts';
import { rebuildReply, replyRecords, type ReplyRecords } from '../dns/rebase.ts';
import { nameOctets, type WireRecord } from '../dns/writer.ts';
import { rateLimitedLog, type Logger, type RateLimitedLog } from '../base/log.ts';
import { PluginOptionError } from './errors.ts';
import { compileRe2, mayMatch, RegexSyntaxError, type CompiledRegex } from './regex.ts';

export type RewriteMode = 'stop' | 'continue';
export type NameMatch = 'exact' | 'prefix' | 'suffix' | 'substring' | 'regex';

/** How a name rule maps the answer back: `auto`, or a regex over owner names or over targets. */
export type AnswerRewrite = { readonly kind: 'auto' } | { readonly kind: 'name' | 'value'; readonly from: string; readonly to: string };

export type RewriteRule =
  | {
      readonly mode: RewriteMode;
      readonly field: 'name';
      readonly match: NameMatch;
      /** As CoreDNS keeps it: lower-case with a trailing dot; the regex source for `regex`. */
      readonly from: string;
      readonly to: string;
      readonly answers: readonly AnswerRewrite[];
    }
  | { readonly mode: RewriteMode; readonly field: 'type' | 'class'; readonly from: number; readonly to: number };

export interface RewriteOptions {
  readonly rules: readonly RewriteRule[];
}

export const DEFAULT_REWRITE_OPTIONS: RewriteOptions = Object.freeze({ rules: Object.freeze([]) });

function fail(message: string): never {
  throw new PluginOptionError('rewrite', message);
}

/** CoreDNS's plugin.Name.Normalize: lower-case, with the trailing dot. */
function normalize(text: string): string {
  const lower = text.toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

function regexOf(source: string, replacement: string): CompiledRegex {
  let compiled: CompiledRegex;
  try {
    compiled = compileRe2(source);
  } catch (err) {
    if (err instanceof RegexSyntaxError) fail(`invalid regex matching pattern "${source}": ${err.message}`);
    throw err;
  }
  // CoreDNS's check: no more {N} placeholders than the pattern has groups.
  let used = 0;
  for (let i = 0; i <= 100; i++) if (replacement.includes(`{${i}}`)) used++;
  if (used > compiled.groups) fail(`the rewrite pattern "${replacement}" uses more subexpressions than "${source}" has`);
  return compiled;
}

function answerRules(args: readonly string[]): AnswerRewrite[] {
  const rules: AnswerRewrite[] = [];
  let i = 0;
  if (args.length < 2) fail('invalid arguments for the answer rules of a name rule');
  // Bounded: each turn consumes at least one argument.
  while (i < args.length) {
    if (rules.length === 0 && args[i] !== 'answer') fail(`unexpected "${args[i]}" after a name rule (expected "answer")`);
    if (args[i] === 'answer') i++;
    const kind = args[i++];
    if (kind === undefined) fail('answer rule without a type (auto, name or value)');
    if (kind === 'auto') {
      rules.push({ kind: 'auto' });
      continue;
    }
    if (kind !== 'name' && kind !== 'value') fail(`invalid answer rule type "${kind}" (auto, name or value)`);
    const from = args[i];
    const to = args[i + 1];
    if (from === undefined || to === undefined) fail(`answer ${kind} needs FROM and TO`);
    regexOf(from, to);
    rules.push({ kind, from, to: normalize(to) });
    i += 2;
  }
  if (rules.some((r) => r.kind === 'auto') && rules.some((r) => r.kind === 'name'))
    fail('answer auto cannot be combined with answer name rules');
  return rules;
}

/**
 * One rule from the words after `rewrite`, as CoreDNS's setup reads them (the words of a
 * `rewrite … { … }` block appended in order): `[continue|stop] name [MATCH] FROM TO [answer …]`,
 * `[continue|stop] type FROM TO`, `[continue|stop] class FROM TO`. Throws PluginOptionError.
 */
export function parseRewriteArgs(args: readonly string[]): RewriteRule {
  if (args.length === 0) fail('no rule type specified');
  const first = (args[0] as string).toLowerCase();
  const mode: RewriteMode = first === 'continue' ? 'continue' : 'stop';
  const rest = first === 'continue' || first === 'stop' ? args.slice(1) : args;
  const field = rest[0]?.toLowerCase();
  const params = rest.slice(1);
  switch (field) {
    case undefined:
      return fail('no rule type specified');
    case 'answer':
      return fail('response rewrites must begin with a name rule');
    case 'name': {
      if (params.length < 2) fail('too few arguments for a name rule');
      const explicit = params.length >= 3;
      const match = (explicit ? (params[0] as string).toLowerCase() : 'exact') as NameMatch;
      if (!['exact', 'prefix', 'suffix', 'substring', 'regex'].includes(match)) {
        fail(`name rule supports only exact, prefix, suffix, substring, and regex name matching, received: ${params[0]}`);
      }
      const rawFrom = params[explicit ? 1 : 0] as string;
      const rawTo = params[explicit ? 2 : 1] as string;
      const answers = params.length > 3 ? answerRules(params.slice(3)) : [];
      if (match === 'regex') regexOf(rawFrom, rawTo);
      return { mode, field, match, from: match === 'regex' ? rawFrom : normalize(rawFrom), to: normalize(rawTo), answers };
    }
    case 'type':
    case 'class': {
      if (params.length !== 2) fail(`${field} rules must have exactly two arguments`);
      const code = field === 'type' ? typeCode : classCode;
      const from = code(params[0] as string);
      const to = code(params[1] as string);
      if (from === null || to === null) fail(`invalid ${field} "${from === null ? params[0] : params[1]}"`);
      return { mode, field, from, to };
    }
    case 'edns0':
    case 'ttl':
    case 'cname':
    case 'rcode':
      return fail(`${field} rules are not supported (name, type and class are)`);
    default:
      return fail(`invalid rule type "${rest[0]}"`);
  }
}

/** Maps one name (FQDN text) to another; returns the input when it does not apply. */
interface NameMap {
  readonly target: 'name' | 'value';
  map(name: string): string;
}

/** Replaces `{0}`, `{1}`… in `template` by the groups, in order, as CoreDNS does. */
function substitute(template: string, groups: RegExpExecArray): string {
  let out = template;
  for (let i = 0; i < groups.length; i++) out = out.replaceAll(`{${i}}`, groups[i] ?? '');
  return out;
}

function regexMap(target: 'name' | 'value', compiled: CompiledRegex, replacement: string): NameMap {
  return {
    target,
    map(name) {
      if (compiled.literal !== null && !name.includes(compiled.literal)) return name;
      const groups = compiled.regex.exec(name);
      return groups === null ? name : substitute(replacement, groups);
    },
  };
}

/** A name equal to `from` or below it, moved under `to` (CoreDNS's remapStringRewriter). */
function remap(target: 'name' | 'value', from: string, to: string): NameMap {
  const below = `.${from}`;
  return {
    target,
    map: (name) => (name === from ? to : name.endsWith(below) ? name.slice(0, name.length - from.length) + to : name),
  };
}

function suffixMap(target: 'name' | 'value', suffix: string, to: string): NameMap {
  return { target, map: (name) => (name.endsWith(suffix) ? name.slice(0, name.length - suffix.length) + to : name) };
}

interface CompiledNameRule {
  readonly mode: RewriteMode;
  readonly field: 'name';
  readonly match: NameMatch;
  readonly from: string;
  /** `from` without its trailing dot: compared with the query's name, which has none. */
  readonly bare: string;
  readonly to: string;
  /** For `exact`: the rewritten name, worked out once. */
  readonly toName: string | null;
  readonly regex: CompiledRegex | null;
  /** Build the reverse map of each rewrite from the names involved. */
  readonly auto: boolean;
  readonly fixed: readonly NameMap[];
}

type CompiledRule =
  | CompiledNameRule
  | { readonly mode: RewriteMode; readonly field: 'type' | 'class'; readonly from: number; readonly to: number };

function compileRule(rule: RewriteRule): CompiledRule {
  if (rule.field !== 'name') return rule;
  const fixed: NameMap[] = [];
  let auto = rule.match === 'exact' || rule.answers.some((a) => a.kind === 'auto');
  // Exact and suffix rules map answers back by their own names, not by the names of each query.
  if (rule.match === 'suffix' && auto) {
    fixed.push(suffixMap('name', rule.to, rule.from), suffixMap('value', rule.to, rule.from));
    auto = false;
  }
  const toName = rule.match === 'exact' ? canonicalName(rule.to) : null;
  if (rule.match === 'exact') {
    if (toName === null) fail(`"${rule.to}" is not a domain name`);
    fixed.push(remap('name', rule.to, rule.from), remap('value', rule.to, rule.from));
    auto = false;
  }
  for (const a of rule.answers) {
    if (a.kind !== 'auto') fixed.push(regexMap(a.kind, regexOf(a.from, a.to), a.to));
  }
  return {
    mode: rule.mode,
    field: 'name',
    match: rule.match,
    from: rule.from,
    bare: rule.from.endsWith('.') ? rule.from.slice(0, -1) : rule.from,
    to: rule.to,
    toName,
    regex: rule.match === 'regex' ? regexOf(rule.from, rule.to) : null,
    auto,
    fixed,
  };
}

/**
 * The FQDN text `rule` rewrites `name` (a query name, no trailing dot) to, or null. The tests on
 * the name without its dot allocate nothing: the common case is a query no rule matches.
 */
function rewriteName(rule: CompiledNameRule, name: string): string | null {
  switch (rule.match) {
    case 'exact':
      return name === rule.bare ? rule.to : null;
    case 'prefix': {
      const matches = name.startsWith(rule.from) || (rule.from.length === name.length + 1 && rule.from.startsWith(name));
      return matches ? rule.to + fqdn(name).slice(rule.from.length) : null;
    }
    case 'suffix': {
      if (!name.endsWith(rule.bare)) return null;
      const full = fqdn(name);
      return full.slice(0, full.length - rule.from.length) + rule.to;
    }
    case 'substring':
      return name.includes(rule.from) || name.endsWith(rule.bare) ? fqdn(name).replaceAll(rule.from, rule.to) : null;
    case 'regex': {
      const compiled = rule.regex as CompiledRegex;
      if (!mayMatch(compiled, name)) return null;
      const groups = compiled.regex.exec(fqdn(name));
      return groups === null ? null : substitute(rule.to, groups);
    }
  }
}

const SERVFAIL: Reply = emptyReply(RCODE.SERVFAIL);
/** Re-encoded replies kept per inner reply; more asked names than this and the list starts over. */
const MAX_REBASED_PER_REPLY = 16;

/** The rewrite, and what maps the answer back. */
interface Rewritten {
  readonly name: string;
  readonly type: number;
  readonly class: number;
  readonly maps: readonly NameMap[];
}

export class RewriteHandler implements Handler {
  readonly name = 'rewrite';
  readonly #rules: readonly CompiledRule[];
  readonly #next: Handler;
  readonly #log: RateLimitedLog | null;
  /** Inner reply → asked question → the reply re-encoded for it. */
  readonly #rebased = new WeakMap<Reply, Map<string, Reply>>();

  /** `next` answers the rewritten questions: the rest of the chain, as a Chain. */
  constructor(options: RewriteOptions, next: Handler, logger: Logger | null = null) {
    this.#rules = options.rules.map(compileRule);
    this.#next = next;
    this.#log = logger === null ? null : rateLimitedLog(logger);
  }

  serve(query: Query, context: RequestContext): Reply | null | Promise<Reply | null> {
    const rewritten = this.#rewrite(query);
    if (rewritten === null) return this.#next.serve(query, context);
    if (rewritten === SERVFAIL) return SERVFAIL;
    const r = rewritten as Rewritten;
    const inner: Query = { ...query, name: r.name, type: r.type, class: r.class, questionEnd: 12 + nameOctets(r.name) + 4 };
    const reply = this.#next.serve(inner, context);
    if (reply === null) return null;
    if (typeof (reply as { then?: unknown }).then === 'function') {
      return (reply as Promise<Reply | null>).then((settled) => (settled === null ? null : this.#answer(query, r, settled)));
    }
    return this.#answer(query, r, reply as Reply);
  }

  /** Null when no rule matched; SERVFAIL when a rewrite made a name that is not one. */
  #rewrite(query: Query): Rewritten | typeof SERVFAIL | null {
    let name = query.name;
    let type = query.type;
    let cls = query.class;
    let done = false;
    let maps: readonly NameMap[] | null = null;
    for (const rule of this.#rules) {
      let matched = false;
      if (rule.field !== 'name') {
        matched = (rule.field === 'type' ? type : cls) === rule.from;
        if (matched && rule.field === 'type') type = rule.to;
        else if (matched) cls = rule.to;
      } else {
        const text = rewriteName(rule, name);
        if (text !== null) {
          const next = rule.toName ?? canonicalName(text);
          if (next === null) {
            this.#log?.('warn', 'rewrite-invalid-name', { name: query.name, rewritten: text }, 'invalid name after rewrite: SERVFAIL');
            return SERVFAIL;
          }
          matched = true;
          if (rule.auto) {
            // A new list: an earlier rule's may be shared with that rule.
            maps = [...(maps ?? []), remap('name', fqdn(next), fqdn(name)), remap('value', fqdn(next), fqdn(name)), ...rule.fixed];
          } else if (rule.fixed.length > 0) {
            // The common case (one exact rule) shares the rule's own list.
            maps = maps === null ? (rule.fixed as NameMap[]) : [...maps, ...rule.fixed];
          }
          name = next;
        }
      }
      done ||= matched;
      if (matched && rule.mode === 'stop') break;
    }
    return done ? { name, type, class: cls, maps: maps ?? [] } : null;
  }

  /** `reply` (to the rewritten question) as the answer to the asked one. */
  #answer(asked: Query, r: Rewritten, reply: Reply): Reply {
    if (reply.body.length === 0 || (r.name === asked.name && r.maps.length === 0)) return reply;
    const key = `${asked.type}|${asked.class}|${asked.name}`;
    let kept = this.#rebased.get(reply);
    const known = kept?.get(key);
    if (known !== undefined) return known;
    const records = replyRecords(r.name, reply);
    let out: Reply;
    try {
      out = records === null ? SERVFAIL : rebuildReply(asked.name, reply, mapRecords(records, r.maps));
    } catch {
      out = SERVFAIL;
    }
    if (out === SERVFAIL)
      this.#log?.(
        'warn',
        'rewrite-answer',
        { name: asked.name, rewritten: r.name },
        'answer to a rewritten question could not be mapped back: SERVFAIL',
      );
    if (kept === undefined) {
      kept = new Map();
      this.#rebased.set(reply, kept);
    } else if (kept.size >= MAX_REBASED_PER_REPLY) {
      kept.clear();
    }
    kept.set(key, out);
    return out;
  }
}

/** Applies the maps, last first (CoreDNS reverts in reverse order), to owners and targets. */
function mapName(name: string, maps: readonly NameMap[], target: 'name' | 'value'): string {
  let text = fqdn(name);
  for (let i = maps.length - 1; i >= 0; i--) {
    const m = maps[i] as NameMap;
    if (m.target === target) text = m.map(text);
  }
  const out = canonicalName(text);
  if (out === null) throw new Error(`not a name after the answer rewrite: ${text}`);
  return out;
}

function mapRecord(rr: WireRecord, maps: readonly NameMap[]): WireRecord {
  const name = mapName(rr.name, maps, 'name');
  if ('rdata' in rr) return { ...rr, name };
  switch (rr.type) {
    case TYPE.CNAME:
    case TYPE.PTR:
    case TYPE.NS:
    case TYPE.SRV:
      return { ...rr, name, target: mapName(rr.target, maps, 'value') };
    case TYPE.MX:
      return { ...rr, name, exchange: mapName(rr.exchange, maps, 'value') };
    case TYPE.SOA: // its primary server, as CoreDNS
      return { ...rr, name, mname: mapName(rr.mname, maps, 'value') };
    default:
      return { ...rr, name };
  }
}

function mapRecords(records: ReplyRecords, maps: readonly NameMap[]): ReplyRecords {
  if (maps.length === 0) return records;
  return {
    answer: records.answer.map((rr) => mapRecord(rr, maps)),
    authority: records.authority.map((rr) => mapRecord(rr, maps)),
    additional: records.additional.map((rr) => mapRecord(rr, maps)),
  };
}
