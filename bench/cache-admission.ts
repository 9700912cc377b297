// Which admission rule keeps popular names cached through a flood of names asked once: the
// candidates replayed through the same simulated minute-by-minute workload, on a virtual clock.
//   - popular traffic: 1,000 QPS, 75 % over 8,000 names that resolve (Zipf, s = 1; TTLs 30 s to
//     1 h), 25 % over 2,000 names that are denied (AAAA NODATA and the like; Zipf; 30 s);
//   - then a flood on top: random names asked once (NXDOMAIN, or NOERROR under a wildcard), or
//     asked twice 2 s apart (a retrying client, or a pod that knows what a second hit buys).
// Printed: the popular names' hit rate during the flood (and without one), and what one hit costs
// each candidate. Each cache holds 10,000 entries (the old single cache: 10,000 for both kinds).
//   node_modules/.bin/node bench/cache-admission.ts [--seconds 120] [--only NAME]
// No network, no timers: deterministic for a given seed. Figures go in bench/RESULTS.md.
import { parseArgs } from 'node:util';
import { LRUCache } from 'lru-cache';
import { AccessSketch, TinyLfuCache } from '../src/upstream/tinylfu.ts';
import { rng } from './synthetic.ts';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '120' }, only: { type: 'string' }, seed: { type: 'string', default: '18' } },
});
const floodSeconds = Math.min(Math.max(10, Number(values.seconds) || 120), 600);
const WARM_SECONDS = 60;
const CAPACITY = 10_000;

/** What a candidate has to offer: get is an access (recency, frequency), set follows a miss. */
interface Store {
  get(key: string): number | undefined;
  set(key: string, expiresAt: number): void;
  readonly size: number;
}

interface Candidate {
  readonly name: string;
  readonly why: string;
  /** One cache for both kinds, or a success and a denial cache. */
  make(): { success: Store; denial: Store; sketch?: AccessSketch };
}

// ---- the candidates that are not in src/ (the winner is imported from there) ----

function lru(capacity: number): Store {
  return new LRUCache<string, number>({ max: capacity });
}

/** Segmented LRU: a new entry in probation, a second hit moves it to the protected 80 %, whose coldest steps back to probation; room is made at probation's cold end. */
class Slru implements Store {
  readonly #max: number;
  readonly #probation: LRUCache<string, number>;
  readonly #protected: LRUCache<string, number>;

  constructor(capacity: number) {
    this.#max = capacity;
    this.#probation = new LRUCache<string, number>({ max: capacity + 1 });
    this.#protected = new LRUCache<string, number>({
      max: Math.max(1, Math.floor(capacity * 0.8)),
      disposeAfter: (value, key, reason) => {
        if (reason === 'evict') this.#probation.set(key, value);
      },
    });
  }

  get size(): number {
    return this.#probation.size + this.#protected.size;
  }

  get(key: string): number | undefined {
    const hot = this.#protected.get(key);
    if (hot !== undefined) return hot;
    const value = this.#probation.peek(key);
    if (value === undefined) return undefined;
    this.#probation.delete(key);
    this.#protected.set(key, value);
    return value;
  }

  set(key: string, expiresAt: number): void {
    if (this.#protected.has(key)) return void this.#protected.set(key, expiresAt);
    this.#probation.set(key, expiresAt);
    while (this.size > this.#max) {
      const cold = this.#probation.size > 1 ? this.#probation.rkeys().next().value : this.#protected.rkeys().next().value;
      if (cold === undefined || !(this.#probation.delete(cold) || this.#protected.delete(cold))) break;
    }
  }
}

/** 2Q (Johnson & Shasha): new names in a FIFO (25 %); their keys remembered once pushed out (50 %); a name asked again while remembered goes to the main LRU. */
class TwoQueue implements Store {
  readonly #in: LRUCache<string, number>;
  readonly #ghost: LRUCache<string, true>;
  readonly #main: LRUCache<string, number>;

  constructor(capacity: number) {
    const kin = Math.max(1, Math.round(capacity * 0.25));
    this.#ghost = new LRUCache<string, true>({ max: Math.max(1, Math.round(capacity * 0.5)) });
    this.#in = new LRUCache<string, number>({
      max: kin,
      disposeAfter: (_v, key, reason) => {
        if (reason === 'evict') this.#ghost.set(key, true);
      },
    });
    this.#main = new LRUCache<string, number>({ max: capacity - kin });
  }

  get size(): number {
    return this.#in.size + this.#main.size;
  }

  get(key: string): number | undefined {
    return this.#main.get(key) ?? this.#in.peek(key);
  }

  set(key: string, expiresAt: number): void {
    if (this.#main.has(key)) this.#main.set(key, expiresAt);
    else if (this.#in.has(key)) this.#in.set(key, expiresAt, { noUpdateTTL: true });
    else if (this.#ghost.has(key)) {
      this.#ghost.delete(key);
      this.#main.set(key, expiresAt);
    } else this.#in.set(key, expiresAt);
  }
}

const candidates: Candidate[] = [
  {
    name: 'single-lru',
    why: 'before: one LRU for answers and denials',
    make: () => {
      const one = lru(CAPACITY);
      return { success: one, denial: one };
    },
  },
  {
    name: 'split-lru',
    why: 'a success and a denial LRU, no admission rule',
    make: () => ({ success: lru(CAPACITY), denial: lru(CAPACITY) }),
  },
  {
    name: 'slru',
    why: 'segmented LRU: probation 20 %, a second hit promotes to protected 80 %',
    make: () => ({ success: new Slru(CAPACITY), denial: new Slru(CAPACITY) }),
  },
  {
    name: '2q',
    why: '2Q: FIFO 25 %, ghost keys 50 %, main LRU',
    make: () => ({ success: new TwoQueue(CAPACITY), denial: new TwoQueue(CAPACITY) }),
  },
  {
    name: 'w-tinylfu',
    why: 'window LRU 10 % (src/upstream/tinylfu.ts), then admitted only if asked more often than the victim (count-min sketch, doorkeeper, aging); main SLRU',
    make: () => {
      const sketch = new AccessSketch(2 * CAPACITY, 0x2545f491);
      return {
        success: new TinyLfuCache<number>({ max: CAPACITY, sketch }),
        denial: new TinyLfuCache<number>({ max: CAPACITY, sketch }),
        sketch,
      };
    },
  },
];
for (const share of [0.01, 0.2]) {
  candidates.push({
    name: `w-tinylfu-${share * 100}`,
    why: `the same with a ${share * 100} % window`,
    make: () => {
      const sketch = new AccessSketch(2 * CAPACITY, 0x2545f491);
      return {
        success: new TinyLfuCache<number>({ max: CAPACITY, sketch, window: share }),
        denial: new TinyLfuCache<number>({ max: CAPACITY, sketch, window: share }),
        sketch,
      };
    },
  });
}

// ---- the workload ----

function zipf(n: number, s: number): Float64Array {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / (i + 1) ** s;
  for (let i = 0; i < n; i++) cdf[i]! /= sum;
  return cdf;
}

function draw(cdf: Float64Array, u: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid]! < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface Workload {
  readonly name: string;
  readonly successKeys: readonly string[];
  readonly denialKeys: readonly string[];
  readonly successCdf: Float64Array;
  readonly denialCdf: Float64Array;
}

function workload(name: string, successNames: number, denialNames: number, s: number): Workload {
  return {
    name,
    successKeys: Array.from({ length: successNames }, (_, i) => `1|1|00|svc-${i}.example.com`),
    denialKeys: Array.from({ length: denialNames }, (_, i) => `28|1|00|svc-${i}.example.org`),
    successCdf: zipf(successNames, s),
    denialCdf: zipf(denialNames, s),
  };
}

/** TTLs of the names that resolve, by name (30 s to 1 h); denials keep 30 s (--cache-denial-ttl). */
const SUCCESS_TTLS = [30, 60, 60, 300, 300, 300, 3600, 3600, 60, 300];
const popular = workload('10,000 popular names (8,000 resolve, 2,000 denied; Zipf s=1)', 8_000, 2_000, 1);
const longTail = workload(
  'a long tail: 60,000 names (50,000 resolve, 10,000 denied; Zipf s=0.8), more than a cache holds',
  50_000,
  10_000,
  0.8,
);

interface Flood {
  readonly name: string;
  readonly qps: number;
  /** Times each flood name is asked, `repeatMs` apart. */
  readonly repeats: number;
  readonly repeatMs: number;
  readonly kind: 'denial' | 'success';
}

const floods: (Flood | null)[] = [
  null,
  { name: 'NXDOMAIN flood 3,000 QPS, each name once', qps: 3_000, repeats: 1, repeatMs: 0, kind: 'denial' },
  { name: 'NXDOMAIN flood 3,000 QPS, each name twice 2 s apart', qps: 3_000, repeats: 2, repeatMs: 2_000, kind: 'denial' },
  { name: 'NXDOMAIN flood 3,000 QPS, each name twice 200 ms apart', qps: 3_000, repeats: 2, repeatMs: 200, kind: 'denial' },
  { name: 'wildcard NOERROR flood 3,000 QPS, each name once', qps: 3_000, repeats: 1, repeatMs: 0, kind: 'success' },
  { name: 'NXDOMAIN flood 20,000 QPS, each name once', qps: 20_000, repeats: 1, repeatMs: 0, kind: 'denial' },
];

interface Figures {
  popularHits: number;
  popularAsked: number;
  denialHits: number;
  denialAsked: number;
  upstreamPerSecond: number;
}

function run(candidate: Candidate, w: Workload, flood: Flood | null, seed: number): Figures {
  const random = rng(seed);
  const { success, denial, sketch } = candidate.make();
  // As src/upstream/cache.ts counts uses in the sketch: every miss, a hit once a second.
  const countedAt = new Map<string, number>();
  const lookup = (key: string, now: number): boolean => {
    const found = success.get(key) ?? (denial === success ? undefined : denial.get(key));
    const hit = found !== undefined && found > now;
    if (sketch && (!hit || countedAt.get(key) !== Math.floor(now / 1000))) {
      sketch.record(key);
      if (hit) countedAt.set(key, Math.floor(now / 1000));
    }
    return hit;
  };
  const figures: Figures = { popularHits: 0, popularAsked: 0, denialHits: 0, denialAsked: 0, upstreamPerSecond: 0 };
  let upstream = 0;
  let floodSerial = 0;
  // One queue per repeat, each in time order.
  const repeatsDue = Array.from({ length: Math.max(0, (flood?.repeats ?? 1) - 1) }, () => ({
    head: 0,
    due: [] as { at: number; key: string }[],
  }));
  const end = (WARM_SECONDS + floodSeconds) * 1000;
  let popularDebt = 0;
  let floodDebt = 0;
  for (let now = 0; now < end; now++) {
    const measuring = now >= WARM_SECONDS * 1000;
    popularDebt += 1;
    while (popularDebt >= 1) {
      popularDebt -= 1;
      const isDenial = random() < 0.25;
      const i = draw(isDenial ? w.denialCdf : w.successCdf, random());
      const key = isDenial ? w.denialKeys[i]! : w.successKeys[i]!;
      const hit = lookup(key, now);
      if (!hit) {
        upstream += measuring ? 1 : 0;
        (isDenial ? denial : success).set(key, now + (isDenial ? 30 : SUCCESS_TTLS[i % SUCCESS_TTLS.length]!) * 1000);
      }
      if (measuring) {
        figures.popularAsked++;
        if (hit) figures.popularHits++;
        if (isDenial) {
          figures.denialAsked++;
          if (hit) figures.denialHits++;
        }
      }
    }
    if (!flood || !measuring) continue;
    const ask = (key: string) => {
      if (!lookup(key, now)) {
        upstream++;
        (flood.kind === 'denial' ? denial : success).set(key, now + (flood.kind === 'denial' ? 30 : 300) * 1000);
      }
    };
    floodDebt += flood.qps / flood.repeats / 1000;
    while (floodDebt >= 1) {
      floodDebt -= 1;
      const key = `1|1|00|${(floodSerial++).toString(36)}${Math.floor(random() * 1e9).toString(36)}.flood.example.net`;
      ask(key);
      repeatsDue.forEach((q, r) => {
        q.due.push({ at: now + (r + 1) * flood.repeatMs, key });
      });
    }
    for (const q of repeatsDue) while (q.head < q.due.length && q.due[q.head]!.at <= now) ask(q.due[q.head++]!.key);
  }
  figures.upstreamPerSecond = upstream / floodSeconds;
  return figures;
}

/** ns per get of a cached key (1,000 hot entries), the sketch's count included: the admission rule's share of a hit. */
function hitCost(candidate: Candidate): number {
  const { success } = candidate.make();
  const keys = popular.successKeys.slice(0, 1000);
  for (let round = 0; round < 3; round++) for (const k of keys) if (success.get(k) === undefined) success.set(k, 1e12);
  const rounds = 2_000;
  let sink = 0;
  const start = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < keys.length; i++) sink += success.get(keys[i]!) ?? 0;
  }
  const ns = Number(process.hrtime.bigint() - start) / (rounds * keys.length);
  if (sink === 0) throw new Error('nothing was cached');
  return ns;
}

const pct = (hits: number, asked: number) => (asked === 0 ? '-' : `${((100 * hits) / asked).toFixed(1)} %`);
const chosen = candidates.filter((c) => values.only === undefined || c.name === values.only);
console.log(
  `node ${process.version}; ${WARM_SECONDS} s warm-up, then ${floodSeconds} s measured; seed ${values.seed}; capacity ${CAPACITY} per cache`,
);
for (const c of chosen) console.log(`  ${c.name.padEnd(11)} ${c.why}`);
const runs: [Workload, Flood | null][] = [
  ...floods.map((f): [Workload, Flood | null] => [popular, f]),
  [longTail, null],
  [longTail, floods[1]!],
  [longTail, floods[3]!],
  [longTail, floods[4]!],
];
for (const [w, flood] of runs) {
  console.log(`\n${w.name}; ${flood?.name ?? 'no flood'}: their hit rate (denials alone) and upstream queries per second`);
  for (const c of chosen) {
    const f = run(c, w, flood, Number(values.seed));
    console.log(
      `  ${c.name.padEnd(11)} ${pct(f.popularHits, f.popularAsked).padStart(7)}  (${pct(f.denialHits, f.denialAsked).padStart(7)})  upstream ${f.upstreamPerSecond.toFixed(0).padStart(6)}/s`,
    );
  }
}
console.log('\nns per hit of a cached name (the store alone, median of 5)');
for (const c of chosen) {
  const runs = Array.from({ length: 5 }, () => hitCost(c)).sort((x, y) => x - y);
  console.log(`  ${c.name.padEnd(11)} ${runs[2]!.toFixed(0).padStart(5)} ns`);
}
