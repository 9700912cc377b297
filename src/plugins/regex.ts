// Corefile regexes are Go RE2 (rewrite `name regex`, template `match`), run here by V8's
// backtracking engine. So that a regex means what it means in CoreDNS, each is parsed as RE2
// syntax and written out as the equivalent JavaScript: `(?P<n>…)` becomes `(?<n>…)`, a leading
// `(?i)` a flag, `\z` an end anchor, classes are spelled out (`[]a]` and `[[:alpha:]]` differ).
// What RE2 refuses (backreferences, lookaround, possessive or >1000 repeats) is refused, with the
// reason. RE2 is linear-time and V8 is not: a repetition around another repetition or around an
// ambiguous alternation can take exponential time on a crafted name, so it is refused too, unless
// each turn ends in a character the inner repetitions cannot match (`(?:[^.]+\.)+`, the shape
// Corefiles use), which keeps the turns from overlapping. Polynomial cost remains (two `.*`
// in a row); a query name is at most 255 octets, which bounds it.
import { ClusterDnsError } from '../base/errors.ts';

export class RegexSyntaxError extends ClusterDnsError {
  override name = 'RegexSyntaxError';
  readonly code = 'CDNS_ERR_REGEX_SYNTAX';
}

/** Longer regexes are refused: no Corefile needs one, and each costs per query. */
export const MAX_REGEX_LENGTH = 512;
/** RE2's limit on a counted repetition. */
const MAX_REPEAT = 1000;

export interface CompiledRegex {
  readonly source: string;
  readonly regex: RegExp;
  /** Number of capturing groups. */
  readonly groups: number;
  /** A substring every match contains (a cheap test before the regex runs), or null. */
  readonly literal: string | null;
  /** `literal` without its last character when that is a dot, else null. */
  readonly literalHead: string | null;
}

/** ASCII characters as a 128-bit set, plus one bit for everything above. */
class CharSet {
  readonly bits = new Uint32Array(4);
  high = false;

  add(c: number): void {
    if (c < 128) this.bits[c >>> 5] = (this.bits[c >>> 5] as number) | (1 << (c & 31));
    else this.high = true;
  }
  addRange(lo: number, hi: number): void {
    for (let c = lo; c <= Math.min(hi, 127); c++) this.add(c);
    if (hi > 127) this.high = true;
  }
  has(c: number): boolean {
    return c < 128 ? ((this.bits[c >>> 5] as number) & (1 << (c & 31))) !== 0 : this.high;
  }
  union(o: CharSet): void {
    for (let i = 0; i < 4; i++) this.bits[i] = (this.bits[i] as number) | (o.bits[i] as number);
    this.high ||= o.high;
  }
  intersects(o: CharSet): boolean {
    for (let i = 0; i < 4; i++) if (((this.bits[i] as number) & (o.bits[i] as number)) !== 0) return true;
    return this.high && o.high;
  }
  negate(): void {
    for (let i = 0; i < 4; i++) this.bits[i] = ~(this.bits[i] as number) >>> 0;
    this.high = !this.high;
  }
  /** Both cases of every letter, for `(?i)`. */
  fold(): void {
    for (let c = 0x41; c <= 0x5a; c++) {
      if (!this.has(c) && !this.has(c | 0x20)) continue;
      this.add(c);
      this.add(c | 0x20);
    }
  }
  /** The single character this set holds, or -1. */
  single(): number {
    let found = -1;
    if (this.high) return -1;
    for (let c = 0; c < 128; c++) {
      if (!this.has(c)) continue;
      if (found >= 0) return -1;
      found = c;
    }
    return found;
  }
  /** A JavaScript class with the same members. */
  toClass(): string {
    let out = '';
    for (let c = 0; c < 128; ) {
      if (!this.has(c)) {
        c++;
        continue;
      }
      let end = c;
      while (end + 1 < 128 && this.has(end + 1)) end++;
      out += end === c ? hex(c) : `${hex(c)}-${hex(end)}`;
      c = end + 1;
    }
    if (this.high) out += '\\u0080-\\uffff';
    return `[${out}]`;
  }
}

function hex(c: number): string {
  return `\\x${c.toString(16).padStart(2, '0')}`;
}

type Node =
  | { readonly k: 'set'; readonly set: CharSet }
  | { readonly k: 'empty' }
  | { readonly k: 'cat'; readonly items: readonly Node[] }
  | { readonly k: 'alt'; readonly items: readonly Node[] }
  | { readonly k: 'rep'; readonly body: Node; readonly min: number; readonly max: number };

const EMPTY: Node = { k: 'empty' };

function setOf(...ranges: [number, number][]): CharSet {
  const s = new CharSet();
  for (const [lo, hi] of ranges) s.addRange(lo, hi);
  return s;
}

const DIGIT: [number, number][] = [[0x30, 0x39]];
const WORD: [number, number][] = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x61, 0x7a],
  [0x5f, 0x5f],
];
// RE2's \s is [\t\n\f\r ]: no \v.
const SPACE: [number, number][] = [
  [0x09, 0x0a],
  [0x0c, 0x0d],
  [0x20, 0x20],
];

const POSIX: Record<string, [number, number][]> = {
  alnum: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  alpha: [
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  ascii: [[0x00, 0x7f]],
  blank: [
    [0x09, 0x09],
    [0x20, 0x20],
  ],
  cntrl: [
    [0x00, 0x1f],
    [0x7f, 0x7f],
  ],
  digit: DIGIT,
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [
    [0x21, 0x2f],
    [0x3a, 0x40],
    [0x5b, 0x60],
    [0x7b, 0x7e],
  ],
  space: [
    [0x09, 0x0d],
    [0x20, 0x20],
  ],
  upper: [[0x41, 0x5a]],
  word: WORD,
  xdigit: [
    [0x30, 0x39],
    [0x41, 0x46],
    [0x61, 0x66],
  ],
};

const SIMPLE_ESCAPES: Record<string, number> = { a: 7, f: 12, t: 9, n: 10, r: 13, v: 11 };

class Parser {
  readonly #src: string;
  #pos = 0;
  groups = 0;
  readonly #names = new Set<string>();
  /** Flags in force, innermost last (`(?i:…)` pushes). */
  readonly #fold: boolean[] = [false];
  readonly #dotAll: boolean[] = [false];
  readonly #multiline: boolean[] = [false];
  flags = '';

  constructor(src: string) {
    this.#src = src;
  }

  #fail(why: string): never {
    throw new RegexSyntaxError(`${why} at offset ${this.#pos}`);
  }
  #peek(k = 0): string {
    return this.#src[this.#pos + k] ?? '';
  }
  #inFold(): boolean {
    return this.#fold[this.#fold.length - 1] === true;
  }

  parse(): { node: Node; js: string } {
    // A leading `(?flags)` is the whole pattern's: JavaScript spells it as RegExp flags.
    const lead = /^\(\?([imsU]+)\)/.exec(this.#src);
    if (lead !== null) {
      const f = lead[1] as string;
      if (f.includes('U')) this.#fail('the U (ungreedy) flag has no JavaScript equivalent');
      this.flags = [...new Set(f)].sort().join('');
      this.#fold[0] = this.flags.includes('i');
      this.#dotAll[0] = this.flags.includes('s');
      this.#multiline[0] = this.flags.includes('m');
      this.#pos = lead[0].length;
    }
    const result = this.#alt();
    if (this.#pos < this.#src.length) this.#fail('unmatched ")"');
    return result;
  }

  #alt(): { node: Node; js: string } {
    const nodes: Node[] = [];
    const js: string[] = [];
    for (;;) {
      const cat = this.#cat();
      nodes.push(cat.node);
      js.push(cat.js);
      if (this.#peek() !== '|') break;
      this.#pos++;
    }
    return nodes.length === 1 ? { node: nodes[0] as Node, js: js[0] as string } : { node: { k: 'alt', items: nodes }, js: js.join('|') };
  }

  #cat(): { node: Node; js: string } {
    const items: Node[] = [];
    let js = '';
    while (this.#pos < this.#src.length && this.#peek() !== '|' && this.#peek() !== ')') {
      const r = this.#repeat();
      items.push(r.node);
      js += r.js;
    }
    return { node: items.length === 1 ? (items[0] as Node) : { k: 'cat', items }, js };
  }

  #repeat(): { node: Node; js: string } {
    const atomStart = this.#pos;
    const atom = this.#atom();
    const c = this.#peek();
    let min = -1;
    let max = -1;
    let js = '';
    if (c === '*' || c === '+' || c === '?') {
      this.#pos++;
      [min, max] = c === '*' ? [0, Infinity] : c === '+' ? [1, Infinity] : [0, 1];
      js = c;
    } else if (c === '{') {
      const m = /^\{([0-9]+)(,([0-9]*))?\}/.exec(this.#src.slice(this.#pos));
      if (m !== null) {
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
        if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) this.#fail(`repeat count over ${MAX_REPEAT} (RE2's limit)`);
        if (max < min) this.#fail('repeat count with max below min');
        this.#pos += m[0].length;
        js = m[0];
      }
    }
    if (js === '') return atom;
    if (atom.node.k === 'empty') {
      this.#pos = atomStart;
      this.#fail('repetition of an empty-width assertion');
    }
    if (this.#peek() === '?') {
      this.#pos++;
      js += '?';
    }
    const next = this.#peek();
    if (next === '*' || next === '+' || next === '?' || (next === '{' && /^\{[0-9]+(,[0-9]*)?\}/.test(this.#src.slice(this.#pos)))) {
      this.#fail(next === '+' ? 'possessive repetition (RE2 has none)' : 'nested repetition operator');
    }
    return { node: { k: 'rep', body: atom.node, min, max }, js: `${atom.js}${js}` };
  }

  #atom(): { node: Node; js: string } {
    const c = this.#peek();
    switch (c) {
      case '(':
        return this.#group();
      case '[':
        return this.#charClass();
      case '.': {
        this.#pos++;
        const set = setOf([0, 0x10ffff]);
        if (!this.#dotAll[this.#dotAll.length - 1]) set.bits[0] = (set.bits[0] as number) & ~(1 << 10);
        return { node: { k: 'set', set }, js: '.' };
      }
      case '^':
      case '$':
        this.#pos++;
        return { node: EMPTY, js: c };
      case '\\':
        return this.#escape();
      case '*':
      case '+':
      case '?':
        return this.#fail(`missing argument to repetition operator "${c}"`);
      default: {
        const cp = this.#src.codePointAt(this.#pos) as number;
        this.#pos += cp > 0xffff ? 2 : 1;
        return this.#literal(cp);
      }
    }
  }

  #literal(cp: number): { node: Node; js: string } {
    const set = new CharSet();
    set.add(cp);
    if (this.#inFold()) set.fold();
    let js: string;
    if (cp < 128) js = /[A-Za-z0-9 _\-,:;=@#%&'"!~<>`]/.test(String.fromCharCode(cp)) ? String.fromCharCode(cp) : hex(cp);
    else if (cp <= 0xffff) js = `\\u${cp.toString(16).padStart(4, '0')}`;
    else this.#fail('a character outside the Basic Multilingual Plane');
    return { node: { k: 'set', set }, js };
  }

  #group(): { node: Node; js: string } {
    this.#pos++; // (
    let open = '(';
    let pushed = false;
    if (this.#peek() === '?') {
      const rest = this.#src.slice(this.#pos);
      const named = /^\?P?<([A-Za-z0-9_]+)>/.exec(rest);
      if (named !== null) {
        const name = named[1] as string;
        if (/^[0-9]/.test(name)) this.#fail(`group name "${name}" starts with a digit`);
        if (this.#names.has(name)) this.#fail(`duplicate group name "${name}"`);
        this.#names.add(name);
        this.groups++;
        this.#pos += named[0].length;
        open = `(?<${name}>`;
      } else if (rest.startsWith('?:')) {
        this.#pos += 2;
        open = '(?:';
      } else if (/^\?[imsU]+:/.test(rest) || /^\?[imsU]*-[imsU]+:/.test(rest)) {
        const m = /^\?([imsU]*)(?:-([imsU]+))?:/.exec(rest) as RegExpExecArray;
        const on = m[1] ?? '';
        const off = m[2] ?? '';
        if ((on + off).includes('U')) this.#fail('the U (ungreedy) flag has no JavaScript equivalent');
        this.#pos += m[0].length;
        const top = (stack: boolean[], f: string): boolean =>
          on.includes(f) ? true : off.includes(f) ? false : stack[stack.length - 1] === true;
        this.#fold.push(top(this.#fold, 'i'));
        this.#dotAll.push(top(this.#dotAll, 's'));
        this.#multiline.push(top(this.#multiline, 'm'));
        pushed = true;
        open = `(?${on}${off === '' ? '' : `-${off}`}:`;
      } else if (/^\?(=|!|<=|<!)/.test(rest)) {
        this.#fail('lookaround (RE2 has none)');
      } else if (/^\?P=/.test(rest) || /^\?>/.test(rest)) {
        this.#fail(rest.startsWith('?>') ? 'atomic group (RE2 has none)' : 'backreference (RE2 has none)');
      } else if (/^\?[imsU]+\)/.test(rest)) {
        this.#fail('flags in the middle of a pattern: write (?i:…) around the part instead');
      } else {
        this.#fail('unknown group syntax "(?"');
      }
    } else {
      this.groups++;
    }
    const inner = this.#alt();
    if (this.#peek() !== ')') this.#fail('missing ")"');
    this.#pos++;
    if (pushed) {
      this.#fold.pop();
      this.#dotAll.pop();
      this.#multiline.pop();
    }
    return { node: inner.node, js: `${open}${inner.js})` };
  }

  /** `\…` outside a class. */
  #escape(): { node: Node; js: string } {
    const e = this.#peek(1);
    if (e === '') this.#fail('trailing backslash');
    this.#pos += 2;
    switch (e) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
      case 's':
      case 'S': {
        const set = this.#perlClass(e);
        return { node: { k: 'set', set }, js: set.toClass() };
      }
      case 'b':
      case 'B':
        return { node: EMPTY, js: `\\${e}` };
      case 'A':
        return { node: EMPTY, js: this.#multiline[this.#multiline.length - 1] ? '(?<![\\s\\S])' : '^' };
      case 'z':
        return { node: EMPTY, js: this.#multiline[this.#multiline.length - 1] ? '(?![\\s\\S])' : '$' };
      case 'Q': {
        const end = this.#src.indexOf('\\E', this.#pos);
        const text = this.#src.slice(this.#pos, end < 0 ? undefined : end);
        this.#pos = end < 0 ? this.#src.length : end + 2;
        const items: Node[] = [];
        let js = '';
        for (const ch of text) {
          const lit = this.#literal(ch.codePointAt(0) as number);
          items.push(lit.node);
          js += lit.js;
        }
        return { node: items.length === 1 ? (items[0] as Node) : { k: 'cat', items }, js: items.length === 0 ? '' : `(?:${js})` };
      }
      default:
        return this.#literal(this.#escapedChar(e));
    }
  }

  /** The character an escape stands for (shared by classes); refuses what RE2 refuses. */
  #escapedChar(e: string): number {
    if (e in SIMPLE_ESCAPES) return SIMPLE_ESCAPES[e] as number;
    if (e === 'x') {
      const braced = /^\{([0-9a-fA-F]{1,6})\}/.exec(this.#src.slice(this.#pos));
      if (braced !== null) {
        this.#pos += braced[0].length;
        const cp = parseInt(braced[1] as string, 16);
        if (cp > 0x10ffff) this.#fail('\\x{…} beyond Unicode');
        return cp;
      }
      const two = /^[0-9a-fA-F]{2}/.exec(this.#src.slice(this.#pos));
      if (two === null) this.#fail('\\x needs two hex digits');
      this.#pos += 2;
      return parseInt(two[0], 16);
    }
    if (/[0-9]/.test(e)) this.#fail('backreferences and octal escapes are not supported (RE2 has no backreferences)');
    if (e === 'p' || e === 'P') this.#fail('Unicode classes (\\p) are not supported');
    if (/[A-Za-z]/.test(e)) this.#fail(`unknown escape "\\${e}"`);
    const cp = e.codePointAt(0) as number;
    return cp;
  }

  #perlClass(e: string): CharSet {
    const lower = e.toLowerCase();
    const set = setOf(...(lower === 'd' ? DIGIT : lower === 'w' ? WORD : SPACE));
    if (e !== lower) set.negate();
    return set;
  }

  /** `[…]`, written back as a plain JavaScript class of the same members. */
  #charClass(): { node: Node; js: string } {
    this.#pos++; // [
    let negated = false;
    if (this.#peek() === '^') {
      negated = true;
      this.#pos++;
    }
    const set = new CharSet();
    let first = true;
    // Bounded: each turn consumes at least one character, and the end of input fails.
    for (;;) {
      if (this.#pos >= this.#src.length) this.#fail('missing "]"');
      const c = this.#peek();
      if (c === ']' && !first) {
        this.#pos++;
        break;
      }
      first = false;
      if (c === '[' && this.#peek(1) === ':') {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(this.#src.slice(this.#pos));
        if (m === null || !((m[2] as string) in POSIX)) this.#fail('unknown POSIX class');
        const posix = setOf(...(POSIX[m[2] as string] as [number, number][]));
        if (m[1] === '^') posix.negate();
        set.union(posix);
        this.#pos += m[0].length;
        continue;
      }
      let lo: number;
      if (c === '\\') {
        const e = this.#peek(1);
        if ('dDwWsS'.includes(e) && e !== '') {
          this.#pos += 2;
          set.union(this.#perlClass(e));
          continue;
        }
        if (e === '') this.#fail('trailing backslash');
        this.#pos += 2;
        lo = this.#escapedChar(e);
      } else {
        lo = this.#src.codePointAt(this.#pos) as number;
        this.#pos += lo > 0xffff ? 2 : 1;
      }
      if (this.#peek() === '-' && this.#peek(1) !== ']' && this.#peek(1) !== '') {
        this.#pos++;
        let hi: number;
        if (this.#peek() === '\\') {
          const e = this.#peek(1);
          this.#pos += 2;
          hi = this.#escapedChar(e);
        } else {
          hi = this.#src.codePointAt(this.#pos) as number;
          this.#pos += hi > 0xffff ? 2 : 1;
        }
        if (hi < lo) this.#fail('class range out of order');
        set.addRange(lo, hi);
      } else {
        set.add(lo);
      }
    }
    if (this.#inFold()) set.fold();
    // Go's RE2 flags include ClassNL: a negated class matches a newline too.
    if (negated) set.negate();
    return { node: { k: 'set', set }, js: set.toClass() };
  }
}

function nullable(node: Node): boolean {
  switch (node.k) {
    case 'set':
      return false;
    case 'empty':
      return true;
    case 'cat':
      return node.items.every(nullable);
    case 'alt':
      return node.items.some(nullable);
    case 'rep':
      return node.min === 0 || nullable(node.body);
  }
}

/** The characters a match of `node` can start with. */
function firstChars(node: Node, out: CharSet = new CharSet()): CharSet {
  switch (node.k) {
    case 'set':
      out.union(node.set);
      break;
    case 'cat':
      for (const item of node.items) {
        firstChars(item, out);
        if (!nullable(item)) break;
      }
      break;
    case 'alt':
      for (const item of node.items) firstChars(item, out);
      break;
    case 'rep':
      firstChars(node.body, out);
      break;
  }
  return out;
}

/** Every character a match of `node` can contain. */
function allChars(node: Node, out: CharSet = new CharSet()): CharSet {
  switch (node.k) {
    case 'set':
      out.union(node.set);
      break;
    case 'cat':
    case 'alt':
      for (const item of node.items) allChars(item, out);
      break;
    case 'rep':
      allChars(node.body, out);
      break;
  }
  return out;
}

/** An alternation the engine never has to undo: its branches start with different characters. */
function deterministicAlt(node: Node & { k: 'alt' }): boolean {
  const seen = new CharSet();
  for (const item of node.items) {
    if (nullable(item)) return false;
    const first = firstChars(item);
    if (first.intersects(seen)) return false;
    seen.union(first);
  }
  return true;
}

/**
 * Refuses the shapes that backtrack exponentially: a repetition whose body holds another
 * repetition or an ambiguous alternation, unless every turn of the body ends in a character no
 * inner repetition can match (so where one turn ends is never in doubt).
 */
function checkBacktracking(node: Node): void {
  switch (node.k) {
    case 'cat':
    case 'alt':
      for (const item of node.items) checkBacktracking(item);
      return;
    case 'rep':
      checkBacktracking(node.body);
      if (node.max <= 1) return;
      checkRepeatedBody(node.body);
      return;
    default:
      return;
  }
}

function checkRepeatedBody(body: Node): void {
  const inner: Node[] = [];
  const alts: (Node & { k: 'alt' })[] = [];
  const walk = (n: Node): void => {
    if (n.k === 'rep') {
      // Any repetition with a choice of count makes the turns' boundaries ambiguous ((a?a?)+).
      if (n.min !== n.max) inner.push(n);
      walk(n.body);
    } else if (n.k === 'cat' || n.k === 'alt') {
      if (n.k === 'alt') alts.push(n);
      for (const item of n.items) walk(item);
    }
  };
  walk(body);
  for (const alt of alts) {
    if (!deterministicAlt(alt))
      throw new RegexSyntaxError(
        'a repeated alternation whose branches can start alike (exponential backtracking; RE2 does not backtrack)',
      );
  }
  if (inner.length === 0) return;
  const last = body.k === 'cat' ? body.items[body.items.length - 1] : undefined;
  if (last === undefined || last.k !== 'set' || inner.some((rep) => allChars(rep).intersects(last.set))) {
    throw new RegexSyntaxError(
      'a repetition inside a repetition without a delimiter (exponential backtracking; RE2 does not backtrack): end each turn with a character the inner part cannot match, as in (?:[^.]+\\.)+',
    );
  }
}

/** The longest run of plain characters every match contains (top-level sequence only). */
function requiredLiteral(node: Node, folded: boolean): string | null {
  if (folded || node.k !== 'cat') return null;
  let best = '';
  let run = '';
  for (const item of node.items) {
    const c = item.k === 'set' ? item.set.single() : -1;
    if (c >= 0) {
      run += String.fromCharCode(c);
      if (run.length > best.length) best = run;
    } else if (item.k !== 'empty') {
      run = '';
    }
  }
  return best.length >= 2 ? best : null;
}

/**
 * Whether the FQDN of `name` (a query name, no trailing dot) holds the literal every match needs
 * (so the regex can match at all), without building
 * the FQDN: the test runs on every query that reaches a regex, and most do not match.
 */
export function mayMatch(compiled: CompiledRegex, name: string): boolean {
  const literal = compiled.literal;
  if (literal === null || name.includes(literal)) return true;
  // Only a literal ending in a dot can end at the dot the name lacks.
  return compiled.literalHead !== null && name.endsWith(compiled.literalHead);
}

/** Compiles an RE2 regex as the equivalent JavaScript RegExp, or throws RegexSyntaxError. */
export function compileRe2(source: string): CompiledRegex {
  if (source.length > MAX_REGEX_LENGTH) throw new RegexSyntaxError(`longer than ${MAX_REGEX_LENGTH} characters`);
  const parser = new Parser(source);
  const { node, js } = parser.parse();
  checkBacktracking(node);
  let regex: RegExp;
  try {
    regex = new RegExp(js, parser.flags);
  } catch (err) {
    throw new RegexSyntaxError(`not valid here: ${(err as Error).message}`);
  }
  const literal = requiredLiteral(node, parser.flags.includes('i'));
  const literalHead = literal?.endsWith('.') ? literal.slice(0, -1) : null;
  return { source, regex, groups: parser.groups, literal, literalHead };
}
