// `cache [TTL] [ZONES…] { … }` as CoreDNS's plugin/cache setup reads it, with its defaults:
// 9984 entries each for answers and denials (256 shards of 39), kept up to 3600 s and 1800 s and
// at least 5 s; `cache 30` caps both at 30 s.
import type { Directive } from '../parse.ts';
import { argCount, duration, fail, flat, integer, lines, unknownProperty, zoneList } from './args.ts';
import type { BlockContext } from './context.ts';

export interface CacheKind {
  /** Entries kept before eviction. */
  readonly capacity: number;
  /** Longest an entry is kept, seconds. */
  readonly maxTtl: number;
  /** Shortest an entry is kept, seconds. */
  readonly minTtl: number;
}

export interface CacheSettings {
  readonly zones: readonly string[];
  readonly success: CacheKind;
  readonly denial: CacheKind;
  /** `prefetch AMOUNT [DURATION] [PERCENTAGE%]`; null off. */
  readonly prefetch: { readonly amount: number; readonly durationMs: number; readonly percentage: number } | null;
  /** `serve_stale [DURATION] [immediate|verify]`; null off. */
  readonly serveStale: { readonly durationMs: number; readonly mode: 'immediate' | 'verify' } | null;
  /** How long a SERVFAIL is cached, seconds (CoreDNS 5 s, at most 5 minutes; 0 off). */
  readonly servfailTtl: number;
  /** `disable success|denial [ZONES…]`: zones where that kind is not cached. */
  readonly disable: { readonly success: readonly string[]; readonly denial: readonly string[] };
  /** Answer with the TTL the upstream gave, not the one counting down in the cache. */
  readonly keepTtl: boolean;
}

export const CACHE_DEFAULT_CAPACITY = 9984;
const P = 'cache';

export function readCache(d: Directive, ctx: BlockContext): CacheSettings {
  let args = d.args;
  let successMax = 3600;
  let denialMax = 1800;
  if (args.length > 0 && /^[+-]?\d+$/.test(args[0] as string)) {
    const ttl = integer(args[0] as string, d, P, 'TTL');
    if (ttl <= 0) fail(d, P, `cache TTL can not be zero or negative: ${ttl}`);
    successMax = ttl;
    denialMax = ttl;
    args = args.slice(1);
  }
  const zones = args.length > 0 ? zoneList(args, d, P) : [...ctx.zones];
  const success = { capacity: CACHE_DEFAULT_CAPACITY, maxTtl: successMax, minTtl: 5 };
  const denial = { capacity: CACHE_DEFAULT_CAPACITY, maxTtl: denialMax, minTtl: 5 };
  let prefetch: CacheSettings['prefetch'] = null;
  let serveStale: CacheSettings['serveStale'] = null;
  let servfailTtl = 5;
  const disable = { success: [] as string[], denial: [] as string[] };
  let keepTtl = false;

  for (const p of lines(d)) {
    flat(p, P);
    const a = p.args;
    switch (p.name) {
      case 'success':
      case 'denial': {
        argCount(p, P, 1, 3);
        const kind = p.name === 'success' ? success : denial;
        kind.capacity = integer(a[0] as string, p, P, `${p.name} capacity`);
        if (kind.capacity < 0) fail(p, P, `${p.name} capacity can not be negative: ${kind.capacity}`);
        if (a[1] !== undefined) {
          kind.maxTtl = integer(a[1], p, P, `${p.name} TTL`);
          if (kind.maxTtl <= 0) fail(p, P, `cache TTL can not be zero or negative: ${kind.maxTtl}`);
        }
        if (a[2] !== undefined) {
          kind.minTtl = integer(a[2], p, P, `${p.name} MINTTL`);
          if (kind.minTtl < 0) fail(p, P, `cache min TTL can not be negative: ${kind.minTtl}`);
        }
        break;
      }
      case 'prefetch': {
        argCount(p, P, 1, 3);
        const amount = integer(a[0] as string, p, P, 'prefetch amount');
        if (amount < 0) fail(p, P, `prefetch amount should be positive: ${amount}`);
        let durationMs = 60_000;
        let percentage = 10;
        if (a[1] !== undefined) durationMs = duration(a[1], p, P, 'prefetch duration');
        if (a[2] !== undefined) {
          if (!a[2].endsWith('%')) fail(p, P, `last character of percentage should be \`%\`, but is: "${a[2].slice(-1)}"`);
          percentage = integer(a[2].slice(0, -1), p, P, 'prefetch percentage');
          if (percentage < 10 || percentage > 90) fail(p, P, `percentage should fall in range [10, 90]: ${percentage}`);
        }
        prefetch = { amount, durationMs, percentage };
        break;
      }
      case 'serve_stale': {
        argCount(p, P, 0, 2);
        const durationMs = a[0] === undefined ? 3_600_000 : duration(a[0], p, P, 'serve_stale duration');
        const mode = a[1] ?? 'immediate';
        if (mode !== 'immediate' && mode !== 'verify')
          fail(p, P, `invalid value for serve_stale refresh mode: ${mode} (immediate or verify)`);
        serveStale = { durationMs, mode };
        break;
      }
      case 'servfail': {
        argCount(p, P, 1, 1);
        const ms = duration(a[0] as string, p, P, 'servfail');
        if (ms > 300_000) fail(p, P, 'caching SERVFAIL responses over 5 minutes is not permitted');
        servfailTtl = Math.floor(ms / 1000);
        break;
      }
      case 'disable': {
        argCount(p, P, 1, Infinity);
        const kind = a[0];
        if (kind !== 'success' && kind !== 'denial') fail(p, P, `disable takes "success" or "denial", not "${kind}"`);
        const list = a.length > 1 ? zoneList(a.slice(1), p, P) : zones;
        for (const z of list) if (!disable[kind].includes(z)) disable[kind].push(z);
        break;
      }
      case 'keepttl':
        argCount(p, P, 0, 0);
        keepTtl = true;
        break;
      default:
        unknownProperty(p, P);
    }
  }
  return { zones, success, denial, prefetch, serveStale, servfailTtl, disable, keepTtl };
}
