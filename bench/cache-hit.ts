// What a cached upstream answer costs: a query for a name outside the cluster zone through the
// processor and the handler chain as app.ts builds it (cluster zone → forwarder), answered from the
// cache synchronously, TTLs patched. Beside it, for scale, a cluster name (the zone's prepared
// bytes) through the same chain. The cache is filled once from a scripted upstream on loopback;
// the measured loop never touches the network. Figures are printed, not asserted.
// Run: node_modules/.bin/node bench/cache-hit.ts [iterations]
import { DEFAULT_CONFIG, type ForwardConfig } from '../src/config.ts';
import { TYPE } from '../src/dns/constants.ts';
import { silentLogger } from '../src/base/log.ts';
import { QueryProcessor } from '../src/server/processor.ts';
import { ExternalNameChaser } from '../src/upstream/chase.ts';
import { Forwarder } from '../src/upstream/forward.ts';
import { KubernetesZone } from '../src/zone/kubernetes.ts';
import { indexOf, testCluster } from '../test/support/cluster.ts';
import { buildQuery, decode } from '../test/support/dns.ts';
import { a, cname, FakeUpstream } from '../test/support/upstream.ts';

const requested = Number(process.argv[2] ?? 1_000_000);
const iterations = Number.isFinite(requested) ? Math.min(Math.max(1000, Math.floor(requested)), 50_000_000) : 1_000_000;

const upstream = await FakeUpstream.start();
upstream.set('www.example.com', {
  kind: 'answer',
  records: [
    cname('www.example.com', 'web.example.net', 3600),
    a('web.example.net', '192.0.2.10', 3600),
    a('web.example.net', '192.0.2.11', 3600),
  ],
});
const config: ForwardConfig = {
  ...DEFAULT_CONFIG.forward,
  upstreams: [{ host: '127.0.0.1', port: upstream.port }],
  upstreamsFrom: '--upstream',
};
const forwarder = new Forwarder({ config, logger: silentLogger() });
const zone = new KubernetesZone({ index: indexOf(testCluster()), zone: 'cluster.local', ttl: 5, pods: 'verified' });
const processor = new QueryProcessor({ handlers: [new ExternalNameChaser(zone, forwarder), forwarder] });
const context = { protocol: 'udp', remoteAddress: '10.244.4.1', listener: 0 } as const;

const external = buildQuery('www.example.com', TYPE.A, { udpSize: 1232 });
const cluster = buildQuery('svc1.testns.svc.cluster.local', TYPE.A, { udpSize: 1232 });

// Fill the cache (the only upstream exchange) and check both answers once.
const primed = await processor.process(external, context);
if (!primed || decode(primed).answer.length !== 3) throw new Error('the upstream answer did not arrive');
for (const request of [external, cluster]) {
  const out = processor.process(request, context);
  if (!(out instanceof Buffer) || decode(out).rcode !== 'NOERROR') throw new Error('expected a synchronous NOERROR reply');
}

function nsPerQuery(request: Buffer, n: number): number {
  let bytes = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const out = processor.process(request, context);
    if (!(out instanceof Buffer)) throw new Error('a hit must be synchronous');
    bytes += out.length;
  }
  const ns = Number(process.hrtime.bigint() - start) / n;
  if (bytes === 0) throw new Error('no bytes');
  return ns;
}

const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? Number.NaN;
nsPerQuery(external, 100_000);
nsPerQuery(cluster, 100_000);
const hits: number[] = [];
const zoneHits: number[] = [];
for (let round = 0; round < 5; round++) {
  hits.push(nsPerQuery(external, iterations));
  zoneHits.push(nsPerQuery(cluster, iterations));
}
console.log(`node ${process.version}, ${iterations} queries per round, median of 5 rounds`);
console.log(`cache hit (www.example.com A, 3 records, TTLs patched): ${median(hits).toFixed(0)} ns/query`);
console.log(`cluster zone hit (svc1.testns.svc.cluster.local A):     ${median(zoneHits).toFixed(0)} ns/query`);
console.log(
  `cache: ${forwarder.cacheStats.hits.success} hits, ${forwarder.cacheStats.misses} misses; upstream asked ${upstream.asked('www.example.com').length} time(s)`,
);

forwarder.close();
await upstream.close();
