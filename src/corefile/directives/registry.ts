// Every directive cluster-dns reads: its reader, its settings type, whether CoreDNS allows it once
// per server block, and its place in CoreDNS's plugin execution order (plugin.cfg).
import type { HostsOptions } from '../../plugins/hosts.ts';
import type { LoadbalanceOptions } from '../../plugins/loadbalance.ts';
import type { RewriteRule } from '../../plugins/rewrite.ts';
import type { TemplateOptions } from '../../plugins/template.ts';
import type { Site } from './args.ts';
import { readCache, type CacheSettings } from './cache.ts';
import type { DirectiveReader } from './context.ts';
import { readForward, type ForwardSettings } from './forward.ts';
import { readHosts, readLoadbalance, readRewrite, readTemplate } from './handlers.ts';
import { readKubernetes, type KubernetesSettings } from './kubernetes.ts';
import { readK8sExternal, readTransfer, type K8sExternalSettings, type TransferSettings } from './later.ts';
import {
  readAcl,
  readAutopath,
  readBare,
  readBind,
  readBufsize,
  readChaos,
  readEndpoint,
  readErrors,
  readHealth,
  readLog,
  readNsid,
  readReload,
  type AclSettings,
  type AutopathSettings,
  type BindSettings,
  type ErrorsSettings,
  type HealthSettings,
  type LogSettings,
  type ReloadSettings,
} from './server.ts';
import type { Address } from './args.ts';

export interface SettingsByName {
  reload: ReloadSettings;
  nsid: { readonly data: string | null };
  bufsize: { readonly size: number };
  bind: BindSettings;
  debug: Record<string, never>;
  ready: { readonly address: Address };
  health: HealthSettings;
  prometheus: { readonly address: Address };
  errors: ErrorsSettings;
  log: LogSettings;
  acl: AclSettings;
  any: Record<string, never>;
  chaos: { readonly version: string | null; readonly authors: readonly string[] };
  loadbalance: LoadbalanceOptions;
  cache: CacheSettings;
  rewrite: RewriteRule;
  autopath: AutopathSettings;
  template: TemplateOptions;
  transfer: TransferSettings;
  hosts: HostsOptions;
  k8s_external: K8sExternalSettings;
  kubernetes: KubernetesSettings;
  loop: Record<string, never>;
  forward: ForwardSettings;
  whoami: Record<string, never>;
}

export type PluginName = keyof SettingsByName;

/** One directive line of a server block, read. */
export type PluginEntry = {
  readonly [N in PluginName]: { readonly name: N; readonly at: Site; readonly settings: SettingsByName[N] };
}[PluginName];

interface Spec<N extends PluginName> {
  readonly read: DirectiveReader<SettingsByName[N]>;
  /** CoreDNS: "this plugin can only be used once per Server Block". */
  readonly once: boolean;
}

/** In CoreDNS's plugin.cfg order, which is the order a query meets them. */
export const DIRECTIVES: { readonly [N in PluginName]: Spec<N> } = {
  reload: { read: readReload, once: true },
  nsid: { read: readNsid, once: true },
  bufsize: { read: readBufsize, once: true },
  bind: { read: readBind, once: false },
  debug: { read: readBare('debug'), once: true },
  ready: { read: readEndpoint('ready'), once: true },
  // CoreDNS's health setup reads every health line of a block; the last one wins.
  health: { read: readHealth, once: false },
  prometheus: { read: readEndpoint('prometheus'), once: true },
  errors: { read: readErrors, once: true },
  log: { read: readLog, once: false },
  acl: { read: readAcl, once: false },
  any: { read: readBare('any'), once: true },
  chaos: { read: readChaos, once: true },
  loadbalance: { read: readLoadbalance, once: true },
  cache: { read: readCache, once: true },
  rewrite: { read: readRewrite, once: false },
  autopath: { read: readAutopath, once: true },
  template: { read: readTemplate, once: false },
  transfer: { read: readTransfer, once: true },
  hosts: { read: readHosts, once: true },
  k8s_external: { read: readK8sExternal, once: true },
  kubernetes: { read: readKubernetes, once: true },
  loop: { read: readBare('loop'), once: true },
  forward: { read: readForward, once: false },
  whoami: { read: readBare('whoami'), once: true },
};

export const PLUGIN_ORDER: readonly PluginName[] = Object.keys(DIRECTIVES) as PluginName[];

export function isPluginName(name: string): name is PluginName {
  return Object.hasOwn(DIRECTIVES, name);
}
