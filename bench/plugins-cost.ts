// What the Corefile plugins cost on the query path, in the processor alone (no sockets): the
// cluster zone answering from prepared bytes, then the same with loadbalance, and with a hosts,
// rewrite or template handler in front of it, as CoreDNS's plugin order puts them (hosts with
// k3s's NodeHosts and fallthrough; rewrite with AKS's documented rule, which cluster names do not
// match, and with an alias that matches; AKS's default templates). Prints CPU ns per query, the
// median of 7 interleaved rounds. Run: node_modules/.bin/node bench/plugins-cost.ts [iterations]
import { TYPE } from '../src/dns/constants.ts';
import type { RequestContext } from '../src/dns/message.ts';
import { QueryProcessor, type QueryProcessorOptions } from '../src/server/processor.ts';
import { KubernetesZone } from '../src/zone/kubernetes.ts';
import { Chain } from '../src/plugins/chain.ts';
import { HostsHandler } from '../src/plugins/hosts.ts';
import { RecordShuffle } from '../src/plugins/loadbalance.ts';
import { parseRewriteArgs, RewriteHandler } from '../src/plugins/rewrite.ts';
import { TemplateHandler } from '../src/plugins/template.ts';
import { buildQuery } from '../test/support/dns.ts';
import { endpointSlice, indexOf, service, testCluster } from '../test/support/cluster.ts';

const requested = Number(process.argv[2] ?? 500_000);
const iterations = Number.isFinite(requested) ? Math.min(Math.max(1000, Math.floor(requested)), 20_000_000) : 500_000;
const context: RequestContext = { protocol: 'udp', remoteAddress: '10.0.0.7' };

const objects = [
  ...testCluster(),
  service('testns', 'ten', { headless: true, ports: [{ name: 'http', port: 80 }] }),
  endpointSlice(
    'testns',
    'ten',
    'ten-1',
    'IPv4',
    Array.from({ length: 10 }, (_, i) => ({ ip: `10.244.8.${i + 1}` })),
    [{ name: 'http', port: 80 }],
  ),
];
const zone = new KubernetesZone({ index: indexOf(objects), zone: 'cluster.local', ttl: 5, pods: 'verified' });

const hosts = new HostsHandler({ file: null, inline: ['172.18.0.2 k3s-server', '172.18.0.3 k3s-agent-1'], fallthrough: [] });
const templates = new TemplateHandler([
  {
    class: 255,
    type: TYPE.ANY,
    zones: ['internal.cloudapp.net'],
    match: ['^(?:[^.]+\\.){4,}internal\\.cloudapp\\.net\\.$'],
    rcode: 3,
    fallthrough: [],
  },
  { class: 255, type: TYPE.ANY, zones: ['reddog.microsoft.com'], rcode: 3 },
]);
const aksRewrite = new RewriteHandler(
  {
    rules: [
      parseRewriteArgs(
        'stop name regex (.*)\\.example\\.com {1}.default.svc.cluster.local answer name (.*)\\.default\\.svc\\.cluster\\.local {1}.example.com'.split(
          ' ',
        ),
      ),
    ],
  },
  new Chain([zone]),
);
const alias = new RewriteHandler(
  { rules: [parseRewriteArgs(['name', 'kubernetes.example.com', 'kubernetes.default.svc.cluster.local'])] },
  new Chain([zone]),
);

const configs: [string, QueryProcessorOptions][] = [
  ['zone', { handlers: [zone] }],
  ['zone + loadbalance', { handlers: [zone], recordOrder: new RecordShuffle() }],
  ['hosts (miss, fallthrough) + zone', { handlers: [hosts, zone] }],
  ['template (AKS, other zone) + zone', { handlers: [templates, zone] }],
  ['rewrite (AKS rule, no match) + zone', { handlers: [aksRewrite] }],
  ['rewrite (exact alias, matched) + zone', { handlers: [alias] }],
];

const names: [string, Buffer][] = [
  ['ClusterIP A', buildQuery('kubernetes.default.svc.cluster.local', TYPE.A, { udpSize: 1232 })],
  ['headless, 10 A', buildQuery('ten.testns.svc.cluster.local', TYPE.A, { udpSize: 1232 })],
  ['alias A', buildQuery('kubernetes.example.com', TYPE.A, { udpSize: 1232 })],
];

/** CPU time, not wall time: on a machine shared with other work, time spent descheduled is not ours. */
function nsPerQuery(p: QueryProcessor, request: Buffer): number {
  const start = process.cpuUsage();
  for (let i = 0; i < iterations; i++) {
    const out = p.process(request, context);
    if (out === null || out instanceof Promise) throw new Error('expected a synchronous reply');
  }
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / iterations;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

// Rounds interleave the configurations, so a busy moment on a shared machine hits them alike.
const cells: { label: string; what: string; p: QueryProcessor; request: Buffer; ns: number[] }[] = [];
for (const [label, options] of configs) {
  const p = new QueryProcessor(options);
  for (const [what, request] of names) {
    if ((what === 'alias A') !== label.includes('alias')) continue;
    nsPerQuery(p, request); // warm up
    cells.push({ label, what, p, request, ns: [] });
  }
}
const ROUNDS = 7;
for (let round = 0; round < ROUNDS; round++) for (const cell of cells) cell.ns.push(nsPerQuery(cell.p, cell.request));
console.log(`CPU ns per query, median of ${ROUNDS} interleaved rounds of ${iterations} (processor only)`);
for (const [label] of configs) {
  const row = cells.filter((c) => c.label === label).map((c) => `${c.what}: ${median(c.ns).toFixed(0)}`);
  console.log(`${label.padEnd(40)} ${row.join('   ')}`);
}
