// Setting the options of a table from any source, and printing a table for people.
//
// The shape, for the Corefile reader (issue 20) as much as for flags:
//   assignments  [{ flag: 'ttl', value: '30', from: { kind: 'flag' } },
//                 { flag: 'cache-success-ttl', value: '30', from: { kind: 'corefile', file, line, directive: 'cache' } }]
//   resolveOptions(TABLE, assignments) -> { values, origins, given(key), nameOf(flag) }
// Every value goes through its option's own parser, whatever its source; an error names the
// flag (`--ttl: …`) or the place (`Corefile:12: cache: …`). An option set by a flag and by
// another source is an error naming both. `origins` says where each value came from.
import {
  ConfigError,
  type DescribedDefault,
  type OptionGroup,
  type OptionSpec,
  type OptionTable,
  type OptionValues,
} from '../base/options.ts';

/** Where a value came from. */
export type Origin =
  | { readonly kind: 'default' }
  | { readonly kind: 'flag' }
  | { readonly kind: 'corefile'; readonly file: string; readonly line: number; readonly directive: string };

/** One value for one option. A switch takes a boolean, any other option a text for its parser. */
export interface Assignment {
  /** The option's flag, without dashes. */
  readonly flag: string;
  readonly value: string | boolean;
  readonly from: Origin;
}

export interface Resolved<S extends OptionTable> {
  readonly values: OptionValues<S>;
  /** A repeatable option's origin is its first assignment's. */
  readonly origins: { readonly [K in keyof S]: Origin };
  /** Set by some source rather than defaulted. */
  given(key: keyof S): boolean;
}

/** How an error names what the user wrote: `--ttl`, or `Corefile:12: cache`. */
export function originName(flag: string, from: Origin): string {
  return from.kind === 'corefile' ? `${from.file}:${from.line}: ${from.directive}` : `--${flag}`;
}

function described<T>(d: OptionSpec<T>['default']): d is DescribedDefault<T> {
  return typeof d !== 'string';
}

/** An option's default value: its default text through its own parser, or the described value. */
export function defaultValue<T>(spec: OptionSpec<T>): T {
  return described(spec.default) ? spec.default.value : spec.parse(spec.default, `--${spec.flag}`);
}

/** What --help shows after "default" ('' for nothing). */
export function defaultText(spec: OptionSpec<unknown>): string {
  return described(spec.default) ? spec.default.text : spec.default;
}

/** The README's default column. */
export function defaultDoc(spec: OptionSpec<unknown>): string {
  if (!described(spec.default)) return `\`${spec.default}\``;
  return spec.default.doc ?? (spec.default.text === '' ? '' : `\`${spec.default.text}\``);
}

function parseOne<T>(spec: OptionSpec<T>, a: Assignment): T {
  const name = originName(spec.flag, a.from);
  if (typeof a.value === 'boolean') {
    if (spec.arg !== undefined) throw new ConfigError(name, 'needs a value');
    return spec.parse(String(a.value), name);
  }
  return spec.parse(a.value, name);
}

/** The table's values from `assignments` (those for other tables' flags are left alone). */
export function resolveOptions<S extends OptionTable>(table: S, assignments: readonly Assignment[]): Resolved<S> {
  const values: Record<string, unknown> = {};
  const origins: Record<string, Origin> = {};
  for (const [key, spec] of Object.entries(table)) {
    const mine = assignments.filter((a) => a.flag === spec.flag);
    const flag = mine.find((a) => a.from.kind === 'flag');
    const other = mine.filter((a) => a.from.kind !== 'flag');
    if (flag && other[0]) {
      throw new ConfigError(`--${spec.flag}`, `also set at ${originName(spec.flag, other[0].from)}: set it in one place`);
    }
    if (!spec.repeatable && other.length > 1) {
      throw new ConfigError(
        originName(spec.flag, other[1]!.from),
        `sets ${spec.flag} again (already set at ${originName(spec.flag, other[0]!.from)})`,
      );
    }
    if (mine.length === 0) {
      values[key] = defaultValue(spec);
      origins[key] = { kind: 'default' };
    } else if (spec.repeatable) {
      values[key] = mine.flatMap((a) => parseOne(spec, a) as readonly unknown[]);
      origins[key] = mine[0]!.from;
    } else {
      // Flags: the last one wins, as node:util's parseArgs (and most CLIs) have it.
      const last = mine[mine.length - 1]!;
      values[key] = parseOne(spec, last);
      origins[key] = last.from;
    }
  }
  return {
    values: values as OptionValues<S>,
    origins: origins as Resolved<S>['origins'],
    given: (key) => origins[key as string]?.kind !== 'default',
  };
}

/** Freezes `value` and everything it holds. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

// --help

const HELP_COLUMN = 26;
const HELP_WIDTH = 112;

function optionName(spec: OptionSpec<unknown>): string {
  return `--${spec.flag}${spec.arg === undefined ? '' : ` ${spec.arg}`}`;
}

/** `text` in lines of at most HELP_WIDTH, the first starting at `column`, the others at HELP_COLUMN. */
function wrap(text: string, column: number): string {
  const lines: string[] = [];
  let line = '';
  let width = HELP_WIDTH - column;
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
      width = HELP_WIDTH - HELP_COLUMN;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines.join(`\n${' '.repeat(HELP_COLUMN)}`);
}

/** One option's --help entry: the flag, then its help and default, wrapped under HELP_COLUMN. */
export function helpEntry(spec: OptionSpec<unknown>): string {
  const left = `  ${optionName(spec)}`;
  const shown = defaultText(spec);
  // A described default (`the nameservers of --resolv-conf`) reads after a colon.
  const text = shown === '' ? spec.help : `${spec.help} (default${described(spec.default) ? ':' : ''} ${shown})`;
  const start = left.length < HELP_COLUMN - 1 ? left.padEnd(HELP_COLUMN) : `${left}  `;
  return `${start}${wrap(text, start.length)}`;
}

export interface HelpSection {
  readonly group: OptionGroup;
  /** The heading, and what it needs to say before the flags. */
  readonly title: string;
}

/** The usage text: `head`, then each section's heading and its options in table order, then `tail`. */
export function renderUsage(head: string, sections: readonly HelpSection[], specs: readonly OptionSpec<unknown>[], tail: string): string {
  const parts = sections.map(({ group, title }) => [title, ...specs.filter((s) => s.group === group).map(helpEntry)].join('\n'));
  return `${head}\n${parts.join('\n\n')}\n${tail}`;
}

// README

/** The README's flag table, one row an option, in table order; `extra` rows go last. */
export function renderFlagTable(specs: readonly OptionSpec<unknown>[], extra: readonly string[]): string {
  const row = (cells: string[]) => `|${cells.map((c) => (c === '' ? ' ' : ` ${c} `)).join('|')}|`;
  const rows = specs.map((s) => row([`\`${optionName(s)}\``, defaultDoc(s), s.doc]));
  return ['| flag | default | meaning |', '|---|---|---|', ...rows, ...extra].join('\n');
}
