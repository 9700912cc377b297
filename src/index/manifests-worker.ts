// The worker thread of loadManifests (manifests.ts): reads and converts the files off the event
// loop, within its own heap limit, then hands the records over a batch per request, so that the
// serving thread takes in one batch per turn.
import { parentPort, workerData } from 'node:worker_threads';
import { batchesOf, ManifestError, readManifests, type FromWorker } from './manifests.ts';
import { KINDS } from '../objects/kinds.ts';

const port = parentPort!;
const send = (message: FromWorker) => port.postMessage(message);
const { path, maxBytes } = workerData as { path: string; maxBytes: number };
try {
  const records = readManifests(path, { maxBytes });
  const batches = batchesOf(records);
  port.on('message', () => {
    const next = batches.next();
    send(next.done ? { type: 'done' } : { type: 'batch', ...next.value });
  });
  send({ type: 'counts', counts: Object.fromEntries(KINDS.map((k) => [k, records[k].length])) as Record<(typeof KINDS)[number], number> });
} catch (err) {
  send({ type: 'error', message: err instanceof ManifestError ? err.message : `${path}: ${String(err)}` });
}
