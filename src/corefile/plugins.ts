// A compiled Corefile's handlers, built: per server block, its rewrite, template and hosts in
// CoreDNS's order in front of the cluster chain, and loadbalance as the replies' record order.
// What the option table took (kubernetes, forward, cache, health, …) is not built here.
import type { Handler, RecordOrder } from '../dns/message.ts';
import type { Logger } from '../base/log.ts';
import { Chain } from '../plugins/chain.ts';
import { HostsHandler, hostsOptions, type HostsOptions } from '../plugins/hosts.ts';
import { RecordShuffle } from '../plugins/loadbalance.ts';
import { RewriteHandler, type RewriteRule } from '../plugins/rewrite.ts';
import type { StageBlock } from '../plugins/stage.ts';
import { TemplateHandler, type TemplateOptions } from '../plugins/template.ts';
import type { Plan, ServerPlan } from './directives/index.ts';

export interface BuiltPlugins {
  readonly blocks: readonly StageBlock[];
  /** loadbalance in any block: the replies' records rotate (the processor applies it to all). */
  readonly recordOrder: RecordOrder | null;
  /** The hosts handlers, to start (they read and poll their files) and to stop. */
  readonly hosts: readonly HostsHandler[];
}

/** Hosts handlers kept from the running plugins, by their options: a reload keeps what did not change. */
export type HostsCache = ReadonlyMap<string, HostsHandler>;

const zoneOf = (zone: string) => (zone === '.' ? '' : zone.replace(/\.$/, ''));

function blockChain(server: ServerPlan, rest: Handler, logger: Logger, reuse: HostsCache, hosts: HostsHandler[]): Handler | null {
  const rules: RewriteRule[] = [];
  const templates: TemplateOptions[] = [];
  const after: Handler[] = [];
  for (const p of server.plugins) {
    if (p.name === 'rewrite') rules.push(p.settings);
    else if (p.name === 'template') templates.push(p.settings);
    else if (p.name === 'hosts') {
      const key = hostsKey(hostsOptions(p.settings));
      const handler = reuse.get(key) ?? new HostsHandler(p.settings, logger.child({ plugin: 'hosts' }));
      hosts.push(handler);
      after.push(handler);
    }
  }
  // template comes before hosts in CoreDNS's order (plugin.cfg); rewrite before both.
  const handlers = [
    ...(templates.length > 0 ? [new TemplateHandler(templates, logger.child({ plugin: 'template' }))] : []),
    ...after,
    rest,
  ];
  if (rules.length === 0 && handlers.length === 1) return null; // nothing of its own: the cluster chain answers
  const next = handlers.length === 1 ? rest : new Chain(handlers, 'block');
  return rules.length > 0 ? new RewriteHandler({ rules }, next, logger.child({ plugin: 'rewrite' })) : next;
}

export function hostsKey(options: HostsOptions): string {
  return JSON.stringify(options);
}

/** The plan's handlers; `rest` is the cluster chain every block ends in. */
export function buildPlugins(plan: Plan, rest: Handler, logger: Logger, reuse: HostsCache = new Map()): BuiltPlugins {
  const hosts: HostsHandler[] = [];
  const blocks = plan.servers.map((server) => ({
    zones: [...new Set(server.listeners.map((l) => zoneOf(l.zone)))],
    chain: blockChain(server, rest, logger, reuse, hosts),
  }));
  const loadbalance = plan.servers.some((s) => s.plugins.some((p) => p.name === 'loadbalance'));
  return { blocks, recordOrder: loadbalance ? new RecordShuffle() : null, hosts };
}
