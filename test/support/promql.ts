// Just enough of Prometheus to tell whether a dashboard's queries find series in a scrape: the
// exposition format parsed into series, and a PromQL reading that knows selectors, `by (…)`
// clauses and `or` (either side having data is enough, as in Prometheus).

export type Series = Readonly<Record<string, string>>;
/** Metric name → the label sets of its samples. */
export type Scrape = ReadonlyMap<string, readonly Series[]>;

export function parseScrape(text: string): Scrape {
  const out = new Map<string, Series[]>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+\S+/.exec(line);
    if (!m) throw new Error(`unparsable sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] as string] = l[2] as string;
    const name = m[1] as string;
    const list = out.get(name) ?? [];
    list.push(labels);
    out.set(name, list);
  }
  return out;
}

export interface Term {
  readonly metrics: { readonly name: string; readonly matchers: readonly { label: string; op: string; value: string }[] }[];
  readonly by: readonly string[];
}

const KEYWORDS = new Set(['by', 'without', 'or', 'and', 'unless', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset']);

/** Splits at `or` on the outermost level of `expr`. */
function splitOr(expr: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let last = 0;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (c === '(' || c === '{' || c === '[') depth++;
    else if (c === ')' || c === '}' || c === ']') depth--;
    else if (depth === 0 && /\bor\b/y.test(expr.slice(i, i + 3)) && /\W/.test(expr[i - 1] ?? ' ') && /\W/.test(expr[i + 2] ?? ' ')) {
      parts.push(expr.slice(last, i));
      last = i + 2;
      i++;
    }
  }
  parts.push(expr.slice(last));
  return parts;
}

/** The selectors and `by` labels of a term without a top-level `or`. */
export function readTerm(term: string): Term {
  const by: string[] = [];
  const withoutBy = term.replace(/\b(?:by|without)\s*\(([^)]*)\)/g, (_, labels: string) => {
    for (const l of labels.split(',')) if (l.trim() !== '') by.push(l.trim());
    return ' ';
  });
  const metrics: Term['metrics'][number][] = [];
  const re = /([a-zA-Z_:][\w:]*)\s*(\{[^}]*\})?/g;
  for (const m of withoutBy.replace(/\[[^\]]*\]/g, ' ').matchAll(re)) {
    const name = m[1] as string;
    const after = withoutBy.slice((m.index ?? 0) + m[0].length).trimStart();
    if (KEYWORDS.has(name) || (m[2] === undefined && after.startsWith('('))) continue;
    const matchers = [...(m[2] ?? '').matchAll(/([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)].map((x) => ({
      label: x[1] as string,
      op: x[2] as string,
      value: x[3] as string,
    }));
    metrics.push({ name, matchers });
  }
  return { metrics, by };
}

export interface CheckOptions {
  /** Labels Prometheus adds at scrape time (job, instance, cluster): not ours to export. */
  readonly targetLabels: readonly string[];
  /** metric → `by` labels it may lack (PromQL then groups all its series into one). */
  readonly mayLack?: Readonly<Record<string, readonly string[]>>;
}

/** Why `expr` would find no data in `scrape`, or null when it would. */
export function whyEmpty(expr: string, scrape: Scrape, options: CheckOptions): string | null {
  const alternatives = splitOr(expr);
  const reasons: string[] = [];
  for (const alt of alternatives) {
    const reason = whyTermEmpty(alt, scrape, options);
    if (reason === null) return null;
    reasons.push(reason);
  }
  return reasons.join(' | ');
}

function whyTermEmpty(term: string, scrape: Scrape, options: CheckOptions): string | null {
  // A parenthesised group holding its own `or` is judged as a whole; everything else must hold.
  let rest = '';
  for (let i = 0; i < term.length; i++) {
    if (term[i] !== '(') {
      rest += term[i];
      continue;
    }
    let depth = 0;
    let j = i;
    for (; j < term.length; j++) {
      if (term[j] === '(') depth++;
      else if (term[j] === ')' && --depth === 0) break;
    }
    const inner = term.slice(i + 1, j);
    if (splitOr(inner).length > 1) {
      const reason = whyEmpty(inner, scrape, options);
      if (reason !== null) return reason;
      rest += '( )';
    } else {
      const reason = whyTermEmpty(inner, scrape, options);
      if (reason !== null) return reason;
      // Keep the group's text out of `rest`: its selectors are checked; its `by` may follow it.
      rest += '( )';
      const byClause = /^\s*by\s*\([^)]*\)/.exec(term.slice(j + 1));
      if (byClause) {
        // A `by` after the group applies to the metrics inside it.
        const { by } = readTerm(byClause[0]);
        const { metrics } = readTerm(inner);
        const reason2 = checkBy(
          metrics.map((m) => m.name),
          by,
          scrape,
          options,
        );
        if (reason2 !== null) return reason2;
        j += byClause[0].length;
      }
    }
    i = j;
  }
  const { metrics, by } = readTerm(rest);
  for (const { name, matchers } of metrics) {
    const series = scrape.get(name);
    if (!series || series.length === 0) return `no series named ${name}`;
    for (const { label, op, value } of matchers) {
      if (options.targetLabels.includes(label)) continue;
      if (!series.some((s) => label in s)) return `${name} has no label ${label}`;
      if (op === '=' && !series.some((s) => s[label] === value)) return `${name} has no series with ${label}="${value}"`;
    }
  }
  return checkBy(
    metrics.map((m) => m.name),
    by,
    scrape,
    options,
  );
}

function checkBy(names: readonly string[], by: readonly string[], scrape: Scrape, options: CheckOptions): string | null {
  for (const name of names) {
    const series = scrape.get(name) ?? [];
    for (const label of by) {
      if (options.targetLabels.includes(label) || options.mayLack?.[name]?.includes(label)) continue;
      if (!series.some((s) => label in s)) return `${name} has no label ${label} (by)`;
    }
  }
  return null;
}
