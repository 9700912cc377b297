// The worker thread of loadManifests (manifests.ts): reads and converts the files off the event
// loop, within its own heap limit, then hands the records over a batch per request, so that the
// serving thread takes in one batch per turn.
import { parentPort, workerData } from 'node:worker_threads';
import { batchesOf, ManifestError, readManifests, type FromWorker, type RecordsByKind } from './manifests.ts';
import { type ConvertOptions, type Kind, KINDS } from '../objects/kinds.ts';
import { releaseMemory } from '../base/memory.ts';

const port = parentPort!;
const send = (message: FromWorker) => port.postMessage(message);
const { path, maxBytes, convert } = workerData as { path: string; maxBytes: number; convert: ConvertOptions };

const countsOf = (records: RecordsByKind) => Object.fromEntries(KINDS.map((k) => [k, records[k].length])) as Record<Kind, number>;

/** In a function, not at the module's top level: a module's locals live as long as the module. */
function serve(): void {
  const records = readManifests(path, { maxBytes, convert });
  const counts = countsOf(records);
  let batches: ReturnType<typeof batchesOf> | null = batchesOf(records);
  port.on('message', () => {
    const next = batches?.next();
    if (next && !next.done) return send({ type: 'batch', ...next.value });
    // Everything is handed over, so this heap is garbage: collected here, its pages are unmapped
    // at once, where at the thread's end V8 would pool them in the process for another 8 s.
    // (On the next turn: this frame still holds the generator.)
    batches = null;
    setImmediate(() => {
      releaseMemory();
      send({ type: 'done' });
    });
  });
  send({ type: 'counts', counts });
}

try {
  serve();
} catch (err) {
  send({ type: 'error', message: err instanceof ManifestError ? err.message : `${path}: ${String(err)}` });
}
