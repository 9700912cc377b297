// A compiled Corefile as option assignments: each directive setting that has an option sets it,
// with its file and line as the origin, so that a flag for the same option is an error naming
// both. What has no option (hosts, rewrite, template, loadbalance, acl, chaos, …) stays in the
// Plan, for the handlers built from it.
//
// Two kinds of assignment:
// - written: a line of the Corefile says it (`ttl 30`, `cache 30`, `health :8080`);
// - implied: CoreDNS's default where the Corefile is silent, which differs from ours (pods
//   disabled, no /health without `health`). A flag may set an implied option: it is not a
//   conflict, the Corefile did not say it.
import { formatHostPort } from '../base/address.ts';
import type {
  Address,
  CacheSettings,
  ForwardSettings,
  ForwardZone,
  KubernetesSettings,
  Plan,
  PluginEntry,
  ServerPlan,
  Site,
} from '../corefile/directives/index.ts';
import { CorefileError } from '../corefile/errors.ts';
import type { Assignment, Origin } from './table.ts';

export interface CorefileAssignments {
  readonly written: readonly Assignment[];
  readonly implied: readonly Assignment[];
}

type SettingsOf<N extends PluginEntry['name']> = Extract<PluginEntry, { name: N }>;

/** `FILE:LINE: DIRECTIVE: why` for what the Corefile says that cluster-dns cannot do as said. */
function unsupported(at: Site, directive: string, why: string): never {
  throw new CorefileError('unsupported', at, `${directive}: ${why}`, at.via);
}

function entries<N extends PluginEntry['name']>(server: ServerPlan, name: N): SettingsOf<N>[] {
  return server.plugins.filter((p): p is SettingsOf<N> => p.name === name);
}

function addressText({ host, port }: Address): string {
  return host === '' ? `:${port}` : formatHostPort({ host, port });
}

const seconds = (ms: number) => `${Math.round(ms / 1000)}s`;

/** The options a compiled Corefile sets. */
export function corefileAssignments(plan: Plan): CorefileAssignments {
  const written: Assignment[] = [];
  const implied: Assignment[] = [];
  const write = (flag: string, value: string | boolean, at: Site, directive: string) =>
    written.push({ flag, value, from: { kind: 'corefile', file: at.file, line: at.line, directive } satisfies Origin });
  const imply = (flag: string, value: string | boolean, at: Site, directive: string) =>
    implied.push({ flag, value, from: { kind: 'corefile', file: at.file, line: at.line, directive } });

  const kube = plan.servers.flatMap((s) => entries(s, 'kubernetes').map((entry) => ({ server: s, entry })));
  if (kube.length === 0) {
    const first = plan.servers[0];
    throw new CorefileError(
      'unsupported',
      first ?? { file: 'Corefile', line: 1 },
      'no kubernetes directive: cluster-dns answers a cluster zone, so one server block needs `kubernetes`',
    );
  }
  if (kube.length > 1) {
    const second = kube[1]!.entry;
    unsupported(
      second.at,
      'kubernetes',
      `a second kubernetes plugin (the first is at ${kube[0]!.entry.at.file}:${kube[0]!.entry.at.line}): cluster-dns serves one cluster zone`,
    );
  }
  const { server: home, entry: k8s } = kube[0]!;
  kubernetesOptions(k8s.settings, k8s.at, write, imply);

  // Listeners: every block's port on its bind addresses (all addresses without bind).
  const listen = new Set<string>();
  for (const server of plan.servers) {
    if (server.bindExcept.length > 0)
      unsupported(entries(server, 'bind')[0]!.at, 'bind', '`except` is not supported: list the addresses to listen on');
    const hosts: string[] = [];
    for (const target of server.bind) {
      if (target.kind === 'interface')
        unsupported(entries(server, 'bind')[0]!.at, 'bind', `interface names are not supported (${target.name}): give its addresses`);
      hosts.push(target.address);
    }
    for (const listener of server.listeners) {
      for (const host of hosts.length > 0 ? hosts : ['0.0.0.0']) {
        const text = formatHostPort({ host, port: listener.port });
        if (listen.has(text)) continue;
        listen.add(text);
        write('listen', text, { file: listener.key.file, line: listener.key.line, via: server.via }, 'server block');
      }
    }
  }

  // The HTTP endpoints: absent, CoreDNS serves none.
  const once = <N extends PluginEntry['name']>(name: N): SettingsOf<N> | null => {
    const found = plan.servers.flatMap((s) => entries(s, name));
    // health, ready and prometheus serve one address for the process, as cluster-dns does.
    for (const other of found.slice(1)) {
      if (JSON.stringify(other.settings) !== JSON.stringify(found[0]!.settings)) {
        unsupported(
          other.at,
          name,
          `a different ${name} in a second server block (the first is at ${found[0]!.at.file}:${found[0]!.at.line}): cluster-dns has one for the process`,
        );
      }
    }
    return found[0] ?? null;
  };
  const where = { file: home.file, line: home.line, via: home.via };
  const health = once('health');
  if (health) {
    write('health', addressText(health.settings.address), health.at, 'health');
    write('lameduck', `${health.settings.lameduckMs}ms`, health.at, 'health');
  } else {
    imply('health', 'off', where, 'no health directive');
    imply('lameduck', '0', where, 'no health directive');
  }
  const ready = once('ready');
  if (ready) write('ready', addressText(ready.settings.address), ready.at, 'ready');
  else imply('ready', 'off', where, 'no ready directive');
  const prometheus = once('prometheus');
  if (prometheus) write('metrics', addressText(prometheus.settings.address), prometheus.at, 'prometheus');
  else imply('metrics', 'off', where, 'no prometheus directive');

  logOptions(plan, write);
  for (const entry of entries(home, 'autopath')) write('autopath', true, entry.at, 'autopath');
  for (const entry of entries(home, 'bufsize')) write('max-udp-size', String(entry.settings.size), entry.at, 'bufsize');
  for (const entry of entries(home, 'cache')) cacheOptions(entry.settings, entry.at, clusterZoneOf(k8s.settings), write, imply);
  sameInEveryBlock(plan, home, 'cache', 'cluster-dns has one cache for the process');
  sameInEveryBlock(plan, home, 'bufsize', 'cluster-dns has one EDNS size for the process');

  forwardOptions(plan, write);
  return { written, implied };
}

const inZone = (name: string, zone: string) => name === zone || name.endsWith(`.${zone}`);

/**
 * `log` in any block: one query log for the process, its names within the blocks that log (a
 * block's log sees only its own queries in CoreDNS). Blocks that log differently are refused.
 */
function logOptions(plan: Plan, write: Write): void {
  const logs = plan.servers.flatMap((server) => entries(server, 'log').map((entry) => ({ server, entry })));
  const first = logs[0];
  if (first === undefined) return;
  const zones: string[] = [];
  for (const { server, entry } of logs) {
    const { format, classes } = entry.settings;
    if (format !== first.entry.settings.format || classes.join() !== first.entry.settings.classes.join())
      unsupported(
        entry.at,
        'log',
        `a different format or class than the log at ${first.entry.at.file}:${first.entry.at.line}: cluster-dns has one query log for the process`,
      );
    const blockZones = server.listeners.map((l) => l.zone);
    for (const name of entry.settings.names) {
      // '.' in a block of other zones means that block's names.
      const within = name === '.' ? blockZones : [name];
      for (const z of within) if (!zones.includes(z)) zones.push(z);
    }
  }
  const at = first.entry.at;
  write('log-queries', true, at, 'log');
  write('log-queries-format', first.entry.settings.format, at, 'log');
  write('log-queries-class', first.entry.settings.classes.join(','), at, 'log');
  write('log-queries-zones', zones.includes('.') ? '.' : zones.join(','), at, 'log');
}

function clusterZoneOf(k: KubernetesSettings): string {
  return k.zones.find((z) => !z.endsWith('.arpa')) ?? 'cluster.local';
}

type Write = (flag: string, value: string | boolean, at: Site, directive: string) => void;

function kubernetesOptions(k: KubernetesSettings, at: Site, write: Write, imply: Write): void {
  const P = 'kubernetes';
  const on = (name: string) => k.at[name] ?? at;
  write('zone', clusterZoneOf(k), at, P);
  if (k.at.ttl) write('ttl', String(k.ttl), on('ttl'), P);
  else imply('ttl', '5', at, P);
  // CoreDNS's default is disabled; ours (for flags) is verified.
  if (k.at.pods) write('pods', k.pods, on('pods'), P);
  else imply('pods', 'disabled', at, P);
  if (k.kubeconfig) {
    if (k.kubeconfig.context !== null)
      unsupported(
        on('kubeconfig'),
        P,
        `kubeconfig CONTEXT is not supported (${k.kubeconfig.context}): the kubeconfig's current context is used`,
      );
    write('kubeconfig', k.kubeconfig.path, on('kubeconfig'), P);
  }
  if (k.endpoint !== null)
    unsupported(on('endpoint'), P, 'endpoint is not supported: give a kubeconfig, or run in the pod with its service account');
  if (k.tls !== null) unsupported(on('tls'), P, 'tls is not supported: give a kubeconfig with the client certificate');
  if (k.endpointPodNames) write('endpoint-pod-names', true, on('endpoint_pod_names'), P);
  if (k.noEndpoints) write('no-endpoints', true, on('noendpoints'), P);
  if (k.ignoreEmptyService) write('ignore-empty-service', true, on('ignore'), P);
  if (k.namespaces.length > 0) write('namespaces', k.namespaces.join(','), on('namespaces'), P);
  // The whole reverse trees pass on as they always do; the rest is the cluster zone's fallthrough.
  for (const z of k.fallthrough ?? []) if (z !== 'in-addr.arpa' && z !== 'ip6.arpa') write('fallthrough', z, on('fallthrough'), P);
}

function cacheOptions(c: CacheSettings, at: Site, clusterZone: string, write: Write, imply: Write): void {
  const P = 'cache';
  if (c.prefetch === null) imply('cache-prefetch', '0', at, 'cache without prefetch');
  else {
    // Hits are counted over an entry's life (at most cache's TTL cap), not in a sliding window.
    if (c.prefetch.durationMs !== 60_000)
      unsupported(at, P, "prefetch DURATION is not supported: hits are counted over the entry's life (give AMOUNT and PERCENTAGE%)");
    write('cache-prefetch', String(c.prefetch.amount), at, P);
    write('cache-prefetch-percent', String(c.prefetch.percentage), at, P);
  }
  // The cluster zone's answers are never in this cache (they are prepared from the index), so
  // kubeadm's `disable success|denial cluster.local` is what cluster-dns does anyway.
  const outside = [...c.disable.success, ...c.disable.denial].filter((z) => !inZone(z, clusterZone));
  if (outside.length > 0)
    unsupported(at, P, `disable for ${outside.join(', ')} is not supported (only the cluster zone, whose answers are never cached)`);
  if (c.keepTtl) unsupported(at, P, 'keepttl is not supported: served TTLs count down');
  if (c.success.minTtl !== 5 || c.denial.minTtl !== 5) unsupported(at, P, 'a MINTTL other than 5 is not supported');
  write('cache-size', String(c.success.capacity), at, P);
  write('cache-denial-size', String(c.denial.capacity), at, P);
  write('cache-success-ttl', String(c.success.maxTtl), at, P);
  write('cache-denial-ttl', String(c.denial.maxTtl), at, P);
  write('cache-servfail-ttl', String(c.servfailTtl), at, P);
  write('serve-stale', c.serveStale === null ? '0' : seconds(c.serveStale.durationMs), at, P);
}

/**
 * A directive another block gives other settings than the kubernetes block's: refused, not
 * ignored (one cache and one EDNS size serve every block; a block without one shares them).
 */
function sameInEveryBlock(plan: Plan, home: ServerPlan, name: 'cache' | 'bufsize', why: string): void {
  // A cache's ZONES default to its own block's: what must match is the rest.
  const shape = (settings: object) => JSON.stringify({ ...settings, zones: undefined });
  const first = entries(home, name)[0];
  for (const server of plan.servers) {
    if (server === home) continue;
    for (const entry of entries(server, name)) {
      if (first !== undefined && shape(entry.settings) === shape(first.settings)) continue;
      const than = first === undefined ? 'than the kubernetes block (which has none)' : `than at ${first.at.file}:${first.at.line}`;
      unsupported(entry.at, name, `other settings ${than}: ${why}`);
    }
  }
}

/** The health probe is `. IN NS` with RD set: other probes are refused, not ignored. */
function probeChecks(f: ForwardSettings, at: Site): void {
  if (!f.healthCheckRecursion) unsupported(at, 'forward', 'health_check no_rec is not supported: the probe asks with RD set');
  if (f.healthCheckDomain !== '.') unsupported(at, 'forward', 'health_check domain is not supported: the probe asks for . NS');
}

/** Options of `forward .` (the default upstreams) and the stub domains of other blocks. */
function forwardOptions(plan: Plan, write: Write): void {
  const P = 'forward';
  const root = plan.forwardZones.find((f) => f.zone === '.') ?? null;
  const targetText = (f: ForwardZone) =>
    f.forward.to.map((t) => {
      if (t.kind === 'resolv-conf') unsupported(f.at, P, `a resolv.conf (${t.path}) is only supported for "forward ."`);
      if (t.transport === 'tls') unsupported(f.at, P, 'tls:// upstreams (DNS over TLS) are not supported yet');
      return formatHostPort({ host: t.host, port: t.port });
    });
  if (root) {
    const to = root.forward.to;
    const resolvConf = to.find((t) => t.kind === 'resolv-conf');
    if (resolvConf && to.length > 1)
      unsupported(root.at, P, 'a resolv.conf and addresses together are not supported: give one or the other');
    if (resolvConf?.kind === 'resolv-conf') write('resolv-conf', resolvConf.path, root.at, P);
    else write('upstream', targetText(root).join(','), root.at, P);
    const f = root.forward;
    for (const domain of f.except) write('forward-except', domain.replace(/\.$/, ''), root.at, P);
    if (f.tls !== null || f.tlsServerName !== null) unsupported(root.at, P, 'tls and tls_servername are not supported yet');
    if (f.forceTcp) write('force-tcp', true, root.at, P);
    probeChecks(f, root.at);
    if (f.healthCheckMs !== 500) write('forward-health-check', `${f.healthCheckMs}ms`, root.at, P);
    if (f.expireMs !== 10_000) write('forward-expire', `${f.expireMs}ms`, root.at, P);
    write('max-fails', String(f.maxFails), root.at, P);
    // CoreDNS's default, 0, is no limit; ours always has one.
    if (f.maxConcurrent > 0) write('max-concurrent', String(f.maxConcurrent), root.at, P);
    write('upstream-policy', f.policy, root.at, P);
  }
  for (const stub of plan.stubDomains) {
    if (stub.forward.except.length > 0) unsupported(stub.at, P, 'except in a stub block is not supported');
    const f = stub.forward;
    if (f.tls !== null || f.tlsServerName !== null) unsupported(stub.at, P, 'tls and tls_servername are not supported yet');
    // Options of its own where they differ from `forward .`'s (CoreDNS's defaults without one).
    const base = root?.forward;
    const own: string[] = [];
    if (f.policy !== (base?.policy ?? 'random')) own.push(`policy=${f.policy}`);
    if (f.forceTcp !== (base?.forceTcp ?? false)) {
      if (!f.forceTcp) unsupported(stub.at, P, `a stub block without force_tcp when "forward ." has it is not supported`);
      own.push('force-tcp');
    }
    if (f.maxFails !== (base?.maxFails ?? 2)) own.push(`max-fails=${f.maxFails}`);
    if (f.healthCheckMs !== (base?.healthCheckMs ?? 500)) own.push(`health-check=${f.healthCheckMs}ms`);
    probeChecks(f, stub.at);
    // One transport and one admission budget serve every upstream.
    if (f.expireMs !== (base?.expireMs ?? 10_000))
      unsupported(stub.at, P, `an expire of its own in a stub block is not supported: "forward ."'s applies to every upstream`);
    if (f.maxConcurrent !== 0 && f.maxConcurrent !== (base?.maxConcurrent ?? 0))
      unsupported(stub.at, P, `a max_concurrent of its own in a stub block is not supported: one limit covers every upstream`);
    write('stub-domain', [`${stub.zone}=${targetText(stub).join(',')}`, ...own].join(';'), stub.at, P);
  }
}

/**
 * All assignments for a start: the flags, what the Corefile writes, and what it implies where no
 * flag says otherwise.
 */
export function withCorefile(flags: readonly Assignment[], fromCorefile: CorefileAssignments): Assignment[] {
  const flagged = new Set(flags.map((a) => a.flag));
  return [
    ...flags,
    ...fromCorefile.written,
    ...fromCorefile.implied.filter((a) => !flagged.has(a.flag) && !fromCorefile.written.some((w) => w.flag === a.flag)),
  ];
}
