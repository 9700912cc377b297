// Kubernetes objects for tests, written the way the API server returns them. Addresses are data
// only: nothing here is ever contacted.
import { ClusterIndex } from '../../src/index/index.ts';
import { toRecord } from '../../src/objects/kinds.ts';

type Obj = Record<string, unknown> & {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
};

export function namespace(name: string): Obj {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

export function service(
  ns: string,
  name: string,
  spec: {
    clusterIPs?: string[];
    headless?: boolean;
    externalName?: string;
    ports?: { name?: string; protocol?: string; port: number }[];
    publishNotReadyAddresses?: boolean;
  },
): Obj {
  const clusterIPs = spec.headless ? ['None'] : (spec.clusterIPs ?? []);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns },
    spec: spec.externalName
      ? { type: 'ExternalName', externalName: spec.externalName }
      : {
          type: 'ClusterIP',
          clusterIP: clusterIPs[0],
          clusterIPs,
          ports: spec.ports ?? [],
          publishNotReadyAddresses: spec.publishNotReadyAddresses ?? false,
        },
  };
}

export function endpointSlice(
  ns: string,
  serviceName: string,
  name: string,
  addressType: 'IPv4' | 'IPv6',
  endpoints: { ip: string; hostname?: string; ready?: boolean | null }[],
  ports: { name?: string; protocol?: string; port: number }[],
): Obj {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': serviceName } },
    addressType,
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      ...(e.hostname ? { hostname: e.hostname } : {}),
      conditions: e.ready === null ? {} : { ready: e.ready ?? true },
    })),
    ports: ports.map((p) => ({ protocol: 'TCP', ...p })),
  };
}

export function pod(
  ns: string,
  name: string,
  ips: string[],
  extra: { hostname?: string; subdomain?: string; ready?: boolean; phase?: string } = {},
): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: { hostname: extra.hostname, subdomain: extra.subdomain, containers: [{ name: 'c', image: 'example' }] },
    status: {
      phase: extra.phase ?? 'Running',
      podIP: ips[0],
      podIPs: ips.map((ip) => ({ ip })),
      conditions: [{ type: 'Ready', status: extra.ready === false ? 'False' : 'True' }],
    },
  };
}

/** The cluster most zone tests answer from. */
export function testCluster(): Obj[] {
  return [
    namespace('default'),
    namespace('testns'),
    namespace('kube-system'),
    namespace('emptyns'),
    service('default', 'kubernetes', { clusterIPs: ['10.96.0.1'], ports: [{ name: 'https', port: 443 }] }),
    service('kube-system', 'kube-dns', {
      clusterIPs: ['10.96.0.10'],
      ports: [
        { name: 'dns', protocol: 'UDP', port: 53 },
        { name: 'dns-tcp', protocol: 'TCP', port: 53 },
      ],
    }),
    service('testns', 'svc1', { clusterIPs: ['10.96.1.1'], ports: [{ name: 'http', port: 80 }, { port: 8080 }] }),
    endpointSlice(
      'testns',
      'svc1',
      'svc1-abc',
      'IPv4',
      [{ ip: '10.244.0.1', hostname: 'ep1a' }, { ip: '10.244.0.2' }, { ip: '10.244.0.3', ready: false }],
      [{ name: 'http', port: 8080 }],
    ),
    service('testns', 'dual', {
      clusterIPs: ['10.96.1.2', 'fd00:10:96::2'],
      ports: [{ name: 'https', port: 443 }],
    }),
    service('testns', 'hdls', { headless: true, ports: [{ name: 'http', port: 80 }] }),
    endpointSlice(
      'testns',
      'hdls',
      'hdls-v4',
      'IPv4',
      [
        { ip: '10.244.1.10', hostname: 'pet-0' },
        { ip: '10.244.1.11', ready: null },
        { ip: '10.244.1.12', ready: false },
      ],
      [
        { name: 'http', port: 8080 },
        { name: 'metrics', protocol: 'UDP', port: 9000 },
      ],
    ),
    endpointSlice('testns', 'hdls', 'hdls-v6', 'IPv6', [{ ip: 'fd00:244::10', hostname: 'pet-0' }], [{ name: 'http', port: 8080 }]),
    service('testns', 'hdls-empty', { headless: true, ports: [{ name: 'http', port: 80 }] }),
    endpointSlice('testns', 'hdls-empty', 'hdls-empty-1', 'IPv4', [{ ip: '10.244.2.1', ready: false }], [{ name: 'http', port: 80 }]),
    service('testns', 'hdls-pna', { headless: true, publishNotReadyAddresses: true }),
    endpointSlice('testns', 'hdls-pna', 'hdls-pna-1', 'IPv4', [{ ip: '10.244.3.1', ready: false }], [{ name: 'peer', port: 2380 }]),
    service('testns', 'ext', { externalName: 'www.example.com' }),
    service('testns', 'ext-in', { externalName: 'svc1.testns.svc.cluster.local' }),
    pod('testns', 'web-0', ['10.244.1.10']),
    pod('testns', 'busybox1', ['10.244.4.1'], { hostname: 'busybox-1', subdomain: 'hdls' }),
    pod('testns', 'busybox2', ['10.244.4.2'], { hostname: 'busybox-2', subdomain: 'hdls', ready: false }),
    pod('default', 'dualpod', ['10.244.5.5', 'fd00:244::5']),
  ];
}

export function indexOf(objects: Obj[], now?: () => number): ClusterIndex {
  const index = new ClusterIndex(now ? { now } : {});
  for (const obj of objects) {
    const converted = toRecord(obj);
    if (converted) index.upsert(converted.kind, converted.record);
  }
  for (const kind of ['Namespace', 'Service', 'EndpointSlice', 'Pod'] as const) index.markSynced(kind);
  return index;
}

/** One namespace and one ClusterIP Service, as a --manifests file: web.shop → 10.96.0.20. */
export const SHOP_WEB = `
kind: Namespace
metadata: {name: shop}
---
kind: Service
metadata: {name: web, namespace: shop}
spec: {clusterIP: 10.96.0.20, clusterIPs: [10.96.0.20]}
`;
