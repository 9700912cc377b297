// What --check prints: every option set by a flag or the Corefile, in flag syntax, with where it
// came from, then the Corefile's server blocks and their plugins in the order a query meets them.
import type { OptionSpec } from '../base/options.ts';
import type { Plan } from '../corefile/directives/index.ts';
import { originName, type Assignment } from './table.ts';

const COLUMN = 44;

function shellWord(text: string): string {
  return /^[\w@%+=:,./[\]-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

/** The effective configuration as text; `implied`: the assignments a Corefile implies by silence. */
export function describeConfiguration(
  options: readonly OptionSpec<unknown>[],
  assignments: readonly Assignment[],
  plan: Plan | null,
  implied: ReadonlySet<Assignment> = new Set(),
): string {
  const lines: string[] = [];
  for (const spec of options) {
    const mine = assignments.filter((a) => a.flag === spec.flag);
    // Flags: the last one wins (repeatable ones add up).
    for (const a of spec.repeatable ? mine : mine.slice(-1)) {
      const flag =
        a.value === true ? `--${spec.flag}` : a.value === false ? `--${spec.flag}=false` : `--${spec.flag} ${shellWord(a.value)}`;
      const from =
        a.from.kind === 'flag'
          ? 'flag'
          : `${originName(spec.flag, a.from)}${implied.has(a) ? " (CoreDNS's default when the Corefile says nothing)" : ''}`;
      lines.push(`${flag.padEnd(COLUMN - 1)} # ${from}`);
    }
  }
  lines.push('# every other option at its default (--help lists them)');
  if (plan) {
    for (const server of plan.servers) {
      lines.push('', `# server block ${server.file}:${server.line}: ${server.keys.map((k) => k.text).join(' ')}`);
      lines.push(`#   plugins, in the order a query meets them: ${server.plugins.map((p) => p.name).join(' ') || '(none)'}`);
    }
    if (plan.reload) lines.push('', `# reload: every ${plan.reload.intervalMs / 1000}s (jitter ${plan.reload.jitterMs / 1000}s)`);
    for (const w of plan.warnings) lines.push(`# warning: ${w.file}:${w.line}: ${w.message}`);
  }
  return `${lines.join('\n')}\n`;
}
