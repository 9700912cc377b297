// A parsed Corefile turned into a plan: per server block its listeners and its directives read
// into typed settings, in the order a query meets them; the forwarding zones (the default and the
// stub domains) read across blocks; the reload settings. Pure data: no sockets, and files only
// through the reader's CorefileFs. Applying a plan is the caller's job.
import { CorefileError, type Location } from '../errors.ts';
import { nodeFs, type CorefileFs } from '../fs.ts';
import type { ServerKey } from '../keys.ts';
import { parseCorefile, type Corefile, type Directive, type ParseOptions, type Warning } from '../parse.ts';
import { inZone, siteOf, type Site } from './args.ts';
import type { BlockContext, DirectiveReader } from './context.ts';
import type { ForwardSettings } from './forward.ts';
import { refuseNotYet } from './later.ts';
import { DIRECTIVES, isPluginName, PLUGIN_ORDER, type PluginEntry, type PluginName } from './registry.ts';
import type { BindTarget, ReloadSettings } from './server.ts';
import { UNSUPPORTED_PLUGINS } from './unsupported.ts';

export interface Listener {
  readonly zone: string;
  readonly port: number;
  /** The key it came from (its file and line). */
  readonly key: ServerKey;
}

export interface ServerPlan {
  readonly keys: readonly ServerKey[];
  /** One per zone of each key. */
  readonly listeners: readonly Listener[];
  /** The `bind` lines together; [] listens on every address. */
  readonly bind: readonly BindTarget[];
  readonly bindExcept: readonly string[];
  /** In CoreDNS's plugin order; lines of one directive in the order written. */
  readonly plugins: readonly PluginEntry[];
  readonly file: string;
  readonly line: number;
  readonly via: readonly Location[];
}

/** Where a forward line sends a zone: the more specific of the server's zone and its FROM. */
export interface ForwardZone {
  readonly zone: string;
  readonly port: number;
  /** Index into `servers`. */
  readonly server: number;
  readonly at: Site;
  readonly forward: ForwardSettings;
}

export interface Plan {
  readonly servers: readonly ServerPlan[];
  /** Every zone a forward line serves, in file order; "." is the default upstream. */
  readonly forwardZones: readonly ForwardZone[];
  /** The forward zones other than the root: stub domains, as kube-dns called them. */
  readonly stubDomains: readonly ForwardZone[];
  /** The last `reload` line (CoreDNS's reload is one for the whole Corefile); null without one. */
  readonly reload: ReloadSettings | null;
  /** The reader's warnings and the directives'. */
  readonly warnings: readonly Warning[];
}

export interface CompileOptions {
  readonly fs?: CorefileFs;
  /** Relative paths in directive arguments resolve against this (CoreDNS: its working directory). */
  readonly cwd?: string;
}

/** Every directive read and checked, or a CorefileError naming the file and line. */
export async function compile(corefile: Corefile, options: CompileOptions = {}): Promise<Plan> {
  const fs = options.fs ?? nodeFs;
  const cwd = options.cwd ?? process.cwd();
  const warnings: Warning[] = [...corefile.warnings];
  const servers: ServerPlan[] = [];
  let reload: ReloadSettings | null = null;

  for (const block of corefile.blocks) {
    const zones = [...new Set(block.keys.flatMap((k) => k.zones))];
    const ctx: BlockContext = {
      zones,
      fs,
      cwd,
      warn: (at, message) => warnings.push({ file: at.file, line: at.line, message }),
    };
    const read: PluginEntry[] = [];
    const first = new Map<string, Site>();
    for (const d of block.directives) {
      const entry = await readDirective(d, ctx);
      const spec = DIRECTIVES[entry.name];
      const seen = first.get(entry.name);
      if (seen !== undefined && spec.once) {
        throw new CorefileError(
          'directive',
          d,
          `${d.name}: this plugin can only be used once per server block (first at ${seen.file}:${seen.line})`,
          d.via,
        );
      }
      first.set(entry.name, entry.at);
      read.push(entry);
      if (entry.name === 'reload') reload = entry.settings;
    }
    const rank = (name: PluginName) => PLUGIN_ORDER.indexOf(name);
    const plugins = read
      .map((e, i) => ({ e, i }))
      .sort((a, b) => rank(a.e.name) - rank(b.e.name) || a.i - b.i)
      .map((x) => x.e);
    const binds = plugins.flatMap((p) => (p.name === 'bind' ? [p.settings] : []));
    servers.push({
      keys: block.keys,
      listeners: block.keys.flatMap((key) => key.zones.map((zone) => ({ zone, port: key.port, key }))),
      bind: binds.flatMap((b) => b.targets),
      bindExcept: binds.flatMap((b) => b.except),
      plugins,
      file: block.file,
      line: block.line,
      via: block.via,
    });
  }
  checkDuplicates(servers);
  const forwardZones = forwardsOf(servers);
  return {
    servers,
    forwardZones,
    stubDomains: forwardZones.filter((f) => f.zone !== '.'),
    reload,
    warnings,
  };
}

/** Parses the Corefile at `path` and compiles it: what a start and a reload both do. */
export async function loadCorefile(path: string, options: CompileOptions & ParseOptions = {}): Promise<{ corefile: Corefile; plan: Plan }> {
  const corefile = await parseCorefile(path, options.fs ?? nodeFs, options);
  return { corefile, plan: await compile(corefile, options) };
}

async function readDirective(d: Directive, ctx: BlockContext): Promise<PluginEntry> {
  const name = d.name;
  if (!isPluginName(name)) {
    const why = UNSUPPORTED_PLUGINS[name];
    throw new CorefileError('unsupported', d, `unsupported directive "${name}"${why === undefined ? '' : `: ${why}`}`, d.via);
  }
  const settings = await (DIRECTIVES[name].read as DirectiveReader<unknown>)(d, ctx);
  const at = siteOf(d);
  refuseNotYet(name, settings, at);
  return { name, at, settings } as PluginEntry;
}

/**
 * CoreDNS's check across blocks: a zone and port served twice on the same address is "already
 * defined"; a zone and port on one address and also on every address "overlaps".
 */
function checkDuplicates(servers: readonly ServerPlan[]): void {
  const taken = new Map<string, { readonly address: string; readonly shown: string }[]>();
  for (const server of servers) {
    const addresses = server.bind.length === 0 ? [''] : server.bind.map((b) => (b.kind === 'address' ? b.address : `%${b.name}`));
    for (const l of server.listeners) {
      const base = `dns://${l.zone === '.' ? '.' : `${l.zone}.`}:${l.port}`;
      const list = taken.get(base) ?? [];
      for (const address of addresses) {
        const shown = address === '' ? base : `${base} on ${address}`;
        const same = list.find((t) => t.address === address);
        if (same) throw new CorefileError('key', l.key, `cannot serve ${shown} - it is already defined`, server.via);
        const overlap = list.find((t) => t.address === '' || address === '');
        if (overlap)
          throw new CorefileError('key', l.key, `cannot serve ${shown} - zone overlap listener capacity with ${overlap.shown}`, server.via);
        list.push({ address, shown });
      }
      taken.set(base, list);
    }
  }
}

function forwardsOf(servers: readonly ServerPlan[]): ForwardZone[] {
  const out: ForwardZone[] = [];
  servers.forEach((server, index) => {
    for (const p of server.plugins) {
      if (p.name !== 'forward') continue;
      for (const l of server.listeners) {
        const from = p.settings.from;
        const zone = inZone(from, l.zone) ? from : inZone(l.zone, from) ? l.zone : null;
        if (zone === null) continue;
        if (out.some((f) => f.zone === zone && f.port === l.port)) continue;
        out.push({ zone, port: l.port, server: index, at: p.at, forward: p.settings });
      }
    }
  });
  return out;
}
