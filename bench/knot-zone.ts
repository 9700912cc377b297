// The synthetic cluster as a zone file, for Knot DNS to serve the same names with the same
// answers as cluster-dns (built from the same objects through the same slim records), so the
// benchmark's ratio compares like with like.
import { ClusterIndex } from '../src/index/index.ts';
import { toRecord } from '../src/objects/kinds.ts';
import { dashedIP } from '../src/zone/names.ts';
import { ZONE, type Obj } from './synthetic.ts';

export function knotZone(objects: Iterable<Obj>, ttl = 5): string {
  const index = new ClusterIndex();
  for (const obj of objects) {
    const converted = toRecord(obj as Parameters<typeof toRecord>[0]);
    if (converted) index.upsert(converted.kind, converted.record);
  }
  const lines = [
    `$ORIGIN ${ZONE}.`,
    `$TTL ${ttl}`,
    `@ SOA ns.dns.${ZONE}. hostmaster.${ZONE}. 1 7200 1800 86400 ${ttl}`,
    `@ NS ns.dns.${ZONE}.`,
    `ns.dns A 10.96.0.10`,
    `dns-version 28800 TXT "1.1.0"`,
  ];
  for (const svc of index.all('Service')) {
    const owner = `${svc.name}.${svc.namespace}.svc`;
    const endpoints = index
      .slicesOf(svc.namespace, svc.name)
      .flatMap((slice) =>
        slice.endpoints
          .filter((e) => e.ready || svc.publishNotReadyAddresses)
          .map((e) => ({ ip: e.addresses[0]!, label: e.hostname || dashedIP(e.addresses[0]!) })),
      );
    const named = svc.ports.filter((p) => p.name !== '');
    if (svc.kind === 'ClusterIP') {
      for (const ip of svc.clusterIPs) lines.push(`${owner} A ${ip}`);
      for (const p of named) lines.push(`_${p.name}._${p.protocol}.${owner} SRV 0 100 ${p.port} ${owner}.${ZONE}.`);
    } else if (svc.kind === 'Headless') {
      for (const e of endpoints) lines.push(`${owner} A ${e.ip}`, `${e.label}.${owner} A ${e.ip}`);
      // A headless service's SRV records come from its EndpointSlices' ports (the ports the
      // endpoints listen on), one per ready endpoint and port, as the zone answers them.
      const srv = new Map<string, Set<string>>();
      for (const slice of index.slicesOf(svc.namespace, svc.name)) {
        for (const p of slice.ports) {
          if (p.name === '') continue;
          const label = `_${p.name}._${p.protocol}.${owner}`;
          const set = srv.get(label) ?? new Set<string>();
          srv.set(label, set);
          for (const e of slice.endpoints) {
            if (!e.ready && !svc.publishNotReadyAddresses) continue;
            for (const ip of e.addresses) set.add(`${p.port} ${e.hostname || dashedIP(ip)}.${owner}.${ZONE}.`);
          }
        }
      }
      for (const [label, targets] of srv) {
        const weight = Math.floor(100 / Math.max(1, targets.size));
        for (const t of targets) lines.push(`${label} SRV 0 ${weight} ${t}`);
      }
    }
  }
  for (const pod of index.all('Pod')) for (const ip of pod.ips) lines.push(`${dashedIP(ip)}.${pod.namespace}.pod A ${ip}`);
  return `${lines.join('\n')}\n`;
}
