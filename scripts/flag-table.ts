// Prints the README's "Flags" table from the option table (src/config.ts), to paste over the
// README's; `--write` replaces it in README.md. test/config.test.ts fails while the two differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { README_FLAG_TABLE } from '../src/config.ts';

/** The README's flag table: from its header row to the last line starting with `|`. */
export function readmeFlagTable(readme: string): { readonly start: number; readonly end: number; readonly text: string } | null {
  const lines = readme.split('\n');
  const start = lines.indexOf(README_FLAG_TABLE.split('\n')[0]!);
  if (start < 0) return null;
  let end = start;
  while (end < lines.length && lines[end]!.startsWith('|')) end++;
  return { start, end, text: lines.slice(start, end).join('\n') };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--write')) {
    const path = fileURLToPath(new URL('../README.md', import.meta.url));
    const readme = readFileSync(path, 'utf8');
    const found = readmeFlagTable(readme);
    if (!found) throw new Error('README.md has no flag table (a "| flag | default | meaning |" row)');
    const lines = readme.split('\n');
    lines.splice(found.start, found.end - found.start, README_FLAG_TABLE);
    writeFileSync(path, lines.join('\n'));
  } else {
    process.stdout.write(`${README_FLAG_TABLE}\n`);
  }
}
