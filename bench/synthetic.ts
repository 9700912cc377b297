// A deterministic synthetic cluster and a pod-like query mix, the same shape as the team's
// Knot baseline data (100 namespaces × 100 services, 10 SRV services per namespace, pods in
// 10.244.0.0/14), so figures can be compared with Knot serving the same names.
//   node_modules/.bin/node bench/synthetic.ts cluster OUT.json [pods]     → one v1 List of objects
//   node_modules/.bin/node bench/synthetic.ts queries OUT.txt [count] [externalShare]  → dnsperf query file
// Addresses are data only; nothing here is ever contacted.
import { writeFileSync } from 'node:fs';

export const ZONE = 'cluster.local';
export const NAMESPACES = 100;
export const SERVICES_PER_NAMESPACE = 100;
export const SRV_SERVICES_PER_NAMESPACE = 10;
/** Every 10th service (n % 10 === 9) is headless with three ready endpoints. */
const isHeadless = (n: number) => n % 10 === 9;

export interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [field: string]: unknown };
  [field: string]: unknown;
}

export function* clusterObjects(pods = 150_000): Generator<Obj> {
  for (let m = 0; m < NAMESPACES; m++) yield { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns-${m}` } };
  for (let m = 0; m < NAMESPACES; m++) {
    for (let n = 0; n < SERVICES_PER_NAMESPACE; n++) {
      const i = m * SERVICES_PER_NAMESPACE + n;
      const namespace = `ns-${m}`;
      const name = `svc-${n}`;
      const clusterIP = `10.100.${(i >> 8) & 255}.${i & 255}`;
      const named = n < SRV_SERVICES_PER_NAMESPACE;
      const ports = named ? [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }] : [{ protocol: 'TCP', port: 8080 }];
      yield {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace },
        spec: isHeadless(n)
          ? { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'], ports }
          : { type: 'ClusterIP', clusterIP, clusterIPs: [clusterIP], ipFamilies: ['IPv4'], ports },
      };
      const endpoints = Array.from({ length: isHeadless(n) ? 3 : 1 }, (_, k) => ({
        addresses: [`10.200.${(i >> 6) & 255}.${((i & 63) << 2) | k}`],
        conditions: { ready: true },
      }));
      yield {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: `${name}-abcde`, namespace, labels: { 'kubernetes.io/service-name': name } },
        addressType: 'IPv4',
        endpoints,
        ports: [named ? { name: 'http', protocol: 'TCP', port: 8080 } : { protocol: 'TCP', port: 8080 }],
      };
    }
  }
  for (let k = 0; k < pods; k++) {
    const ip = `10.${244 + (k >> 16)}.${(k >> 8) & 255}.${k & 255}`;
    yield {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `pod-${k}`, namespace: `ns-${k % NAMESPACES}` },
      spec: { containers: [{ name: 'c', image: 'example' }] },
      status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True' }] },
    };
  }
}

/**
 * A synthetic pod dressed as the apiserver returns a Deployment's pod: labels, annotations, owner,
 * managedFields, a container with probes and resources, the service-account volume, tolerations,
 * five conditions and a container status. ~5.5 KB of JSON instead of ~275 bytes; the fields DNS
 * reads (name, namespace, IPs, phase, readiness) are the synthetic pod's own.
 */
export function dressPod(pod: Obj): Obj {
  const k = Number(pod.metadata.name.slice(pod.metadata.name.lastIndexOf('-') + 1)) || 0;
  const status = pod.status as { podIP: string };
  const app = `app-${k % 100}`;
  const hash = hex(k >> 4, 10);
  const owner = uid(k >> 4);
  const at = '2026-11-20T10:11:12Z';
  const node = k % 500;
  const hostIP = `10.0.${node >> 8}.${node & 255}`;
  const token = `kube-api-access-${hex(k, 5)}`;
  const image = `registry.example.com/team/${app}:1.4.2`;
  const fieldsOf = (names: string[]) => Object.fromEntries(names.map((n) => [`f:${n}`, {}]));
  const condition = (type: string) => [
    `k:{"type":"${type}"}`,
    { '.': {}, ...fieldsOf(['lastProbeTime', 'lastTransitionTime', 'status', 'type']) },
  ];
  const conditions = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'];
  return {
    ...pod,
    metadata: {
      ...pod.metadata,
      generateName: `${app}-${hash}-`,
      uid: uid(k),
      creationTimestamp: at,
      labels: {
        app,
        'pod-template-hash': hash,
        'app.kubernetes.io/name': app,
        'app.kubernetes.io/instance': `${app}-prod`,
        'app.kubernetes.io/version': '1.4.2',
      },
      annotations: { 'kubectl.kubernetes.io/restartedAt': at, 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090' },
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${app}-${hash}`, uid: owner, controller: true, blockOwnerDeletion: true },
      ],
      managedFields: [
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          apiVersion: 'v1',
          time: at,
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': {
              ...fieldsOf(['generateName']),
              'f:labels': {
                '.': {},
                ...fieldsOf([
                  'app',
                  'app.kubernetes.io/instance',
                  'app.kubernetes.io/name',
                  'app.kubernetes.io/version',
                  'pod-template-hash',
                ]),
              },
              'f:annotations': {
                '.': {},
                ...fieldsOf(['kubectl.kubernetes.io/restartedAt', 'prometheus.io/port', 'prometheus.io/scrape']),
              },
              'f:ownerReferences': { '.': {}, [`k:{"uid":"${owner}"}`]: {} },
            },
            'f:spec': {
              'f:containers': {
                'k:{"name":"app"}': {
                  '.': {},
                  'f:env': {
                    '.': {},
                    'k:{"name":"LOG_LEVEL"}': { '.': {}, ...fieldsOf(['name', 'value']) },
                    'k:{"name":"PORT"}': { '.': {}, ...fieldsOf(['name', 'value']) },
                  },
                  'f:livenessProbe': { '.': {}, 'f:httpGet': { '.': {}, ...fieldsOf(['path', 'port', 'scheme']) } },
                  'f:ports': {
                    '.': {},
                    'k:{"containerPort":8080,"protocol":"TCP"}': { '.': {}, ...fieldsOf(['containerPort', 'name', 'protocol']) },
                  },
                  'f:resources': {
                    '.': {},
                    'f:limits': { '.': {}, ...fieldsOf(['cpu', 'memory']) },
                    'f:requests': { '.': {}, ...fieldsOf(['cpu', 'memory']) },
                  },
                  ...fieldsOf(['image', 'imagePullPolicy', 'name', 'terminationMessagePath', 'terminationMessagePolicy']),
                },
              },
              ...fieldsOf([
                'dnsPolicy',
                'enableServiceLinks',
                'restartPolicy',
                'schedulerName',
                'securityContext',
                'terminationGracePeriodSeconds',
              ]),
            },
          },
        },
        {
          manager: 'kubelet',
          operation: 'Update',
          apiVersion: 'v1',
          time: at,
          fieldsType: 'FieldsV1',
          subresource: 'status',
          fieldsV1: {
            'f:status': {
              'f:conditions': Object.fromEntries(conditions.slice(0, 4).map(condition)),
              'f:podIPs': { '.': {}, [`k:{"ip":"${status.podIP}"}`]: { '.': {}, 'f:ip': {} } },
              ...fieldsOf(['containerStatuses', 'hostIP', 'hostIPs', 'phase', 'podIP', 'startTime']),
            },
          },
        },
      ],
    },
    spec: {
      volumes: [
        {
          name: token,
          projected: {
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
            ],
            defaultMode: 420,
          },
        },
      ],
      containers: [
        {
          name: 'app',
          image,
          ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
          env: [
            { name: 'PORT', value: '8080' },
            { name: 'LOG_LEVEL', value: 'info' },
          ],
          resources: { limits: { cpu: '500m', memory: '512Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
          volumeMounts: [{ name: token, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
          livenessProbe: {
            httpGet: { path: '/healthz', port: 8080, scheme: 'HTTP' },
            timeoutSeconds: 1,
            periodSeconds: 10,
            successThreshold: 1,
            failureThreshold: 3,
          },
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          imagePullPolicy: 'IfNotPresent',
        },
      ],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      serviceAccount: 'default',
      nodeName: `node-${node}`,
      securityContext: {},
      schedulerName: 'default-scheduler',
      tolerations: ['not-ready', 'unreachable'].map((t) => ({
        key: `node.kubernetes.io/${t}`,
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      })),
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
    },
    status: {
      ...status,
      conditions: conditions.map((type) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: at })),
      hostIP,
      hostIPs: [{ ip: hostIP }],
      startTime: at,
      containerStatuses: [
        {
          name: 'app',
          state: { running: { startedAt: at } },
          lastState: {},
          ready: true,
          restartCount: 0,
          image,
          imageID: `registry.example.com/team/${app}@sha256:${hex(k % 100, 64)}`,
          containerID: `containerd://${hex(k, 64)}`,
          started: true,
        },
      ],
      qosClass: 'Burstable',
    },
  };
}

/** Deterministic hex digits for uids and digests. */
function hex(seed: number, length: number): string {
  const next = rng(seed + 1);
  let out = '';
  while (out.length < length)
    out += Math.floor(next() * 0x100000000)
      .toString(16)
      .padStart(8, '0');
  return out.slice(0, length);
}

function uid(seed: number): string {
  const h = hex(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** mulberry32: small, fast and seedable, so query files are reproducible. */
export function rng(seed = 42): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const EXTERNAL_NAMES = ['example.com', 'api.github.com', 'registry.npmjs.org', 'storage.googleapis.com'];

/**
 * The pod-like mix: 70 % service A, 10 % SRV, 10 % search-path expansions (NXDOMAIN), 10 % AAAA
 * (NODATA); with `externalShare` > 0 that share of queries asks external names instead.
 */
export function queryLines(count = 100_000, externalShare = 0, seed = 42): string[] {
  const rand = rng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const clusterIPService = () => {
    let n = int(SERVICES_PER_NAMESPACE);
    if (isHeadless(n)) n--;
    return `svc-${n}.ns-${int(NAMESPACES)}.svc.${ZONE}`;
  };
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    if (externalShare > 0 && rand() < externalShare) {
      lines.push(`${EXTERNAL_NAMES[int(EXTERNAL_NAMES.length)]} ${rand() < 0.5 ? 'A' : 'AAAA'}`);
      continue;
    }
    const r = rand();
    if (r < 0.7) lines.push(`${clusterIPService()} A`);
    else if (r < 0.8) lines.push(`_http._tcp.svc-${int(SRV_SERVICES_PER_NAMESPACE - 1)}.ns-${int(NAMESPACES)}.svc.${ZONE} SRV`);
    else if (r < 0.9) {
      const suffix = [`ns-${int(NAMESPACES)}.svc.${ZONE}`, `svc.${ZONE}`, ZONE][int(3)];
      lines.push(`${clusterIPService()}.${suffix} A`);
    } else lines.push(`${clusterIPService()} AAAA`);
  }
  return lines;
}

if (import.meta.main) {
  const [what, out, arg1, arg2] = process.argv.slice(2);
  if (what === 'cluster' && out) {
    writeFileSync(out, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [...clusterObjects(Number(arg1 ?? 150_000))] }));
  } else if (what === 'queries' && out) {
    writeFileSync(out, `${queryLines(Number(arg1 ?? 100_000), Number(arg2 ?? 0)).join('\n')}\n`);
  } else {
    process.stderr.write(
      'usage: node_modules/.bin/node bench/synthetic.ts cluster OUT.json [pods] | queries OUT.txt [count] [externalShare]\n',
    );
    process.exit(2);
  }
}
