// A deterministic synthetic cluster and a pod-like query mix, the same shape as the team's
// Knot baseline data (100 namespaces × 100 services, 10 SRV services per namespace, pods in
// 10.244.0.0/14), so figures can be compared with Knot serving the same names.
//   node bench/synthetic.ts cluster OUT.json [pods]     → one v1 List of objects
//   node bench/synthetic.ts queries OUT.txt [count] [externalShare]  → dnsperf query file
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
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
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
    process.stderr.write('usage: node bench/synthetic.ts cluster OUT.json [pods] | queries OUT.txt [count] [externalShare]\n');
    process.exit(2);
  }
}
