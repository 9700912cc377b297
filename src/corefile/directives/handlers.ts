// The directives whose handlers are already in src/plugins/ (hosts, rewrite, template,
// loadbalance): read into those handlers' own option types and checked by their own checks, so
// a bad value fails here at its line instead of when the handler is built.
import { hostsOptions, type HostsOptions } from '../../plugins/hosts.ts';
import { loadbalanceOptions, type LoadbalanceOptions } from '../../plugins/loadbalance.ts';
import { parseRewriteArgs, type RewriteRule } from '../../plugins/rewrite.ts';
import { TemplateHandler, templateCodes, type TemplateOptions } from '../../plugins/template.ts';
import { PluginOptionError } from '../../plugins/errors.ts';
import { posix } from 'node:path';
import type { Directive } from '../parse.ts';
import { argCount, duration, fail, flat, integer, lines, noBlock, pluginZone, zoneList, type Site } from './args.ts';
import type { BlockContext } from './context.ts';

/** A plugin's own check, its message put at the line that caused it. */
function checked<T>(at: Site, plugin: string, run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof PluginOptionError) fail(at, plugin, err.message.replace(`${plugin}: `, ''));
    throw err;
  }
}

const fallthroughZones = (args: readonly string[], at: Site, plugin: string): string[] =>
  args.length === 0 ? [] : zoneList(args, at, plugin).map(pluginZone);

/**
 * `hosts [FILE [ZONES…]] { ENTRY… ttl reload no_reverse fallthrough }`. As in CoreDNS, a line that
 * is no property is an inline entry, unless it follows `fallthrough`; the file defaults to
 * /etc/hosts even with inline entries, and a missing file is no error (the handler logs it).
 */
export function readHosts(d: Directive, ctx: BlockContext): HostsOptions {
  const P = 'hosts';
  const file = d.args[0] === undefined ? '/etc/hosts' : posix.resolve(ctx.cwd, d.args[0]);
  const zones = d.args.length > 1 ? zoneList(d.args.slice(1), d, P) : [...ctx.zones];
  const inline: string[] = [];
  let ttl = 3600;
  let reloadMs = 5000;
  let reverse = true;
  let fallthrough: string[] | null = null;
  for (const p of lines(d)) {
    flat(p, P);
    switch (p.name) {
      case 'fallthrough':
        fallthrough = fallthroughZones(p.args, p, P);
        break;
      case 'no_reverse':
        argCount(p, P, 0, 0);
        reverse = false;
        break;
      case 'ttl':
        argCount(p, P, 1, 1);
        ttl = integer(p.args[0] as string, p, P, 'ttl');
        if (ttl <= 0 || ttl > 65535) fail(p, P, `ttl provided is invalid: ${ttl} (1-65535)`);
        break;
      case 'reload':
        argCount(p, P, 1, 1);
        reloadMs = duration(p.args[0] as string, p, P, 'reload');
        break;
      default:
        if (fallthrough !== null) fail(p, P, `unknown property "${p.name}" (an entry cannot follow fallthrough)`);
        inline.push([p.name, ...p.args].join(' '));
    }
  }
  return checked(d, P, () => hostsOptions({ file, zones: zones.map(pluginZone), inline, ttl, reloadMs, reverse, fallthrough }));
}

/**
 * `rewrite [continue|stop] RULE…`, or with the rule's words in a block (CoreDNS appends a block's
 * words to the line's when the line has fewer than two). One rule per directive line.
 */
export function readRewrite(d: Directive): RewriteRule {
  const P = 'rewrite';
  const words = [...d.args];
  if (d.block !== null) {
    if (words.length >= 2) fail(d, P, 'a rule is written on the line or in the block, not both');
    for (const p of d.block) {
      flat(p, P);
      words.push(p.name, ...p.args);
    }
  }
  return checked(d, P, () => parseRewriteArgs(words));
}

/**
 * `template CLASS TYPE [ZONES…] { match… answer… additional… authority… rcode fallthrough }`;
 * CLASS and TYPE default to ANY, ZONES to the server block's.
 */
export function readTemplate(d: Directive, ctx: BlockContext): TemplateOptions {
  const P = 'template';
  const codes = checked(d, P, () => templateCodes((d.args[0] ?? 'ANY').toUpperCase(), (d.args[1] ?? 'ANY').toUpperCase()));
  const zones = d.args.length > 2 ? zoneList(d.args.slice(2), d, P) : [...ctx.zones];
  const match: string[] = [];
  const answer: string[] = [];
  const additional: string[] = [];
  const authority: string[] = [];
  let rcode = 0;
  let fallthrough: string[] | null = null;
  for (const p of lines(d)) {
    flat(p, P);
    switch (p.name) {
      case 'match':
        argCount(p, P, 1, Infinity);
        match.push(...p.args);
        break;
      case 'answer':
      case 'additional':
      case 'authority':
        argCount(p, P, 1, Infinity);
        (p.name === 'answer' ? answer : p.name === 'additional' ? additional : authority).push(...p.args);
        break;
      case 'rcode':
        argCount(p, P, 1, 1);
        rcode = checked(p, P, () => templateCodes('ANY', 'ANY', (p.args[0] as string).toUpperCase()).rcode as number);
        break;
      case 'fallthrough':
        fallthrough = fallthroughZones(p.args, p, P);
        break;
      case 'upstream':
        ctx.warn(p, 'template: upstream is deprecated and ignored (CNAME targets are resolved without it)');
        break;
      default:
        fail(p, P, `unknown property "${p.name}"`);
    }
  }
  const options: TemplateOptions = {
    class: codes.class,
    type: codes.type,
    zones: zones.map(pluginZone),
    match: match.length === 0 ? ['.*'] : match,
    answer,
    additional,
    authority,
    rcode,
    fallthrough,
  };
  // The handler's own compile checks the regexes and the record templates.
  checked(d, P, () => new TemplateHandler([options]));
  return options;
}

/** `loadbalance [round_robin]`. */
export function readLoadbalance(d: Directive): LoadbalanceOptions {
  noBlock(d, 'loadbalance');
  return checked(d, 'loadbalance', () => loadbalanceOptions(d.args));
}
