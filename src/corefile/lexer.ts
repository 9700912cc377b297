// The Corefile's tokens, read the way CoreDNS's Caddy v1 lexer (coredns/caddy caddyfile/lexer.go)
// reads them, with errors where that lexer silently accepts broken input.
import { CorefileError } from './errors.ts';

export interface Token {
  readonly text: string;
  readonly file: string;
  /** The line the token starts on; a quoted token may run onto later lines. */
  readonly line: number;
  /** Quoted tokens are never braces, comments or `import`. */
  readonly quoted: boolean;
}

/** Go's unicode.IsSpace, which is what Caddy splits on (JavaScript's \s differs: U+0085, U+FEFF). */
export function isSpace(ch: string): boolean {
  switch (ch) {
    case ' ':
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case '\u0085':
    case '\u00a0':
    case '\u1680':
    case '\u2028':
    case '\u2029':
    case '\u202f':
    case '\u205f':
    case '\u3000':
      return true;
    default:
      return ch >= '\u2000' && ch <= '\u200a';
  }
}

/**
 * Splits Corefile text into tokens.
 * - Whitespace separates tokens; a newline ends a directive's line (the parser compares lines).
 * - `#` outside quotes starts a comment to the end of the line, even inside a word (`a#b` is `a`).
 * - `"` opens a quoted token only at the start of a token; it may span lines, and `\"` is the only
 *   escape (any other backslash stays as written). A quote inside a word is a plain character.
 * - A carriage return outside quotes is dropped; a leading byte order mark is skipped.
 * Errors: a NUL character (not a text file) and a quote left open at the end of the text, which
 * Caddy accepts as if closed there.
 */
export function tokenize(text: string, file: string): Token[] {
  const nul = text.indexOf('\u0000');
  if (nul !== -1) {
    const line = countNewlines(text, nul) + 1;
    throw new CorefileError('file', { file, line }, 'NUL byte: this is not a text file');
  }
  const tokens: Token[] = [];
  let i = text.startsWith('\ufeff') ? 1 : 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const ch = text[i] as string;
    if (ch === '\n') {
      line++;
      i++;
      continue;
    }
    if (isSpace(ch)) {
      i++;
      continue;
    }
    if (ch === '#') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (ch === '"') {
      const start = line;
      let value = '';
      let escaped = false;
      i++;
      for (;;) {
        if (i >= n) throw new CorefileError('syntax', { file, line: start }, 'quoted string is never closed (missing ")');
        const c = text[i++] as string;
        if (!escaped && c === '\\') {
          escaped = true;
          continue;
        }
        if (!escaped && c === '"') break;
        if (c === '\n') line++;
        if (escaped && c !== '"') value += '\\';
        value += c;
        escaped = false;
      }
      tokens.push({ text: value, file, line: start, quoted: true });
      continue;
    }
    let value = '';
    while (i < n) {
      const c = text[i] as string;
      if (c === '\r') {
        i++;
        continue;
      }
      if (isSpace(c) || c === '#') break;
      value += c;
      i++;
    }
    tokens.push({ text: value, file, line, quoted: false });
  }
  return tokens;
}

function countNewlines(text: string, end: number): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) count++;
  return count;
}
