// A forwarder against scripted loopback upstreams, through the real query processor: the rig the
// tests of src/upstream/ share.
import assert from 'node:assert/strict';
import { DEFAULT_CONFIG, type ForwardConfig, type HostPort } from '../../src/config.ts';
import { TYPE } from '../../src/dns/constants.ts';
import type { Handler, Query } from '../../src/dns/message.ts';
import { readQuery } from '../../src/dns/query.ts';
import { QueryProcessor } from '../../src/server/processor.ts';
import { silentLogger } from '../../src/base/log.ts';
import { CacheHandler } from '../../src/upstream/cache-handler.ts';
import { ExternalNameChaser } from '../../src/upstream/chase.ts';
import { Forwarder } from '../../src/upstream/forward.ts';
import type { LoadWindows } from '../../src/upstream/overload.ts';
import type { Timing } from '../../src/upstream/upstreams.ts';
import { KubernetesZone } from '../../src/zone/kubernetes.ts';
import { indexOf, testCluster } from './cluster.ts';
import { buildQuery, decode } from './dns.ts';
import { FakeUpstream } from './upstream.ts';

// For the tests of retransmits and health: sent again after 150 ms (doubling), probes that give
// up after 150 ms and come 40 ms apart, so silent upstreams cost little. A late retransmit never
// fails a query (the first attempt keeps listening until the deadline), only adds a send.
export const FAST: Timing = {
  initialRtoMs: 150,
  minRtoMs: 150,
  maxRtoMs: 300,
  probeTimeoutMs: 150,
  probeIntervalMs: 40,
  maxProbeIntervalMs: 160,
};
/** The rest count what goes upstream: no retransmit may race a loopback answer on a loaded machine. */
export const PATIENT: Timing = { ...FAST, initialRtoMs: 2_000, minRtoMs: 2_000, maxRtoMs: 2_000 };

export function hostPort(up: FakeUpstream): HostPort {
  return { host: '127.0.0.1', port: up.port };
}

export function forwardConfig(upstreams: HostPort[], extra: Partial<ForwardConfig> = {}): ForwardConfig {
  // --cache-denial-size follows --cache-size unless given, as on the command line.
  const cacheSize = extra.cacheSize ?? 1000;
  return {
    ...DEFAULT_CONFIG.forward,
    upstreams,
    upstreamsFrom: '--upstream',
    policy: 'sequential',
    timeoutMs: 2_000,
    cacheSize,
    cacheDenialSize: cacheSize,
    ...extra,
  };
}

export interface Rig {
  forwarder: Forwarder;
  processor: QueryProcessor;
  ask(name: string, type?: number, options?: { id?: number; from?: string }): Promise<ReturnType<typeof decode>>;
  clock: { now: number };
}

type After = { after: (fn: () => unknown) => void };

/**
 * The chain [ExternalNameChaser over the test cluster's zone] [CacheHandler] forwarder; by default
 * the forwarder alone, looking its cache up itself.
 */
export async function rig(
  t: After,
  config: ForwardConfig,
  options: { withZone?: boolean; cacheHandler?: boolean; tcpIdleMs?: number; timing?: Timing; load?: LoadWindows | null } = {},
): Promise<Rig> {
  const clock = { now: 1_800_000_000_000 };
  const { withZone = false, cacheHandler = false, tcpIdleMs, timing = PATIENT, load = null } = options;
  const forwarder = new Forwarder({
    config,
    logger: silentLogger(),
    timing,
    load,
    now: () => clock.now,
    cacheInFront: cacheHandler,
    ...(tcpIdleMs === undefined ? {} : { tcpIdleMs }),
  });
  t.after(() => forwarder.close());
  const handlers: Handler[] = [];
  if (withZone) {
    const zone = new KubernetesZone({ index: indexOf(testCluster()), zone: 'cluster.local', ttl: 5, pods: 'verified' });
    handlers.push(new ExternalNameChaser(zone, forwarder));
  }
  if (cacheHandler) handlers.push(new CacheHandler(forwarder));
  handlers.push(forwarder);
  const processor = new QueryProcessor({ handlers });
  return {
    forwarder,
    processor,
    clock,
    ask: async (name, type = TYPE.A, options = {}) => {
      const { from = '127.0.0.1', ...query } = options;
      const out = await processor.process(buildQuery(name, type, { udpSize: 1232, ...query }), { protocol: 'udp', remoteAddress: from });
      assert.ok(out, 'a reply');
      return decode(out);
    },
  };
}

export async function upstreamFor(t: After): Promise<FakeUpstream> {
  const up = await FakeUpstream.start();
  t.after(() => up.close());
  return up;
}

export function queryOf(name: string, type = TYPE.A): Query {
  const read = readQuery(buildQuery(name, type, { udpSize: 1232 }));
  assert.equal(read.kind, 'query');
  return (read as { query: Query }).query;
}
