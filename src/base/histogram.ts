// The one histogram of the code base: per-bucket counts in typed arrays, a run of slots per series,
// bumped where things happen (the query path, the forwarder, the watches) and read as Prometheus
// cumulative buckets at scrape time (src/observe/metrics/). Imports nothing: server/, upstream/
// and observe/ all count with it.

/** Prometheus's ExponentialBuckets(start, factor, count): start · factor^i. */
export function exponentialBuckets(start: number, factor: number, count: number): readonly number[] {
  return Array.from({ length: count }, (_, i) => start * factor ** i);
}

/** CoreDNS's plugin.TimeBuckets, ExponentialBuckets(0.00025, 2, 16): 0.25 ms … 8.192 s. */
export const TIME_BUCKETS: readonly number[] = exponentialBuckets(0.00025, 2, 16);

/** A histogram as plain JSON (what crosses the --workers IPC channel). */
export interface HistogramJson {
  readonly counts: readonly number[];
  readonly sums: readonly number[];
  readonly totals: readonly number[];
}

/** One labelled series of a histogram family: series `series` of `histogram`. */
export interface HistogramSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly histogram: Histogram;
  readonly series: number;
}

export class Histogram {
  readonly bounds: readonly number[];
  /** Non-cumulative counts: per series one slot per bound, then one above the top bound (+Inf). */
  readonly counts: Float64Array;
  /** Per series: the sum and the number of the values observed. */
  readonly sums: Float64Array;
  readonly totals: Float64Array;
  readonly #width: number;

  constructor(bounds: readonly number[], series = 1) {
    this.bounds = bounds;
    this.#width = bounds.length + 1;
    this.counts = new Float64Array(series * this.#width);
    this.sums = new Float64Array(series);
    this.totals = new Float64Array(series);
  }

  observe(value: number, series = 0): void {
    const bounds = this.bounds;
    // Most values fall in the first buckets, so a linear scan beats a binary search here.
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[series * this.#width + i]!++;
    this.sums[series]! += value;
    this.totals[series]!++;
  }

  /** Cumulative counts per bound of one series, +Inf (its count) last. */
  cumulative(series = 0): number[] {
    const out: number[] = [];
    let running = 0;
    for (let i = 0; i < this.#width; i++) {
      running += this.counts[series * this.#width + i] as number;
      out.push(running);
    }
    return out;
  }

  /** The sum of the values observed in every series (a one-series histogram's own). */
  get sum(): number {
    return this.sums.reduce((a, b) => a + b, 0);
  }

  /** How many values were observed in every series. */
  get count(): number {
    return this.totals.reduce((a, b) => a + b, 0);
  }

  toJSON(): HistogramJson {
    return { counts: [...this.counts], sums: [...this.sums], totals: [...this.totals] };
  }

  /** Adds another process's histogram of the same layout (--workers sums). */
  add(from: HistogramJson): void {
    addSlots(this.counts, from.counts);
    addSlots(this.sums, from.sums);
    addSlots(this.totals, from.totals);
  }

  clear(): void {
    this.counts.fill(0);
    this.sums.fill(0);
    this.totals.fill(0);
  }
}

/**
 * Slot by slot. Processes of one server have the same configuration, hence the same layout; a
 * mismatch (never expected) adds what overlaps rather than throwing in the middle of a scrape.
 */
export function addSlots(into: Float64Array, from: readonly number[]): void {
  const n = Math.min(into.length, from.length);
  for (let i = 0; i < n; i++) into[i]! += from[i] as number;
}
