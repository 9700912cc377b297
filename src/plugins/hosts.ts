// CoreDNS's `hosts` plugin: A, AAAA and PTR answers from a file in /etc/hosts syntax and from
// entries written inline in the Corefile. The file is polled (size, mtime and inode, so an atomic
// replace and a ConfigMap's symlink swap are seen) and a change replaces the whole table; a file
// that is missing or unreadable keeps the entries last read, with one log line when that starts.
// Answers are encoded the first time a name is asked and kept with the table, so a table is
// encoded once however often it is asked; a name the table does not hold costs one Map lookup.
import { readFileSync, statSync, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { RCODE, TYPE } from '../dns/constants.ts';
import { emptyReply, type Handler, type Query, type Reply } from '../dns/message.ts';
import { canonicalName, ZoneSet } from '../dns/name.ts';
import { canonicalIPv6, encodeReply, ipv6Bytes } from '../dns/writer.ts';
import type { Logger } from '../base/log.ts';
import { PluginOptionError } from './errors.ts';

export interface HostsOptions {
  /** The hosts file; null for inline entries only. */
  readonly file: string | null;
  /** Zones the entries answer for (names outside them are ignored); '' is the root. */
  readonly zones: readonly string[];
  /** Lines in hosts-file syntax from the Corefile block. */
  readonly inline: readonly string[];
  /** TTL of every answer, 1-65535 s. */
  readonly ttl: number;
  /** How often the file is checked for changes; 0 never. */
  readonly reloadMs: number;
  /** PTR answers for the addresses (off with `no_reverse`). */
  readonly reverse: boolean;
  /** Zones where a name the table lacks goes on to the next handler; [] all; null none. */
  readonly fallthrough: readonly string[] | null;
}

/**
 * CoreDNS's defaults. `zones` defaults to the server block's zones there; the root stands for
 * them until a Corefile reader passes its own.
 */
export const DEFAULT_HOSTS_OPTIONS: HostsOptions = Object.freeze({
  file: '/etc/hosts',
  zones: Object.freeze(['']),
  inline: Object.freeze([]),
  ttl: 3600,
  reloadMs: 5000,
  reverse: true,
  fallthrough: null,
});

/** A hosts file larger than this is refused (a cluster's NodeHosts is a few lines). */
export const MAX_HOSTS_FILE_BYTES = 32 * 1024 * 1024;

function zoneList(what: string, zones: readonly string[]): string[] {
  return zones.map((z) => {
    const name = canonicalName(z);
    if (name === null) throw new PluginOptionError('hosts', `${what} "${z}" is not a domain name`);
    return name;
  });
}

/** `options` over CoreDNS's defaults, checked as CoreDNS's setup checks them; zones canonical. */
export function hostsOptions(options: Partial<HostsOptions> = {}): HostsOptions {
  const o = { ...DEFAULT_HOSTS_OPTIONS, ...options };
  if (!Number.isInteger(o.ttl) || o.ttl < 1 || o.ttl > 65535) throw new PluginOptionError('hosts', `ttl ${o.ttl} is not 1-65535 seconds`);
  if (!Number.isFinite(o.reloadMs) || o.reloadMs < 0) throw new PluginOptionError('hosts', `reload ${o.reloadMs} ms is negative`);
  if (o.file === '') throw new PluginOptionError('hosts', 'empty file name');
  return Object.freeze({
    ...o,
    zones: Object.freeze(zoneList('zone', o.zones.length === 0 ? [''] : o.zones)),
    inline: Object.freeze([...o.inline]),
    fallthrough: o.fallthrough === null ? null : Object.freeze(zoneList('fallthrough zone', o.fallthrough)),
  });
}

/** What one hosts text says: addresses by name and names by reverse name, in file order. */
export interface ParsedHosts {
  readonly v4: Map<string, string[]>;
  readonly v6: Map<string, string[]>;
  readonly ptr: Map<string, string[]>;
}

function dottedQuad(text: string): string | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  // Go's net.ParseIP: decimal, no leading zeros, each part 0-255.
  for (const p of parts) if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) return null;
  return text;
}

/** The address as Go's net.IP would class it: an IPv4-mapped IPv6 address is IPv4. */
function parseAddress(text: string): { v4: string } | { v6: string } | null {
  const bare = text.includes('%') ? text.slice(0, text.indexOf('%')) : text;
  if (!bare.includes(':')) {
    const v4 = dottedQuad(bare);
    return v4 === null ? null : { v4 };
  }
  const bytes = new Uint8Array(16);
  if (!ipv6Bytes(bare, bytes, 0)) return null;
  const mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return { v4: `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}` };
  return { v6: canonicalIPv6(bare) as string };
}

function reverseV4(address: string): string {
  return `${address.split('.').reverse().join('.')}.in-addr.arpa`;
}

function reverseV6(address: string): string {
  const bytes = new Uint8Array(16);
  ipv6Bytes(address, bytes, 0);
  const nibbles: string[] = [];
  for (let i = 15; i >= 0; i--) {
    const b = bytes[i] as number;
    nibbles.push((b & 15).toString(16), (b >> 4).toString(16));
  }
  return `${nibbles.join('.')}.ip6.arpa`;
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else if (!list.includes(value)) list.push(value);
}

/**
 * Reads hosts-file text: `ADDRESS NAME [NAME…]` per line, `#` to the end of a line a comment,
 * lines without a valid address or name skipped (as CoreDNS and the C library do), names outside
 * `zones` ignored. A repeated address for a name is kept once.
 */
export function parseHosts(text: string, zones: ZoneSet, reverse: boolean): ParsedHosts {
  const parsed: ParsedHosts = { v4: new Map(), v6: new Map(), ptr: new Map() };
  for (const raw of text.split('\n')) {
    const hash = raw.indexOf('#');
    const fields = (hash >= 0 ? raw.slice(0, hash) : raw).split(/[ \t\r\f\v]+/).filter((f) => f !== '');
    if (fields.length < 2) continue;
    const address = parseAddress(fields[0] as string);
    if (address === null) continue;
    for (let i = 1; i < fields.length; i++) {
      const name = canonicalName(fields[i] as string);
      if (name === null || !zones.has(name)) continue;
      if ('v4' in address) push(parsed.v4, name, address.v4);
      else push(parsed.v6, name, address.v6);
      if (reverse) push(parsed.ptr, 'v4' in address ? reverseV4(address.v4) : reverseV6(address.v6), name);
    }
  }
  return parsed;
}

interface NameEntry {
  readonly v4: readonly string[];
  readonly v6: readonly string[];
  a: Reply | null;
  aaaa: Reply | null;
}

interface PtrEntry {
  readonly names: readonly string[];
  reply: Reply | null;
}

/** File entries first, then inline ones, as CoreDNS answers them. */
class HostsTable {
  readonly byName = new Map<string, NameEntry>();
  readonly byReverse = new Map<string, PtrEntry>();
  /** CoreDNS's `coredns_hosts_entries`: addresses by name plus names by address. */
  readonly entries: number;

  constructor(parts: readonly ParsedHosts[]) {
    let entries = 0;
    const v4 = new Map<string, string[]>();
    const v6 = new Map<string, string[]>();
    const ptr = new Map<string, string[]>();
    for (const part of parts) {
      for (const [k, list] of part.v4) for (const a of list) push(v4, k, a);
      for (const [k, list] of part.v6) for (const a of list) push(v6, k, a);
      for (const [k, list] of part.ptr) for (const n of list) push(ptr, k, n);
    }
    for (const name of new Set([...v4.keys(), ...v6.keys()])) {
      const entry: NameEntry = { v4: v4.get(name) ?? [], v6: v6.get(name) ?? [], a: null, aaaa: null };
      entries += entry.v4.length + entry.v6.length;
      this.byName.set(name, entry);
    }
    for (const [reverseName, names] of ptr) {
      entries += names.length;
      this.byReverse.set(reverseName, { names, reply: null });
    }
    this.entries = entries;
  }
}

/** A name the hosts data has, asked for another type: authoritative NOERROR, no records. */
const NODATA: Reply = emptyReply(RCODE.NOERROR, true);
/** CoreDNS's answer for a name it lacks without fallthrough: hosts has no SOA to deny it with. */
const SERVFAIL: Reply = emptyReply(RCODE.SERVFAIL);

type FileState = 'unread' | 'ok' | 'missing' | 'error';

export class HostsHandler implements Handler {
  readonly name = 'hosts';
  readonly options: HostsOptions;
  readonly #zones: ZoneSet;
  readonly #fallthrough: ZoneSet | null;
  readonly #inline: ParsedHosts;
  readonly #log: Logger | null;
  #file: ParsedHosts | null = null;
  #table: HostsTable;
  #timer: NodeJS.Timeout | null = null;
  #checking = false;
  #state: FileState = 'unread';
  /** What identified the file last read: a change in any of these rereads it. */
  #seen = { ino: -1, size: -1, mtimeMs: -1 };
  #reloadedAt = 0;

  constructor(options: Partial<HostsOptions> = {}, logger: Logger | null = null) {
    this.options = hostsOptions(options);
    this.#zones = new ZoneSet(this.options.zones);
    this.#fallthrough =
      this.options.fallthrough === null ? null : new ZoneSet(this.options.fallthrough.length === 0 ? [''] : this.options.fallthrough);
    this.#log = logger;
    this.#inline = parseHosts(this.options.inline.join('\n'), this.#zones, this.options.reverse);
    this.#table = new HostsTable([this.#inline]);
  }

  /** CoreDNS's `coredns_hosts_entries`. */
  get entries(): number {
    return this.#table.entries;
  }

  /** CoreDNS's `coredns_hosts_reload_timestamp_seconds`: the mtime of the file last read, 0 before. */
  get reloadedAt(): number {
    return this.#reloadedAt;
  }

  /** Reads the file now (a missing one is logged, not fatal) and starts polling it. */
  start(): void {
    const file = this.options.file;
    if (file === null) return;
    try {
      const stats = statSync(file);
      this.#accept(stats, stats.isFile() && stats.size <= MAX_HOSTS_FILE_BYTES ? readFileSync(file, 'utf8') : null);
    } catch (err) {
      this.#failed(err);
    }
    if (this.options.reloadMs > 0 && this.#timer === null) {
      this.#timer = setInterval(() => void this.check(), this.options.reloadMs);
      this.#timer.unref();
    }
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Rereads the file if it changed; resolves to whether the entries were replaced. */
  async check(): Promise<boolean> {
    const file = this.options.file;
    if (file === null || this.#checking) return false;
    this.#checking = true;
    try {
      const stats = await stat(file);
      const seen = this.#seen;
      if (this.#state === 'ok' && stats.ino === seen.ino && stats.size === seen.size && stats.mtimeMs === seen.mtimeMs) return false;
      const text = stats.isFile() && stats.size <= MAX_HOSTS_FILE_BYTES ? await readFile(file, 'utf8') : null;
      return this.#accept(stats, text);
    } catch (err) {
      this.#failed(err);
      return false;
    } finally {
      this.#checking = false;
    }
  }

  #accept(stats: Stats, text: string | null): boolean {
    if (text === null) {
      this.#failed(new Error(stats.isFile() ? `larger than ${MAX_HOSTS_FILE_BYTES} bytes` : 'not a regular file'));
      return false;
    }
    this.#file = parseHosts(text, this.#zones, this.options.reverse);
    this.#table = new HostsTable([this.#file, this.#inline]);
    this.#seen = { ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs };
    this.#reloadedAt = stats.mtimeMs / 1000;
    if (this.#state !== 'ok' && this.#state !== 'unread')
      this.#log?.info({ file: this.options.file, entries: this.#table.entries }, 'hosts file read again');
    this.#state = 'ok';
    return true;
  }

  #failed(err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code;
    const state: FileState = code === 'ENOENT' ? 'missing' : 'error';
    if (state === this.#state) return;
    const kept = this.#file === null ? 'serving the inline entries' : 'keeping the entries last read';
    this.#log?.warn(
      { file: this.options.file, err: (err as Error).message },
      `hosts file ${state === 'missing' ? 'missing' : 'unreadable'}: ${kept}`,
    );
    this.#state = state;
  }

  serve(query: Query): Reply | null {
    const table = this.#table;
    const name = query.name;
    if (query.type === TYPE.PTR) {
      // Reverse names need not be in the zones; without an entry the next handler answers.
      const ptr = table.byReverse.get(name);
      if (ptr === undefined) return null;
      ptr.reply ??= encodeReply(name, {
        rcode: RCODE.NOERROR,
        authoritative: true,
        answer: ptr.names.map((target) => ({ name, type: TYPE.PTR, ttl: this.options.ttl, target })),
        authority: [],
        additional: [],
      });
      return ptr.reply;
    }
    if (!this.#zones.has(name)) return null;
    const entry = table.byName.get(name);
    if (entry === undefined) return this.#fallthrough?.has(name) ? null : SERVFAIL;
    if (query.type === TYPE.A && entry.v4.length > 0) return (entry.a ??= this.#addresses(name, TYPE.A, entry.v4));
    if (query.type === TYPE.AAAA && entry.v6.length > 0) return (entry.aaaa ??= this.#addresses(name, TYPE.AAAA, entry.v6));
    return NODATA;
  }

  #addresses(name: string, type: typeof TYPE.A | typeof TYPE.AAAA, addresses: readonly string[]): Reply {
    const ttl = this.options.ttl;
    return encodeReply(name, {
      rcode: RCODE.NOERROR,
      authoritative: true,
      answer: addresses.map((address) => ({ name, type, ttl, address })),
      authority: [],
      additional: [],
    });
  }
}
