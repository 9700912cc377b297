// Loaded into the server by `bench/snapshot-stall.ts --gc` (node --import): one JSON line on
// stderr per garbage collection the process observes, with its kind, start (epoch ms, the clock
// of the server's log) and pause, so the bench can tell which probe waits a collection explains.
// `incremental` is the start of a major GC's incremental marking, `major` its final pause.
// For diagnosis only: the observer itself makes a little garbage per collection.
import { writeSync } from 'node:fs';
import { PerformanceObserver, constants } from 'node:perf_hooks';

const KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

new PerformanceObserver((list) => {
  let text = '';
  for (const entry of list.getEntries()) {
    const kind = KINDS[(entry as unknown as { detail: { kind: number } }).detail.kind] ?? 'other';
    text += `{"msg":"gc","kind":"${kind}","start":${(performance.timeOrigin + entry.startTime).toFixed(2)},"ms":${entry.duration.toFixed(3)}}\n`;
  }
  writeSync(2, text);
}).observe({ entryTypes: ['gc'] });
