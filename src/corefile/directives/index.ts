/**
 * The directive layer: what each Corefile directive means, read into typed settings with
 * CoreDNS's documented defaults, and a parsed Corefile compiled into a plan (server blocks,
 * listeners, plugins in CoreDNS's execution order, forward zones, reload). It knows nothing of
 * flags or of the option table; applying a plan is the caller's.
 *
 * - A directive cluster-dns does not read fails as `FILE:LINE: unsupported directive "NAME"`,
 *   with the reason for CoreDNS plugins it does not offer (unsupported.ts).
 * - A bad argument or property fails as `FILE:LINE: PLUGIN: why`.
 * - The kubernetes-plugin features not built yet are read, then refused by one table
 *   (later.ts NOT_YET): `FILE:LINE: kubernetes: namespaces is not supported yet (…)`.
 */
export { compile, loadCorefile, type CompileOptions, type ForwardZone, type Listener, type Plan, type ServerPlan } from './compile.ts';
export { DIRECTIVES, PLUGIN_ORDER, type PluginEntry, type PluginName, type SettingsByName } from './registry.ts';
export { NOT_YET, type K8sExternalSettings, type TransferSettings } from './later.ts';
export { UNSUPPORTED_PLUGINS } from './unsupported.ts';
export { goDuration, type Address, type Site } from './args.ts';
export type { CacheSettings, CacheKind } from './cache.ts';
export type { ForwardPolicy, ForwardSettings, ForwardTarget } from './forward.ts';
export type { KubernetesPodMode, KubernetesSettings } from './kubernetes.ts';
export {
  RELOAD_DEFAULTS,
  type AclRule,
  type AclSettings,
  type AutopathSettings,
  type BindSettings,
  type BindTarget,
  type ErrorsSettings,
  type HealthSettings,
  type LogSettings,
  type ReloadSettings,
} from './server.ts';
