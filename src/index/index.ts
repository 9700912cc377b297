// The in-memory index of the cluster: slim records in, lookups by the questions DNS asks out.
// Every mutation is synchronous, so a query never sees half of a change, and a relist
// (`replace`) swaps a whole kind within one turn of the event loop: no moment in which
// existing names vanish.
import type { EndpointSliceRecord } from '../objects/endpoint-slice.ts';
import { type AnyRecord, type Kind, type RecordOf, KINDS, recordKey } from '../objects/kinds.ts';
import { namespacedKey } from '../objects/meta.ts';
import type { PodRecord } from '../objects/pod.ts';
import type { ServiceRecord } from '../objects/service.ts';
import { PlainPodTable, type PlainPodsCopy } from './pod-table.ts';
import { V4Map } from './v4map.ts';
import { V4Prefixes } from './v4-prefixes.ts';
import { V6Prefixes } from './v6-prefixes.ts';

export interface IndexCounts {
  Namespace: number;
  Service: number;
  EndpointSlice: number;
  Pod: number;
}

type Listener = () => void;

/** One change to the index, as replicas (--workers) receive it. */
export type Mutation =
  | { readonly op: 'upsert'; readonly kind: Kind; readonly record: AnyRecord }
  | { readonly op: 'remove'; readonly kind: Kind; readonly key: string }
  | { readonly op: 'synced'; readonly kind: Kind }
  | { readonly op: 'require'; readonly kinds: readonly Kind[] };

/** A Namespace's key is its name; every other kind's is `namespace/name`. */
function namespaceOfKey(kind: Kind, key: string): string {
  return kind === 'Namespace' ? key : key.slice(0, key.indexOf('/'));
}

/**
 * Adds `value` to the list under `key`; lists stay tiny (one entry in the common case). True when
 * the key is new.
 */
function addTo<V>(map: Map<string, V[]>, key: string, value: V): boolean {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
  return list === undefined;
}
/** Removes `value` from the list under `key`; true when that emptied the key. */
function removeFrom<V>(map: Map<string, V[]>, key: string, value: V): boolean {
  const list = map.get(key);
  if (!list) return false;
  const i = list.indexOf(value);
  if (i >= 0) list.splice(i, 1);
  if (list.length > 0) return false;
  map.delete(key);
  return true;
}

/**
 * A canonical dotted-quad IPv4 address as a 32-bit signed integer (a V8 small integer: stored
 * inline in a Map, no string), or NOT_V4. Leading zeros are refused, so two strings map to the
 * same integer exactly when they are equal.
 */
const NOT_V4 = 2 ** 32;
function v4Int(ip: string): number {
  let value = 0;
  let octet = -1;
  let dots = 0;
  let digits = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 0x2e) {
      if (octet < 0 || ++dots > 3) return NOT_V4;
      value = (value << 8) | octet;
      octet = -1;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && octet === 0) return NOT_V4; // a leading zero
      octet = octet < 0 ? c - 0x30 : octet * 10 + (c - 0x30);
      if (octet > 255) return NOT_V4;
      digits++;
    } else {
      return NOT_V4;
    }
  }
  if (dots !== 3 || octet < 0) return NOT_V4;
  return (value << 8) | octet;
}
function v4String(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function sameRecord(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameRecord(a[i], b[i])) return false;
    return true;
  }
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!sameRecord((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}

/** A pod with hostname and subdomain names itself (kept whole); any other is a plain pod. */
function isNamedPod(pod: PodRecord): boolean {
  return pod.hostname !== '' && pod.subdomain !== '';
}

function plainIPs(plain: number | string): string[] {
  return typeof plain === 'number' ? [v4String(plain)] : plain === '' ? [] : plain.split(' ');
}

/** Plain pods come back with what was kept of them: readiness is not (DNS never reads it for them). */
function* podRecords(named: Iterable<PodRecord>, plain: Iterable<[string, number | string]>): IterableIterator<PodRecord> {
  yield* named;
  for (const [key, ips] of plain) {
    const slash = key.indexOf('/');
    yield { namespace: key.slice(0, slash), name: key.slice(slash + 1), ips: plainIPs(ips), hostname: '', subdomain: '', ready: true };
  }
}

/** Every record of the index at one moment, readable later while the index goes on changing. */
export interface IndexView {
  /** The index's version when the view was taken. */
  readonly version: number;
  readonly counts: IndexCounts;
  records<K extends Kind>(kind: K): Iterable<RecordOf[K]>;
  /**
   * The same pods, for a writer that would rather not make a record of each: the named ones, the
   * plain ones with a single IPv4 address as the table's arrays, and the other plain ones.
   */
  readonly pods: { readonly named: readonly PodRecord[]; readonly table: PlainPodsCopy; readonly others: () => Iterable<PodRecord> };
}

/** What addNamespace and removeNamespace need of a table: a Map, or a V4Map. */
interface Table<K, V> {
  get(key: K): V | undefined;
  set(key: K, value: V): void;
  delete(key: K): boolean;
}

function addNamespace<K>(map: Table<K, string | string[]>, ip: K, namespace: string): void {
  const current = map.get(ip);
  if (current === undefined) map.set(ip, namespace);
  else if (typeof current === 'string') map.set(ip, [current, namespace]);
  else current.push(namespace);
}

function removeNamespace<K>(map: Table<K, string | string[]>, ip: K, namespace: string): void {
  const current = map.get(ip);
  if (current === namespace) map.delete(ip);
  else if (Array.isArray(current)) {
    const i = current.indexOf(namespace);
    if (i >= 0) current.splice(i, 1);
    if (current.length === 1) map.set(ip, current[0] as string);
  }
}

/**
 * A part of the index that prepared answers depend on: `gen` moves whenever that part changes, so
 * an answer built at one `gen` is stale once it differs. Scoping lets a change in one namespace
 * leave every other namespace's prepared answers in place (a big cluster changes many times a
 * second, and rebuilding every answer at each change costs QPS: bench/RESULTS.md).
 */
export interface Scope {
  gen: number;
}

export class ClusterIndex {
  /** Moves with every change: for answers that may read anything (reverse names, the apex, aliases). */
  readonly everything: Scope = { gen: 0 };
  /** Moves when a Namespace comes or goes: for names under a namespace that does not exist. */
  readonly namespaces: Scope = { gen: 0 };
  /** Bumped when what counts as synced changes: every answer may change (SERVFAIL before the sync). */
  epoch = 0;
  /** Per existing namespace, made on demand by namespaceScope (so bounded by the namespaces). */
  readonly #scopes = new Map<string, Scope>();
  /** Unix seconds of the last DNS-relevant change: the SOA serial. */
  lastChange: number;

  readonly #records: { [K in Exclude<Kind, 'Pod'>]: Map<string, RecordOf[K]> } = {
    Namespace: new Map(),
    Service: new Map(),
    EndpointSlice: new Map(),
  };
  // Pods are most of a big cluster, and of most pods DNS asks one thing only: is there a pod
  // with this IP in this namespace (--pods verified). Those are kept in two open-addressing
  // tables over typed arrays (pod-table.ts, v4map.ts), the usual single IPv4 address as an int32
  // and the `ns/name` key as bytes in an arena (~45 B a pod, instead of ~530 B as objects, or
  // ~170 B as strings in Maps). Pods with hostname and subdomain, which name themselves, are kept
  // whole.
  /** `ns/name` → the pod's IPv4 address as v4Int, or its IPs joined by ' '. */
  readonly #plainPods = new PlainPodTable();
  readonly #namedPods = new Map<string, PodRecord>();
  /** IPv4 (v4Int) → the namespace (or namespaces, host-network pods share IPs) of the pods that have it. */
  readonly #podNamespacesByV4 = new V4Map<string | string[]>();
  /** Any other IP (IPv6) → the same. */
  readonly #podNamespacesByIP = new Map<string, string | string[]>();
  /** One copy of each namespace name, shared by every pod entry. */
  readonly #namespaceNames = new Map<string, string>();
  readonly #synced = new Set<Kind>();
  #required: ReadonlySet<Kind> = new Set(KINDS);
  readonly #listeners: Listener[] = [];
  readonly #mutationListeners: ((m: Mutation) => void)[] = [];

  readonly #slicesByService = new Map<string, EndpointSliceRecord[]>();
  readonly #servicesByClusterIP = new Map<string, ServiceRecord[]>();
  readonly #slicesByAddress = new Map<string, EndpointSliceRecord[]>();
  readonly #podsBySubdomain = new Map<string, PodRecord[]>();
  /** The /8, /16 and /24 networks of the IPv4 addresses in #servicesByClusterIP and #slicesByAddress. */
  readonly #v4Networks = new V4Prefixes();
  readonly #v6Networks = new V6Prefixes();

  readonly #now: () => number;

  constructor(options: { now?: () => number; required?: Iterable<Kind> } = {}) {
    this.#now = options.now ?? Date.now;
    this.lastChange = Math.floor(this.#now() / 1000);
    if (options.required) this.#required = new Set(options.required);
  }

  // ---- mutations (from informers or the manifests loader) ----

  upsert<K extends Kind>(kind: K, record: RecordOf[K]): void {
    if (kind === 'Pod') {
      this.#upsertPod(record as PodRecord);
      return;
    }
    const key = recordKey(record);
    const map = this.#records[kind as Exclude<Kind, 'Pod'>] as Map<string, RecordOf[K]>;
    const old = map.get(key);
    if (old && sameRecord(old, record)) return;
    if (old) this.#unlink(kind, old);
    map.set(key, record);
    this.#link(kind, record);
    this.#changed(kind, namespaceOfKey(kind, key));
    this.#mutated({ op: 'upsert', kind, record });
  }

  remove(kind: Kind, key: string): void {
    if (kind === 'Pod') {
      if (this.#unlinkPod(key)) {
        this.#changed(kind, namespaceOfKey(kind, key));
        this.#mutated({ op: 'remove', kind, key });
      }
      return;
    }
    const map = this.#records[kind] as Map<string, AnyRecord>;
    const old = map.get(key);
    if (!old) return;
    map.delete(key);
    this.#unlink(kind, old);
    this.#changed(kind, namespaceOfKey(kind, key));
    this.#mutated({ op: 'remove', kind, key });
  }

  /** Every change as it happens, for replicas; `snapshot()` gives a new one the state so far. */
  onMutation(listener: (m: Mutation) => void): void {
    this.#mutationListeners.push(listener);
  }

  /** The index as a sequence of mutations that rebuilds it from empty. */
  *snapshot(): Generator<Mutation> {
    yield { op: 'require', kinds: [...this.#required] };
    for (const kind of KINDS) for (const record of this.all(kind)) yield { op: 'upsert', kind, record };
    for (const kind of this.#synced) yield { op: 'synced', kind };
  }

  apply(m: Mutation): void {
    switch (m.op) {
      case 'upsert':
        this.upsert(m.kind, m.record);
        break;
      case 'remove':
        this.remove(m.kind, m.key);
        break;
      case 'synced':
        this.markSynced(m.kind);
        break;
      case 'require':
        this.require(m.kinds);
        break;
    }
  }

  #mutated(m: Mutation): void {
    for (const listener of this.#mutationListeners) listener(m);
  }

  /** A relist: the kind now holds exactly `records`. Unchanged records are kept as they are. */
  replace<K extends Kind>(kind: K, records: Iterable<RecordOf[K]>): void {
    const relist = this.beginReplace(kind);
    for (const record of records) relist.add(record);
    relist.commit();
  }

  /**
   * A relist that arrives in pages. Each record is applied as it comes, so no existing name
   * vanishes while the pages load and memory never holds the old and the new kind side by side
   * (only the set of keys seen); `commit` then removes what the relist did not contain. An
   * abandoned relist (the list failed half-way) leaves only fresher records behind.
   */
  beginReplace<K extends Kind>(kind: K): { add(record: RecordOf[K]): void; commit(): void } {
    // The first list of a kind (nothing held yet: no snapshot, no earlier list) can leave nothing
    // behind, so it skips the set of keys seen, which a big first list would pay for.
    if (this.#sizeOf(kind) === 0) return { add: (record) => this.upsert(kind, record), commit: () => {} };
    if (kind === 'Pod') return this.#beginPodRelist() as { add(record: RecordOf[K]): void; commit(): void };
    const seen = new Set<string>();
    return {
      add: (record) => {
        seen.add(recordKey(record));
        this.upsert(kind, record);
      },
      commit: () => {
        const map = this.#records[kind as Exclude<Kind, 'Pod'>];
        const stale = [...map.keys()].filter((key) => !seen.has(key));
        for (const key of stale) this.remove(kind, key);
      },
    };
  }

  /** Plain pods are marked in their table (pod-table.ts); a set of keys holds only named pods. */
  #beginPodRelist(): { add(record: PodRecord): void; commit(): void } {
    this.#plainPods.clearMarks();
    const namedSeen = new Set<string>();
    return {
      add: (pod) => {
        this.#upsertPod(pod);
        const key = namespacedKey(pod.namespace, pod.name);
        if (isNamedPod(pod)) namedSeen.add(key);
        else this.#plainPods.mark(key);
      },
      commit: () => {
        const stale = this.#plainPods.unmarkedKeys();
        for (const key of this.#namedPods.keys()) if (!namedSeen.has(key)) stale.push(key);
        this.#plainPods.clearMarks();
        for (const key of stale) this.remove('Pod', key);
      },
    };
  }

  markSynced(kind: Kind): void {
    if (this.#synced.has(kind)) return;
    this.#synced.add(kind);
    // Answers built before the sync may have been SERVFAIL: rebuild them.
    this.epoch++;
    this.#changed(kind, null, false);
    this.#mutated({ op: 'synced', kind });
  }

  /** Which kinds must sync before the index counts as synced (kinds not watched are left out). */
  require(kinds: Iterable<Kind>): void {
    this.#required = new Set(kinds);
    this.epoch++;
    this.#mutated({ op: 'require', kinds: [...this.#required] });
  }

  onChange(listener: Listener): void {
    this.#listeners.push(listener);
  }

  // ---- lookups (the questions DNS asks) ----

  get synced(): boolean {
    for (const kind of this.#required) if (!this.#synced.has(kind)) return false;
    return true;
  }

  unsyncedKinds(): Kind[] {
    return [...this.#required].filter((k) => !this.#synced.has(k));
  }

  hasNamespace(name: string): boolean {
    return this.#records.Namespace.has(name);
  }

  service(namespace: string, name: string): ServiceRecord | undefined {
    return this.#records.Service.get(namespacedKey(namespace, name));
  }

  slicesOf(namespace: string, service: string): readonly EndpointSliceRecord[] {
    return this.#slicesByService.get(`${namespace}/${service}`) ?? [];
  }

  servicesByClusterIP(ip: string): readonly ServiceRecord[] {
    return this.#servicesByClusterIP.get(ip) ?? [];
  }

  slicesByAddress(ip: string): readonly EndpointSliceRecord[] {
    return this.#slicesByAddress.get(ip) ?? [];
  }

  /**
   * Whether a Service ClusterIP or an EndpointSlice address starts with the first `octets` (1-3)
   * octets of the IPv4 address `address`: the reverse zone's empty non-terminals.
   */
  hasAddressIn(address: number, octets: number): boolean {
    return this.#v4Networks.has(address, octets);
  }

  /** The same for ip6.arpa: whether a cluster address starts with `prefix` (1-31 hex nibbles). */
  hasV6AddressIn(prefix: string): boolean {
    return this.#v6Networks.has(prefix);
  }

  /** Whether a pod in `namespace` has `ip` (what `--pods verified` asks). */
  hasPodIP(namespace: string, ip: string): boolean {
    const v4 = v4Int(ip);
    const namespaces = v4 === NOT_V4 ? this.#podNamespacesByIP.get(ip) : this.#podNamespacesByV4.get(v4);
    return namespaces === namespace || (Array.isArray(namespaces) && namespaces.includes(namespace));
  }

  podsBySubdomain(namespace: string, subdomain: string): readonly PodRecord[] {
    return this.#podsBySubdomain.get(`${namespace}/${subdomain}`) ?? [];
  }

  #sizeOf(kind: Kind): number {
    return kind === 'Pod' ? this.#plainPods.size + this.#namedPods.size : this.#records[kind].size;
  }

  counts(): IndexCounts {
    return {
      Namespace: this.#records.Namespace.size,
      Service: this.#records.Service.size,
      EndpointSlice: this.#records.EndpointSlice.size,
      Pod: this.#plainPods.size + this.#namedPods.size,
    };
  }

  /** Every record of a kind, for snapshots and debugging; not for the query path. */
  all<K extends Kind>(kind: K): IterableIterator<RecordOf[K]> {
    if (kind === 'Pod') return this.#allPods() as IterableIterator<RecordOf[K]>;
    return (this.#records[kind as Exclude<Kind, 'Pod'>] as Map<string, RecordOf[K]>).values();
  }

  #allPods(): IterableIterator<PodRecord> {
    return podRecords(this.#namedPods.values(), this.#plainPods);
  }

  /**
   * A point-in-time view for the snapshot writer, cheap enough to take between two queries:
   * records are never changed, only replaced, so the maps are kept as arrays of references, and
   * the plain pods' table copies a block only before changing it; pod records are made as the
   * view is read. The reader calls `pods.table.release()` when done.
   */
  view(): IndexView {
    const byKind = {
      Namespace: [...this.#records.Namespace.values()],
      Service: [...this.#records.Service.values()],
      EndpointSlice: [...this.#records.EndpointSlice.values()],
    };
    const named = [...this.#namedPods.values()];
    const plain = this.#plainPods.copy();
    return {
      version: this.version,
      counts: this.counts(),
      records: <K extends Kind>(kind: K): Iterable<RecordOf[K]> =>
        (kind === 'Pod' ? { [Symbol.iterator]: () => podRecords(named, plain) } : byKind[kind as Exclude<Kind, 'Pod'>]) as Iterable<
          RecordOf[K]
        >,
      pods: { named, table: plain, others: () => podRecords([], plain.other) },
    };
  }

  // ---- pods ----

  #upsertPod(pod: PodRecord): void {
    const key = namespacedKey(pod.namespace, pod.name);
    const named = isNamedPod(pod);
    const v4 = pod.ips.length === 1 ? v4Int(pod.ips[0] as string) : NOT_V4;
    const ips = v4 !== NOT_V4 ? v4 : pod.ips.join(' ');
    if (named) {
      const old = this.#namedPods.get(key);
      if (old && sameRecord(old, pod)) return;
    } else if (this.#plainPods.get(key) === ips) {
      return;
    }
    this.#unlinkPod(key);
    const namespace = this.#namespaceName(pod.namespace);
    for (const ip of pod.ips) this.#addPodIP(ip, namespace);
    if (named) {
      this.#namedPods.set(key, pod);
      addTo(this.#podsBySubdomain, `${pod.namespace}/${pod.subdomain}`, pod);
    } else {
      this.#plainPods.set(key, ips);
    }
    this.#changed('Pod', pod.namespace);
    this.#mutated({ op: 'upsert', kind: 'Pod', record: pod });
  }

  /** Removes the pod under `key` from every pod index; false when there was none. */
  #unlinkPod(key: string): boolean {
    const namespace = key.slice(0, key.indexOf('/'));
    const named = this.#namedPods.get(key);
    let ips: readonly string[];
    if (named) {
      this.#namedPods.delete(key);
      removeFrom(this.#podsBySubdomain, `${named.namespace}/${named.subdomain}`, named);
      ips = named.ips;
    } else {
      const plain = this.#plainPods.get(key);
      if (plain === undefined) return false;
      this.#plainPods.delete(key);
      if (typeof plain === 'number') {
        this.#removePodV4(plain, namespace);
        return true;
      }
      ips = plain.split(' ');
    }
    for (const ip of ips) this.#removePodIP(ip, namespace);
    return true;
  }

  #addPodIP(ip: string, namespace: string): void {
    const v4 = v4Int(ip);
    if (v4 !== NOT_V4) addNamespace(this.#podNamespacesByV4, v4, namespace);
    else addNamespace(this.#podNamespacesByIP, ip, namespace);
  }

  #removePodIP(ip: string, namespace: string): void {
    const v4 = v4Int(ip);
    if (v4 !== NOT_V4) this.#removePodV4(v4, namespace);
    else removeNamespace(this.#podNamespacesByIP, ip, namespace);
  }

  #removePodV4(v4: number, namespace: string): void {
    removeNamespace(this.#podNamespacesByV4, v4, namespace);
  }

  #namespaceName(name: string): string {
    const known = this.#namespaceNames.get(name);
    if (known !== undefined) return known;
    this.#namespaceNames.set(name, name);
    return name;
  }

  // ---- secondary indexes ----

  #link(kind: Kind, record: AnyRecord): void {
    this.#relink(kind, record, addTo);
  }
  #unlink(kind: Kind, record: AnyRecord): void {
    this.#relink(kind, record, removeFrom);
  }
  #relink(kind: Kind, record: AnyRecord, op: typeof addTo): void {
    const adding = op === addTo;
    switch (kind) {
      case 'Service': {
        const svc = record as ServiceRecord;
        for (const ip of svc.clusterIPs) if (op(this.#servicesByClusterIP, ip, svc)) this.#countAddress(ip, this.#slicesByAddress, adding);
        break;
      }
      case 'EndpointSlice': {
        const slice = record as EndpointSliceRecord;
        if (slice.service) op(this.#slicesByService, `${slice.namespace}/${slice.service}`, slice);
        const seen = new Set<string>();
        for (const ep of slice.endpoints)
          for (const ip of ep.addresses)
            if (!seen.has(ip)) {
              seen.add(ip);
              if (op(this.#slicesByAddress, ip, slice)) this.#countAddress(ip, this.#servicesByClusterIP, adding);
            }
        break;
      }
      case 'Pod': // pods have their own indexes (#upsertPod)
      case 'Namespace':
        break;
    }
  }

  /** An address new to one address table (or gone from it): its networks count unless `other` has it. */
  #countAddress(ip: string, other: Map<string, unknown>, adding: boolean): void {
    if (other.has(ip)) return;
    const v4 = v4Int(ip);
    if (v4 === NOT_V4) {
      if (adding) this.#v6Networks.add(ip);
      else this.#v6Networks.remove(ip);
    } else if (adding) this.#v4Networks.add(v4);
    else this.#v4Networks.remove(v4);
  }

  /** Bumped by every DNS-relevant change (snapshots and metrics watch it). */
  get version(): number {
    return this.everything.gen;
  }

  /** The scope of an existing namespace's names (callers check hasNamespace first). */
  namespaceScope(namespace: string): Scope {
    let scope = this.#scopes.get(namespace);
    if (scope === undefined) {
      scope = { gen: 0 };
      this.#scopes.set(namespace, scope);
    }
    return scope;
  }

  /** `namespace`: the one the changed object is in, or null when the change is not in one. */
  #changed(kind: Kind, namespace: string | null, touchSerial = true): void {
    this.everything.gen++;
    if (namespace !== null) {
      const scope = this.#scopes.get(namespace);
      if (scope !== undefined) scope.gen++;
      if (kind === 'Namespace') {
        this.namespaces.gen++;
        // A scope is only made for a namespace that exists; the next one starts afresh.
        if (!this.#records.Namespace.has(namespace)) this.#scopes.delete(namespace);
      }
    }
    if (touchSerial) this.lastChange = Math.floor(this.#now() / 1000);
    for (const listener of this.#listeners) listener();
  }
}
