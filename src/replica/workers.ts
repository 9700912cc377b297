// --workers N: N processes answer queries on the same ports (SO_REUSEPORT: the kernel spreads
// datagrams and connections over their sockets), and only one of them watches the cluster: the
// watching process streams every index change to the others (node:cluster IPC), so more cores
// give more QPS without N copies of the watch, of the list traffic or of the API server's load.
// A new worker gets the whole index first, then the stream; one that dies is replaced.
// /metrics (served by the watching process only) asks every worker for its query counters at
// each scrape and reports the sums (src/replica/totals.ts).
import cluster, { type Worker } from 'node:cluster';
import { ClusterIndex, type Mutation } from '../index/index.ts';
import type { HostPort } from '../base/address.ts';
import type { Logger } from '../base/log.ts';
import { ListedKinds, type ListedListener, type Source } from '../index/source.ts';
import { KINDS } from '../objects/kinds.ts';
import { snapshotCounters, type CountedParts, type CountersSnapshot } from './totals.ts';

/** IPC messages, watcher → replica. */
type ToReplica =
  | { readonly type: 'mutations'; readonly batch: readonly Mutation[] }
  | { readonly type: 'snapshot-done'; readonly listen: readonly HostPort[] }
  | { readonly type: 'collect'; readonly id: number };
/** IPC messages, replica → watcher. */
type FromReplica = { readonly type: 'counters'; readonly id: number; readonly snapshot: CountersSnapshot };

/** How long a scrape waits for the workers' counters; one that misses it counts with its last report. */
const COLLECT_TIMEOUT_MS = 1_000;

const SNAPSHOT_BATCH = 5_000;

export function isReplica(): boolean {
  return cluster.isWorker;
}

export interface Replicas {
  /** Every live worker's query counters (those that answer within a second). */
  collect(): Promise<CountersSnapshot[]>;
  stop(): Promise<void>;
}

/**
 * In the watching process: forks `count` replicas running this same program, feeds each the
 * index (the snapshot, then every mutation in order), and replaces any that exits.
 */
export function startReplicas(count: number, index: ClusterIndex, listen: readonly HostPort[], logger: Logger): Replicas {
  const log = logger.child({ component: 'workers' });
  const live = new Set<Worker>();
  let stopping = false;
  let collectId = 0;
  const pending = new Map<number, { readonly waiting: Set<Worker>; readonly done: () => void }>();
  // Counters only grow: a worker late for a scrape counts with its last report, and the counts of
  // a worker that exited stay in the sums (its gauges do not), so no total ever goes backwards.
  const last = new Map<Worker, CountersSnapshot>();
  const retired: CountersSnapshot[] = [];
  let queue: Mutation[] = [];
  let flushing = false;

  const send = (worker: Worker, message: ToReplica) => {
    if (worker.isConnected()) worker.send(message);
  };
  index.onMutation((m) => {
    if (live.size === 0) return;
    queue.push(m);
    if (flushing) return;
    flushing = true;
    // One message per turn of the event loop: a relist of 150k pods is a few hundred messages.
    setImmediate(() => {
      flushing = false;
      const batch = queue;
      queue = [];
      for (const worker of live) send(worker, { type: 'mutations', batch });
    });
  });

  const fork = () => {
    const worker = cluster.fork({ CDNS_REPLICA: '1' });
    worker.on('message', (message: FromReplica) => {
      if (message?.type !== 'counters') return;
      last.set(worker, message.snapshot);
      const scrape = pending.get(message.id);
      if (scrape?.waiting.delete(worker) && scrape.waiting.size === 0) scrape.done();
    });
    worker.on('online', () => {
      // Everything so far in one synchronous pass, then the stream: nothing in between is lost.
      let batch: Mutation[] = [];
      for (const m of index.snapshot()) {
        batch.push(m);
        if (batch.length >= SNAPSHOT_BATCH) {
          send(worker, { type: 'mutations', batch });
          batch = [];
        }
      }
      send(worker, { type: 'mutations', batch });
      send(worker, { type: 'snapshot-done', listen });
      live.add(worker);
      log.info({ worker: worker.process.pid }, 'worker started');
    });
    worker.on('exit', (code, signal) => {
      live.delete(worker);
      const final = last.get(worker);
      if (final) {
        last.delete(worker);
        retired.push(final.cache ? { ...final, cache: { ...final.cache, entries: { success: 0, denial: 0 } } } : final);
      }
      for (const scrape of pending.values()) if (scrape.waiting.delete(worker) && scrape.waiting.size === 0) scrape.done();
      if (stopping) return;
      log.warn({ worker: worker.process.pid, code, signal }, 'worker exited; starting another');
      setTimeout(fork, 500).unref();
    });
  };
  for (let i = 0; i < count; i++) fork();

  return {
    collect: () =>
      new Promise((resolve) => {
        const id = ++collectId;
        const waiting = new Set([...live].filter((w) => w.isConnected()));
        let timer: NodeJS.Timeout | null = null;
        const done = () => {
          if (timer) clearTimeout(timer);
          pending.delete(id);
          resolve([...retired, ...last.values()]);
        };
        if (waiting.size === 0) {
          done();
          return;
        }
        pending.set(id, { waiting, done });
        timer = setTimeout(() => {
          log.warn(
            { workers: [...waiting].map((w) => w.process.pid) },
            'workers did not report their counters in time; this scrape uses their last report',
          );
          done();
        }, COLLECT_TIMEOUT_MS);
        timer.unref();
        for (const worker of waiting) send(worker, { type: 'collect', id });
      }),
    stop: async () => {
      stopping = true;
      const exits = [...live].map((w) => new Promise<void>((resolve) => w.once('exit', () => resolve())));
      for (const worker of live) worker.kill('SIGTERM');
      await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 5_000).unref())]);
    },
  };
}

/**
 * In a replica, the source of its index: the watching process sends the whole index, then the
 * addresses to listen on (resolved there, so port 0 works), then every change. start() resolves
 * once the whole index has arrived; that is every kind's one full list.
 */
export class ReplicaFeed implements Source {
  readonly index = new ClusterIndex();
  readonly #listed = new ListedKinds(null);
  #listen: readonly HostPort[] = [];
  #started: Promise<void> | null = null;
  #onMessage: ((message: ToReplica) => void) | null = null;

  start(): Promise<void> {
    this.#started ??= new Promise((resolve) => {
      this.#onMessage = (message: ToReplica) => {
        if (message.type === 'mutations') for (const m of message.batch) this.index.apply(m);
        else if (message.type === 'snapshot-done') {
          this.#listen = message.listen;
          for (const kind of KINDS) this.#listed.listed(kind, true);
          resolve();
        }
      };
      process.on('message', this.#onMessage);
    });
    return this.#started;
  }

  /** The watching process's DNS addresses, to share; known once started. */
  get listen(): readonly HostPort[] {
    return this.#listen;
  }

  synced(): boolean {
    return this.#listed.synced();
  }

  onListed(listener: ListedListener): void {
    this.#listed.onListed(listener);
  }

  async stop(): Promise<void> {
    if (this.#onMessage) process.off('message', this.#onMessage);
  }
}

/** In a replica: answers the watching process's scrapes with this process's counters. */
export function reportCounters(counted: () => CountedParts): void {
  process.on('message', (message: ToReplica) => {
    if (message.type !== 'collect' || !process.connected) return;
    const reply: FromReplica = { type: 'counters', id: message.id, snapshot: snapshotCounters(counted()) };
    process.send?.(reply);
  });
}
