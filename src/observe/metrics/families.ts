// The few shapes every family here takes, on a registry's `registers` list: each reads its values
// from the counters at scrape time (collect), so nothing runs per query.
import { Counter, Gauge, type Metric, type Registry } from 'prom-client';
import type { HistogramSample } from '../../base/histogram.ts';
import type { Sample } from '../../server/counters.ts';

export type Registers = Registry[];

type Samples = () => Iterable<Sample>;

/** A labelled counter, refilled from `samples` at every scrape. */
export function counter(registers: Registers, name: string, help: string, labelNames: readonly string[], samples: Samples): void {
  const collect = function (this: Counter) {
    this.reset();
    for (const s of samples()) this.inc(s.labels, s.value);
  };
  new Counter({ name, help, labelNames, registers, collect });
}

/** A labelled gauge, refilled from `samples` at every scrape. */
export function gauge(registers: Registers, name: string, help: string, labelNames: readonly string[], samples: Samples): void {
  const collect = function (this: Gauge) {
    this.reset();
    for (const s of samples()) this.set(s.labels, s.value);
  };
  new Gauge({ name, help, labelNames, registers, collect });
}

/** A counter without labels. */
export function simpleCounter(registers: Registers, name: string, help: string, read: () => number): void {
  counter(registers, name, help, [], () => [{ labels: {}, value: read() }]);
}

/** A gauge without labels. */
export function simpleGauge(registers: Registers, name: string, help: string, read: () => number): void {
  gauge(registers, name, help, [], () => [{ labels: {}, value: read() }]);
}

/** A histogram family whose buckets are counted elsewhere (src/base/histogram.ts), read at scrape time. */
export function histogram(registers: Registers, name: string, help: string, samples: () => Iterable<HistogramSample>): void {
  // The registry formats whatever `get()` returns; the union type names only prom-client's own classes.
  for (const registry of registers) registry.registerMetric(new HistogramFamily(name, help, samples) as unknown as Metric);
}

/**
 * prom-client's Histogram can only `observe()`, one value at a time, so this speaks the registry's
 * metric interface (name, help, type, get) directly, as its own metrics do.
 */
class HistogramFamily {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #samples: () => Iterable<HistogramSample>;

  constructor(name: string, help: string, samples: () => Iterable<HistogramSample>) {
    this.name = name;
    this.help = help;
    this.#samples = samples;
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: object[] }> {
    const values: object[] = [];
    for (const { labels, histogram, series } of this.#samples()) {
      const cumulative = histogram.cumulative(series);
      histogram.bounds.forEach((le, i) => {
        values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le }, value: cumulative[i] ?? 0 });
      });
      const count = cumulative[histogram.bounds.length] ?? 0;
      values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: count });
      values.push({ metricName: `${this.name}_sum`, labels, value: histogram.sums[series] ?? 0 });
      values.push({ metricName: `${this.name}_count`, labels, value: count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    // Nothing to reset: the counts belong to whoever observes them.
  }
}
