// A parsed Corefile written back as Corefile text, normalized: imports and snippets expanded,
// comments dropped, one key per zone (`zone:port`), four spaces per level, braces on every block.
import { isSpace } from './lexer.ts';
import type { Corefile, Directive } from './parse.ts';

/** Text that parses back to the same blocks, keys and directives. */
export function printCorefile(corefile: Pick<Corefile, 'blocks'>): string {
  const out: string[] = [];
  for (const block of corefile.blocks) {
    const keys = block.keys.flatMap((k) => k.zones.map((zone) => `${zone}:${k.port}`));
    out.push(`${keys.map(word).join(' ')} {`);
    printLines(block.directives, 1, out);
    out.push('}');
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

function printLines(lines: readonly Directive[], depth: number, out: string[]): void {
  const indent = '    '.repeat(depth);
  for (const d of lines) {
    const words = [d.name, ...d.args];
    // Caddy starts a new line at any token after one that spans lines.
    if (words.some((w, i) => w.includes('\n') && (i < words.length - 1 || d.block !== null))) {
      throw new Error(`cannot write "${d.name}" at ${d.file}:${d.line}: an argument holding a newline must end its line`);
    }
    const head = [d.name === 'import' ? quote(d.name) : word(d.name), ...d.args.map(word)].join(' ');
    if (d.block === null) {
      out.push(indent + head);
      continue;
    }
    out.push(`${indent}${head} {`);
    printLines(d.block, depth + 1, out);
    out.push(`${indent}}`);
  }
}

/** A token as the lexer will read it back: bare when that is unambiguous, quoted otherwise. */
function word(text: string): string {
  if (/\{[$%]/.test(text)) throw new Error(`cannot write ${JSON.stringify(text)}: it would read as an environment reference`);
  const bare = text !== '' && text !== '{' && text !== '}' && !text.startsWith('"') && !text.includes('#') && ![...text].some(isSpace);
  return bare ? text : quote(text);
}

/**
 * Inside quotes only `\"` is an escape, so a backslash right before a quote (or at the end) has no
 * spelling; such text cannot come from the lexer, only from an environment value.
 */
function quote(text: string): string {
  if (/\\("|$)/.test(text)) throw new Error(`cannot write ${JSON.stringify(text)} as a Corefile token`);
  return `"${text.replaceAll('"', '\\"')}"`;
}
