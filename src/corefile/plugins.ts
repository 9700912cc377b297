// A compiled Corefile's handlers, built: per server block, its acl, rewrite, template and hosts in
// CoreDNS's order in front of the cluster chain, and acl and chaos for the other classes;
// loadbalance as the replies' record order and nsid as their NSID, for every block (server-wide).
// What the option table took (kubernetes, forward, cache, health, …) is not built here.
import { hostname } from 'node:os';
import type { Handler, RecordOrder } from '../dns/message.ts';
import type { Logger } from '../base/log.ts';
import { AclHandler } from '../plugins/acl.ts';
import { Chain } from '../plugins/chain.ts';
import { ChaosHandler } from '../plugins/chaos.ts';
import { HostsHandler, hostsOptions, type HostsOptions } from '../plugins/hosts.ts';
import { RecordShuffle } from '../plugins/loadbalance.ts';
import { RewriteHandler, type RewriteRule } from '../plugins/rewrite.ts';
import type { StageBlock } from '../plugins/stage.ts';
import { TemplateHandler, type TemplateOptions } from '../plugins/template.ts';
import { WhoamiHandler } from '../plugins/whoami.ts';
import type { Plan, ServerPlan } from './directives/index.ts';

export interface BuiltPlugins {
  readonly blocks: readonly StageBlock[];
  /** loadbalance in any block: the replies' records rotate (the processor applies it to all). */
  readonly recordOrder: RecordOrder | null;
  /** The hosts handlers, to start (they read and poll their files) and to stop. */
  readonly hosts: readonly HostsHandler[];
  /** nsid in any block: the NSID of every reply that asks for one. */
  readonly nsid: Uint8Array | null;
}

export interface BuildContext {
  /** Hosts handlers of the running plugins, kept where their options did not change. */
  readonly reuse?: HostsCache;
  /** The server's version: chaos's default `version.bind`. */
  readonly version?: string;
  /** The host name: nsid's and chaos's default. */
  readonly hostname?: string;
}

/** Hosts handlers kept from the running plugins, by their options: a reload keeps what did not change. */
export type HostsCache = ReadonlyMap<string, HostsHandler>;

const zoneOf = (zone: string) => (zone === '.' ? '' : zone.replace(/\.$/, ''));

interface Block {
  readonly chain: Handler | null;
  readonly otherClasses: Handler | null;
}

function acl(server: ServerPlan): AclHandler | null {
  const rules = server.plugins.flatMap((p) =>
    p.name === 'acl' ? [{ zones: p.settings.zones.map(zoneOf), policies: p.settings.rules }] : [],
  );
  return rules.length === 0 ? null : new AclHandler(rules);
}

function chaos(server: ServerPlan, context: BuildContext): ChaosHandler | null {
  const entry = server.plugins.find((p) => p.name === 'chaos');
  if (entry?.name !== 'chaos') return null;
  return new ChaosHandler({
    version: entry.settings.version ?? `cluster-dns-${context.version ?? '0.0.0'}`,
    authors: entry.settings.authors,
    ...(context.hostname !== undefined ? { hostname: context.hostname } : {}),
  });
}

/** acl comes first (plugin.cfg), so it decides before anything answers, chaos included. */
function guarded(guard: AclHandler | null, handler: Handler | null): Handler | null {
  if (guard === null || handler === null) return handler ?? guard;
  return new Chain([guard, handler], 'block');
}

function block(server: ServerPlan, rest: Handler, logger: Logger, context: BuildContext, hosts: HostsHandler[]): Block {
  const guard = acl(server);
  return {
    chain: guarded(guard, blockChain(server, rest, logger, context.reuse ?? new Map(), hosts)),
    otherClasses: guarded(guard, chaos(server, context)),
  };
}

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
  // whoami is last in CoreDNS's order: in a block that neither forwards nor serves the cluster it
  // answers what the block's others pass, instead of the shared cluster chain.
  const whoami = server.plugins.some((p) => p.name === 'whoami');
  const own = server.plugins.some((p) => p.name === 'kubernetes' || p.name === 'forward');
  const end = whoami && !own ? new WhoamiHandler() : rest;
  // template comes before hosts in CoreDNS's order (plugin.cfg); rewrite before both.
  const handlers = [
    ...(templates.length > 0 ? [new TemplateHandler(templates, logger.child({ plugin: 'template' }))] : []),
    ...after,
    end,
    ...(whoami && own ? [new WhoamiHandler()] : []),
  ];
  if (rules.length === 0 && handlers.length === 1 && end === rest) return null; // nothing of its own (but acl): the cluster chain answers
  const next = handlers.length === 1 ? end : new Chain(handlers, 'block');
  return rules.length > 0 ? new RewriteHandler({ rules }, next, logger.child({ plugin: 'rewrite' })) : next;
}

export function hostsKey(options: HostsOptions): string {
  return JSON.stringify(options);
}

/** The plan's handlers; `rest` is the cluster chain every block ends in. */
export function buildPlugins(plan: Plan, rest: Handler, logger: Logger, context: BuildContext = {}): BuiltPlugins {
  const hosts: HostsHandler[] = [];
  const blocks = plan.servers.map((server) => ({
    zones: [...new Set(server.listeners.map((l) => zoneOf(l.zone)))],
    ...block(server, rest, logger, context, hosts),
  }));
  const loadbalance = plan.servers.some((s) => s.plugins.some((p) => p.name === 'loadbalance'));
  return { blocks, recordOrder: loadbalance ? new RecordShuffle() : null, hosts, nsid: nsidOf(plan, context) };
}

/** CoreDNS's nsid: the DATA given, else the host name; the first block's that says it. */
function nsidOf(plan: Plan, context: BuildContext): Uint8Array | null {
  for (const server of plan.servers) {
    for (const p of server.plugins) {
      if (p.name === 'nsid') return new Uint8Array(Buffer.from(p.settings.data ?? context.hostname ?? hostname(), 'utf8'));
    }
  }
  return null;
}
