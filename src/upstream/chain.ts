// The handler order behind the cluster zone, written once: transport → [autopath] → cluster zone
// (its ExternalName CNAMEs chased upstream) → cache → forward. Without upstreams the zone alone.
import type { Handler } from '../dns/message.ts';
import type { ClusterIndex } from '../index/index.ts';
import { Autopath } from './autopath.ts';
import { CacheHandler } from './cache-handler.ts';
import { ExternalNameChaser, type SectionsHandler } from './chase.ts';
import type { Forwarder } from './forward.ts';

export interface ChainOptions {
  readonly zone: SectionsHandler;
  readonly index: ClusterIndex;
  readonly zoneName: string;
  readonly ttl: number;
  readonly forwarder: Forwarder | null;
  /** --autopath's search path, or null when it is off. */
  readonly autopathSearch: readonly string[] | null;
}

export function clusterHandlers(options: ChainOptions): Handler[] {
  const { zone, index, zoneName, ttl, forwarder } = options;
  const zoneHandler: SectionsHandler = forwarder ? new ExternalNameChaser(zone, forwarder) : zone;
  const handlers: Handler[] = [];
  if (options.autopathSearch) {
    handlers.push(new Autopath({ index, zone: zoneHandler, zoneName, forwarder, ttl, search: options.autopathSearch }));
  }
  handlers.push(zoneHandler);
  if (forwarder) handlers.push(new CacheHandler(forwarder), forwarder);
  return handlers;
}
