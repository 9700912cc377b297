// The Corefile grammar as CoreDNS's Caddy v1 parser (coredns/caddy caddyfile/parse.go) reads it,
// built into a tree of server blocks and directives instead of Caddy's flat token lists.
import { posix } from 'node:path';
import { substituteEnv, type Environment } from './env.ts';
import { CorefileError, type Location } from './errors.ts';
import { nodeFs, type CorefileFs } from './fs.ts';
import { expandGlob, globProblem, isGlob } from './glob.ts';
import { parseServerKey, type ServerKey } from './keys.ts';
import { tokenize, type Token } from './lexer.ts';

/** One line of a server block, or of a directive's block: `name args… [{ block }]`. */
export interface Directive {
  readonly name: string;
  readonly args: readonly string[];
  /** null without braces; [] for `name {` `}`. */
  readonly block: readonly Directive[] | null;
  readonly file: string;
  readonly line: number;
  /** The `import` lines that brought this line in, outermost first; [] when written in place. */
  readonly via: readonly Location[];
}

export interface ServerBlock {
  readonly keys: readonly ServerKey[];
  readonly directives: readonly Directive[];
  readonly file: string;
  readonly line: number;
  readonly via: readonly Location[];
}

export interface SourceFile {
  /** Absolute, symlinks kept: the path to watch, and the base of its relative imports. */
  readonly path: string;
  /** Symlinks resolved: the file the path reads today. */
  readonly realPath: string;
  /** The import line that read it; null for the Corefile itself. */
  readonly importedAt: Location | null;
}

export interface GlobImport {
  /** Absolute pattern; a file that starts to match it later changes the configuration. */
  readonly pattern: string;
  readonly matches: readonly string[];
  readonly importedAt: Location;
}

export interface Warning extends Location {
  readonly message: string;
}

export interface Corefile {
  readonly path: string;
  readonly blocks: readonly ServerBlock[];
  /** Every file read, the Corefile first, each once, in the order read. */
  readonly sources: readonly SourceFile[];
  readonly globs: readonly GlobImport[];
  /** Accepted as CoreDNS accepts them, worth a log line: unset variables, globs matching nothing. */
  readonly warnings: readonly Warning[];
}

export interface Limits {
  /** Bytes per file. 1 MiB is the most a ConfigMap can hold, so a Corefile from one always fits. */
  readonly fileBytes: number;
  /** Bytes over the Corefile and all its imports. */
  readonly totalBytes: number;
  /** `import` lines expanded (CoreDNS stops at 1000 snippet and 1000 file imports). */
  readonly imports: number;
  /** Imports within imports. */
  readonly importDepth: number;
  /** Blocks within blocks. */
  readonly nesting: number;
  /** Directive lines in the result, all blocks together. */
  readonly directives: number;
}

export const DEFAULT_LIMITS: Limits = {
  fileBytes: 1024 * 1024,
  totalBytes: 8 * 1024 * 1024,
  imports: 1000,
  importDepth: 32,
  nesting: 100,
  directives: 100_000,
};

export interface ParseOptions {
  readonly env?: Environment;
  /** The port of a key that names none (CoreDNS's -dns.port); 53. */
  readonly defaultPort?: number;
  readonly limits?: Partial<Limits>;
}

/** Reads the Corefile at `path` and everything it imports. Throws CorefileError. */
export async function parseCorefile(path: string, fs: CorefileFs = nodeFs, options: ParseOptions = {}): Promise<Corefile> {
  const parser = new Parser(fs, options);
  const file = posix.resolve(path);
  const tokens = await parser.read(file, null, []);
  return parser.finish(file, tokens);
}

/**
 * Parses Corefile text as if read from `file` (imports resolve against its folder). The text
 * itself is not listed in `sources`, as nothing was read for it.
 */
export async function parseCorefileText(
  text: string,
  file: string,
  fs: CorefileFs = nodeFs,
  options: ParseOptions = {},
): Promise<Corefile> {
  const parser = new Parser(fs, options);
  const abs = posix.resolve(file);
  parser.count(abs, Buffer.byteLength(text), null, [], true);
  return parser.finish(abs, tokenize(text, abs));
}

/** The files a parse read, the Corefile first: what a reload watches. */
export function filesRead(corefile: Corefile): string[] {
  return corefile.sources.map((s) => s.path);
}

/** A token stream: one file's tokens or one snippet's, read with a cursor. */
class Stream {
  readonly tokens: readonly Token[];
  i = 0;
  constructor(tokens: readonly Token[]) {
    this.tokens = tokens;
  }
  get end(): boolean {
    return this.i >= this.tokens.length;
  }
  get cur(): Token {
    return this.tokens[this.i] as Token;
  }
  /** The current token starts a line (Caddy compares the lines the tokens start on). */
  get newLine(): boolean {
    return this.i === 0 || (this.tokens[this.i - 1] as Token).line < this.cur.line;
  }
  take(): Token {
    return this.tokens[this.i++] as Token;
  }
}

const isOpen = (t: Token) => !t.quoted && t.text === '{';
const isClose = (t: Token) => !t.quoted && t.text === '}';
const isBrace = (t: Token) => isOpen(t) || isClose(t);

interface Snippet {
  readonly tokens: readonly Token[];
  readonly at: Location;
}

/** What an import is expanded into: top-level server blocks, or the lines of a block. */
type Context = { readonly kind: 'top' } | { readonly kind: 'block'; readonly depth: number; readonly out: Directive[] };

class Parser {
  readonly #fs: CorefileFs;
  readonly #env: Environment;
  readonly #defaultPort: number;
  readonly #limits: Limits;
  readonly #blocks: ServerBlock[] = [];
  readonly #sources: SourceFile[] = [];
  readonly #globs: GlobImport[] = [];
  readonly #warnings: Warning[] = [];
  readonly #snippets = new Map<string, Snippet>();
  /** Files (by real path) and snippets being expanded right now, for loop detection. */
  readonly #expanding: { readonly key: string; readonly shown: string }[] = [];
  #bytes = 0;
  #imports = 0;
  #directives = 0;

  constructor(fs: CorefileFs, options: ParseOptions) {
    this.#fs = fs;
    this.#env = options.env ?? process.env;
    this.#defaultPort = options.defaultPort ?? 53;
    this.#limits = { ...DEFAULT_LIMITS, ...options.limits };
  }

  async finish(file: string, tokens: Token[]): Promise<Corefile> {
    this.#expanding.push({ key: `file:${await this.#real(file)}`, shown: file });
    await this.#top(new Stream(this.#substitute(tokens)), []);
    return { path: file, blocks: this.#blocks, sources: this.#sources, globs: this.#globs, warnings: this.#warnings };
  }

  count(file: string, bytes: number, importedAt: Location | null, via: readonly Location[], checkFile = false): void {
    if (checkFile && bytes > this.#limits.fileBytes) {
      throw new CorefileError('limit', { file, line: 0 }, `larger than ${this.#limits.fileBytes} bytes (the most a ConfigMap holds)`, via);
    }
    this.#bytes += bytes;
    if (this.#bytes > this.#limits.totalBytes) {
      throw new CorefileError(
        'limit',
        importedAt ?? { file, line: 0 },
        `the Corefile and its imports exceed ${this.#limits.totalBytes} bytes`,
        via,
      );
    }
  }

  /** One file's tokens, after the checks that need no reading (missing, a directory, too large). */
  async read(file: string, importedAt: Location | null, via: readonly Location[]): Promise<Token[]> {
    const at = importedAt ?? { file, line: 0 };
    const what = importedAt ? `import ${file}: ` : '';
    const info = await this.#fs.stat(file);
    if (info === null) throw new CorefileError(importedAt ? 'import' : 'file', at, `${what}no such file`, via);
    if (info.kind === 'directory')
      throw new CorefileError(importedAt ? 'import' : 'file', at, `${what}is a directory, not a Corefile`, via);
    if (info.kind !== 'file') throw new CorefileError(importedAt ? 'import' : 'file', at, `${what}is not a regular file`, via);
    const cap = this.#limits.fileBytes;
    const tooLarge = `${what}larger than ${cap} bytes (the most a ConfigMap holds)`;
    if (info.size > cap) throw new CorefileError('limit', at, `${tooLarge}; not read`, via);
    let bytes: Uint8Array;
    try {
      bytes = await this.#fs.readFile(file, cap + 1);
    } catch (err) {
      throw new CorefileError(importedAt ? 'import' : 'file', at, `${what}cannot be read: ${(err as Error).message}`, via);
    }
    if (bytes.length > cap) throw new CorefileError('limit', at, tooLarge, via);
    this.count(file, bytes.length, importedAt, via);
    if (!this.#sources.some((f) => f.path === file)) this.#sources.push({ path: file, realPath: await this.#real(file), importedAt });
    const text = new TextDecoder('utf-8').decode(bytes);
    try {
      return tokenize(text, file);
    } catch (err) {
      if (err instanceof CorefileError) throw new CorefileError(err.kind, err, err.reason, importedAt ? [...via, importedAt] : via);
      throw err;
    }
  }

  async #real(path: string): Promise<string> {
    try {
      return await this.#fs.realpath(path);
    } catch {
      return path;
    }
  }

  /** Environment substitution on every token; a substituted token is text, never structure. */
  #substitute(tokens: Token[]): Token[] {
    return tokens.map((t) => {
      const text = substituteEnv(t.text, this.#env, t, (name) =>
        this.#warn(t, `environment variable ${name} is not set; it reads as empty`),
      );
      return text === null ? t : { ...t, text, quoted: true };
    });
  }

  #warn(at: Location, message: string): void {
    if (!this.#warnings.some((w) => w.file === at.file && w.line === at.line && w.message === message)) {
      this.#warnings.push({ file: at.file, line: at.line, message });
    }
  }

  /** Top level: server blocks, snippets and imports, until the stream ends. */
  async #top(s: Stream, via: readonly Location[]): Promise<void> {
    while (!s.end) {
      const first = s.cur;
      if (this.#isImport(s)) {
        await this.#import(s, { kind: 'top' }, via);
        continue;
      }
      if (isClose(first)) throw this.#syntax(first, "unexpected '}': no block is open", via);
      const keys = this.#keys(s, via);
      const snippet = keys.length === 1 && /^\(.*\)$/.test((keys[0] as Token).text);
      if (snippet) {
        this.#defineSnippet(s, keys[0] as Token, via);
        continue;
      }
      const named = keys.filter((k) => k.text !== '');
      for (const k of named) {
        if (/^\(.*\)$/.test(k.text)) throw this.#syntax(k, `"${k.text}": a snippet is named alone on its line, as "(name) {"`, via);
      }
      if (named.length === 0) throw this.#syntax(first, 'a server block needs a zone key (e.g. ".:53 {")', via);
      const directives: Directive[] = [];
      if (!s.end && isOpen(s.cur)) {
        const open = s.take();
        await this.#body(s, { kind: 'block', depth: 0, out: directives }, open, via);
      } else {
        // Caddy's brace-less form: the rest of the file is this one block's lines.
        await this.#body(s, { kind: 'block', depth: 0, out: directives }, null, via);
      }
      const parsed = named.map((k) => {
        try {
          return parseServerKey(k.text, k, this.#defaultPort);
        } catch (err) {
          if (err instanceof CorefileError) throw new CorefileError(err.kind, err, err.reason, via);
          throw err;
        }
      });
      this.#blocks.push({ keys: parsed, directives, file: first.file, line: first.line, via });
    }
  }

  /** A server block's keys: the words of its first line; a trailing comma carries on to the next. */
  #keys(s: Stream, via: readonly Location[]): Token[] {
    const keys: Token[] = [];
    let another = false;
    while (!s.end) {
      const t = s.cur;
      if (isOpen(t)) {
        if (another) throw this.#syntax(t, "expected another key after ',' but found '{'", via);
        break;
      }
      if (isClose(t)) throw this.#syntax(t, "unexpected '}' among server block keys", via);
      if (keys.length > 0 && !another && s.newLine) break;
      s.take();
      another = t.text.endsWith(',');
      keys.push(another ? { ...t, text: t.text.slice(0, -1) } : t);
    }
    if (another) throw this.#syntax(keys[keys.length - 1] as Token, "expected another key after ','", via);
    return keys;
  }

  #defineSnippet(s: Stream, key: Token, via: readonly Location[]): void {
    const name = key.text.slice(1, -1);
    if (name === '') throw this.#syntax(key, 'a snippet needs a name: "(name) {"', via);
    const seen = this.#snippets.get(name);
    if (seen) throw this.#syntax(key, `snippet (${name}) is already defined at ${seen.at.file}:${seen.at.line}`, via);
    if (s.end || !isOpen(s.cur)) throw this.#syntax(key, `snippet (${name}) needs a block: "(${name}) {" … "}"`, via);
    const open = s.take();
    const body: Token[] = [];
    let depth = 1;
    while (!s.end) {
      const t = s.take();
      if (isOpen(t)) depth++;
      if (isClose(t) && --depth === 0) {
        this.#snippets.set(name, { tokens: body, at: key });
        return;
      }
      body.push(t);
    }
    throw this.#syntax(open, `'{' of snippet (${name}) is never closed`, via);
  }

  /**
   * The lines of a block until its closing '}' (`open` given) or the end of the stream. A '}' may
   * end a line of a directive's block (`forward . 10.0.0.1 { max_fails 2 }`, which CoreDNS reads)
   * but not a line of the server block (`. { whoami }`, which CoreDNS refuses).
   */
  async #body(s: Stream, ctx: Context & { kind: 'block' }, open: Token | null, via: readonly Location[]): Promise<void> {
    for (;;) {
      if (s.end) {
        if (open) throw this.#syntax(open, "'{' is never closed (missing '}')", via);
        return;
      }
      const t = s.cur;
      if (isClose(t)) {
        if (!open) throw this.#syntax(t, "unexpected '}': no block is open here", via);
        s.take();
        return;
      }
      if (isOpen(t)) throw this.#syntax(t, "unexpected '{': a block opens at the end of its directive's line", via);
      if (this.#isImport(s)) {
        await this.#import(s, ctx, via);
        continue;
      }
      await this.#directive(s, ctx, via);
    }
  }

  async #directive(s: Stream, ctx: Context & { kind: 'block' }, via: readonly Location[]): Promise<void> {
    const head = s.take();
    if (head.text === '') throw this.#syntax(head, 'a directive has an empty name', via);
    if (++this.#directives > this.#limits.directives) {
      throw new CorefileError('limit', head, `more than ${this.#limits.directives} directive lines`, via);
    }
    const args: string[] = [];
    while (!s.end && !s.newLine && !isBrace(s.cur)) args.push(s.take().text);
    let block: Directive[] | null = null;
    if (!s.end && !s.newLine && isOpen(s.cur)) {
      const open = s.take();
      if (ctx.depth + 1 > this.#limits.nesting) {
        throw new CorefileError('limit', open, `blocks nested deeper than ${this.#limits.nesting}`, via);
      }
      block = [];
      await this.#body(s, { kind: 'block', depth: ctx.depth + 1, out: block }, open, via);
      const close = s.tokens[s.i - 1] as Token;
      if (!s.end && !s.newLine && !(isClose(s.cur) && ctx.depth > 0)) {
        throw this.#syntax(close, `unexpected "${s.cur.text}" after '}' on the same line`, via);
      }
    } else if (!s.end && !s.newLine && isClose(s.cur) && ctx.depth === 0) {
      throw this.#syntax(s.cur, `'}' on the line of "${head.text}": the server block's '}' goes on a line of its own`, via);
    }
    ctx.out.push({ name: head.text, args, block, file: head.file, line: head.line, via });
  }

  #isImport(s: Stream): boolean {
    return s.newLine && !s.cur.quoted && s.cur.text === 'import';
  }

  /** `import NAME|FILE|GLOB`: a snippet's tokens or files' tokens, parsed where the line stands. */
  async #import(s: Stream, ctx: Context, via: readonly Location[]): Promise<void> {
    const line = s.take();
    if (s.end || s.newLine || isBrace(s.cur)) {
      throw new CorefileError('import', line, 'import needs one argument: a snippet name, a file or a glob', via);
    }
    const arg = s.take();
    if (!s.end && !s.newLine) throw new CorefileError('import', line, 'import takes one argument (a snippet name, a file or a glob)', via);
    const pattern = arg.text;
    if (pattern === '') throw new CorefileError('import', line, 'import of an empty name', via);
    if (++this.#imports > this.#limits.imports) {
      throw new CorefileError('limit', line, `more than ${this.#limits.imports} imports (an import loop?)`, via);
    }
    const here: Location = { file: line.file, line: line.line };
    const inner = [...via, here];
    if (inner.length > this.#limits.importDepth) {
      throw new CorefileError('limit', line, `imports nested deeper than ${this.#limits.importDepth}`, via);
    }

    const snippet = this.#snippets.get(pattern);
    if (snippet) {
      await this.#expand(`snippet:${pattern}`, `(${pattern})`, line, via, () => this.#parseIn(new Stream(snippet.tokens), ctx, inner));
      return;
    }

    const abs = posix.resolve(posix.dirname(line.file), pattern);
    if (isGlob(abs)) {
      const problem = globProblem(abs);
      if (problem) throw new CorefileError('import', line, problem, via);
      const matches = await expandGlob(abs, this.#fs);
      this.#globs.push({ pattern: abs, matches, importedAt: here });
      if (matches.length === 0) this.#warn(here, `no files match import ${pattern}`);
      for (const file of matches) await this.#importFile(file, line, ctx, via, inner);
      return;
    }
    if ((await this.#fs.stat(abs)) === null) {
      const hint = /^[\w.-]+$/.test(pattern) ? ` and no snippet (${pattern}) is defined above this line` : '';
      throw new CorefileError('import', line, `import ${pattern}: no such file (${abs})${hint}`, via);
    }
    await this.#importFile(abs, line, ctx, via, inner);
  }

  async #importFile(file: string, line: Token, ctx: Context, via: readonly Location[], inner: readonly Location[]): Promise<void> {
    const real = await this.#real(file);
    await this.#expand(`file:${real}`, file, line, via, async () => {
      const tokens = this.#substitute(await this.read(file, { file: line.file, line: line.line }, via));
      await this.#parseIn(new Stream(tokens), ctx, inner);
    });
  }

  async #expand(key: string, shown: string, line: Token, via: readonly Location[], run: () => Promise<void>): Promise<void> {
    const loop = this.#expanding.findIndex((e) => e.key === key);
    if (loop !== -1) {
      const chain = [...this.#expanding.slice(loop).map((e) => e.shown), shown].join(' -> ');
      throw new CorefileError('import', line, `import loop: ${shown} is already being imported (${chain})`, via);
    }
    this.#expanding.push({ key, shown });
    try {
      await run();
    } finally {
      this.#expanding.pop();
    }
  }

  async #parseIn(s: Stream, ctx: Context, via: readonly Location[]): Promise<void> {
    if (ctx.kind === 'top') await this.#top(s, via);
    else await this.#body(s, ctx, null, via);
  }

  #syntax(at: Location, reason: string, via: readonly Location[]): CorefileError {
    return new CorefileError('syntax', at, reason, via);
  }
}
