// Each directive's arguments and block read into settings with CoreDNS's defaults, and each bad
// input refused with one `FILE:LINE: why` line. Rows are written inside `.:53 { … }` unless the
// row gives a whole Corefile, so the first directive line is line 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CorefileError } from '../../../src/corefile/index.ts';
import type { PluginName } from '../../../src/corefile/directives/index.ts';
import { FILE, inBlock, planOf, settingsOf } from './support.ts';

interface Good {
  readonly why: string;
  readonly name: PluginName;
  /** Lines inside `.:53 { … }`, or a whole Corefile when it starts with a `ZONE:PORT {` key. */
  readonly input: string;
  readonly settings: object;
}

const text = (input: string) => (/^\S+:\d+\s*\{/.test(input) ? input : inBlock(input));

const good: readonly Good[] = [
  // kubernetes
  {
    why: 'CoreDNS defaults, not the flags: pods disabled, ttl 5, 5 s start-up wait',
    name: 'kubernetes',
    input: 'kubernetes cluster.local',
    settings: {
      zones: ['cluster.local'],
      primaryZone: 'cluster.local',
      pods: 'disabled',
      ttl: 5,
      startupTimeoutMs: 5000,
      fallthrough: null,
      endpoint: null,
      kubeconfig: null,
    },
  },
  {
    why: 'the kubeadm block: reverse zones passed on, as cluster-dns does today',
    name: 'kubernetes',
    input: 'kubernetes cluster.local in-addr.arpa ip6.arpa {\n pods insecure\n fallthrough in-addr.arpa ip6.arpa\n ttl 30\n}',
    settings: {
      zones: ['cluster.local', 'in-addr.arpa', 'ip6.arpa'],
      reverseZones: ['in-addr.arpa', 'ip6.arpa'],
      pods: 'insecure',
      ttl: 30,
      fallthrough: ['in-addr.arpa', 'ip6.arpa'],
    },
  },
  {
    why: "no ZONES: the server block's",
    name: 'kubernetes',
    input: 'cluster.local:53 {\n kubernetes\n}\n',
    settings: { zones: ['cluster.local'] },
  },
  {
    why: 'a duplicated zone (RKE2) and a trailing dot read once',
    name: 'kubernetes',
    input: 'kubernetes  cluster.local  cluster.local. in-addr.arpa {\n fallthrough in-addr.arpa\n}',
    settings: { zones: ['cluster.local', 'in-addr.arpa'] },
  },
  {
    why: 'pods verified, ttl 0, kubeconfig with a context, endpoint, tls files, startup_timeout',
    name: 'kubernetes',
    input:
      'kubernetes cluster.local {\n pods verified\n ttl 0\n kubeconfig /k/config prod\n endpoint https://10.0.0.1:6443\n tls c.pem k.pem ca.pem\n startup_timeout 1m\n}',
    settings: {
      pods: 'verified',
      ttl: 0,
      kubeconfig: { path: '/k/config', context: 'prod' },
      endpoint: 'https://10.0.0.1:6443',
      tls: { cert: 'c.pem', key: 'k.pem', ca: 'ca.pem' },
      startupTimeoutMs: 60_000,
    },
  },
  // forward
  {
    why: 'one address: port 53, CoreDNS defaults (expire 10s, max_fails 2, random, 0.5s checks, no limit)',
    name: 'forward',
    input: 'forward . 10.0.0.1',
    settings: {
      from: '.',
      to: [{ kind: 'address', transport: 'dns', host: '10.0.0.1', port: 53 }],
      expireMs: 10_000,
      maxFails: 2,
      policy: 'random',
      healthCheckMs: 500,
      healthCheckRecursion: true,
      healthCheckDomain: '.',
      maxConcurrent: 0,
      forceTcp: false,
      preferUdp: false,
      tls: null,
      tlsServerName: null,
      except: [],
    },
  },
  {
    why: 'a file is a resolv.conf (checked to exist, read by the caller)',
    name: 'forward',
    input: 'forward . /etc/resolv.conf',
    settings: { to: [{ kind: 'resolv-conf', path: '/etc/resolv.conf' }] },
  },
  {
    why: 'a relative file resolves against the working directory, as in CoreDNS',
    name: 'forward',
    input: 'forward . resolv.conf',
    settings: { to: [{ kind: 'resolv-conf', path: '/work/resolv.conf' }] },
  },
  {
    why: 'ports, IPv6 in brackets, dns:// and tls:// (853 by default) with tls_servername',
    name: 'forward',
    input:
      'forward example.org 10.0.0.1:5353 [fd00::1]:5353 fd00::2 dns://10.0.0.3 tls://10.0.0.4 tls://[fd00::5]:8853 {\n tls_servername dns.example.org\n}',
    settings: {
      from: 'example.org',
      tlsServerName: 'dns.example.org',
      to: [
        { kind: 'address', transport: 'dns', host: '10.0.0.1', port: 5353 },
        { kind: 'address', transport: 'dns', host: 'fd00::1', port: 5353 },
        { kind: 'address', transport: 'dns', host: 'fd00::2', port: 53 },
        { kind: 'address', transport: 'dns', host: '10.0.0.3', port: 53 },
        { kind: 'address', transport: 'tls', host: '10.0.0.4', port: 853 },
        { kind: 'address', transport: 'tls', host: 'fd00::5', port: 8853 },
      ],
    },
  },
  {
    why: 'every property',
    name: 'forward',
    input:
      'forward . 10.0.0.1 {\n except corp.example Lab.Example.\n force_tcp\n prefer_udp\n expire 1m30s\n max_fails 0\n policy sequential\n health_check 2s no_rec domain example.org\n max_concurrent 1000\n tls ca.pem\n}',
    settings: {
      except: ['corp.example', 'lab.example'],
      forceTcp: true,
      preferUdp: true,
      expireMs: 90_000,
      maxFails: 0,
      policy: 'sequential',
      healthCheckMs: 2000,
      healthCheckRecursion: false,
      healthCheckDomain: 'example.org',
      maxConcurrent: 1000,
      tls: { cert: null, key: null, ca: 'ca.pem' },
    },
  },
  {
    why: 'tls CERT KEY',
    name: 'forward',
    input: 'forward . tls://10.0.0.1 {\n tls c.pem k.pem\n}',
    settings: { tls: { cert: 'c.pem', key: 'k.pem', ca: null } },
  },
  // cache
  {
    why: 'CoreDNS defaults: 9984 entries, 3600 s answers, 1800 s denials, 5 s minimum, servfail 5 s',
    name: 'cache',
    input: 'cache',
    settings: {
      zones: ['.'],
      success: { capacity: 9984, maxTtl: 3600, minTtl: 5 },
      denial: { capacity: 9984, maxTtl: 1800, minTtl: 5 },
      prefetch: null,
      serveStale: null,
      servfailTtl: 5,
      keepTtl: false,
      disable: { success: [], denial: [] },
    },
  },
  {
    why: '`cache 30` caps both kinds at 30 s (CoreDNS), zones after it',
    name: 'cache',
    input: 'cache 30 example.org',
    settings: { zones: ['example.org'], success: { maxTtl: 30 }, denial: { maxTtl: 30 } },
  },
  {
    why: 'kubeadm: disable success and denial for the cluster zone',
    name: 'cache',
    input: 'cache 30 {\n disable success cluster.local\n disable denial cluster.local\n}',
    settings: { disable: { success: ['cluster.local'], denial: ['cluster.local'] } },
  },
  {
    why: "disable without zones: the cache's zones",
    name: 'cache',
    input: 'cache {\n disable denial\n}',
    settings: { disable: { success: [], denial: ['.'] } },
  },
  {
    why: 'NodeLocal DNSCache: success/denial CAPACITY TTL, and MINTTL',
    name: 'cache',
    input: 'cache {\n success 9984 30\n denial 9984 5 1\n}',
    settings: { success: { capacity: 9984, maxTtl: 30, minTtl: 5 }, denial: { capacity: 9984, maxTtl: 5, minTtl: 1 } },
  },
  {
    why: 'prefetch defaults (1m, 10%), serve_stale defaults (1h, immediate), servfail 0, keepttl',
    name: 'cache',
    input: 'cache {\n prefetch 10\n serve_stale\n servfail 0\n keepttl\n}',
    settings: {
      prefetch: { amount: 10, durationMs: 60_000, percentage: 10 },
      serveStale: { durationMs: 3_600_000, mode: 'immediate' },
      servfailTtl: 0,
      keepTtl: true,
    },
  },
  {
    why: 'prefetch and serve_stale with every argument',
    name: 'cache',
    input: 'cache {\n prefetch 2 10m 20%\n serve_stale 30m verify\n}',
    settings: { prefetch: { amount: 2, durationMs: 600_000, percentage: 20 }, serveStale: { durationMs: 1_800_000, mode: 'verify' } },
  },
  // hosts
  {
    why: "CoreDNS defaults: /etc/hosts, ttl 3600, reload 5s, PTRs, no fallthrough, the block's zones",
    name: 'hosts',
    input: 'hosts',
    settings: { file: '/etc/hosts', zones: [''], inline: [], ttl: 3600, reloadMs: 5000, reverse: true, fallthrough: null },
  },
  {
    why: 'k3s NodeHosts: ttl, reload, fallthrough (all zones)',
    name: 'hosts',
    input: 'hosts /etc/coredns/NodeHosts {\n ttl 60\n reload 15s\n fallthrough\n}',
    settings: { file: '/etc/coredns/NodeHosts', ttl: 60, reloadMs: 15_000, fallthrough: [] },
  },
  {
    why: 'inline entries, no_reverse, a file with zones, fallthrough zones',
    name: 'hosts',
    input: 'hosts /h example.org {\n 10.0.0.1 a.example.org a\n no_reverse\n reload 0\n fallthrough example.org\n}',
    settings: { zones: ['example.org'], inline: ['10.0.0.1 a.example.org a'], reverse: false, reloadMs: 0, fallthrough: ['example.org'] },
  },
  // rewrite
  {
    why: 'a name rule on the line (exact by default, stop by default)',
    name: 'rewrite',
    input: 'rewrite name foo.example bar.example',
    settings: { mode: 'stop', field: 'name', match: 'exact', from: 'foo.example.', to: 'bar.example.' },
  },
  {
    why: 'the AKS form: the rule and its answer rule in a block',
    name: 'rewrite',
    input:
      'rewrite stop {\n name regex (.*)\\.corp\\.example {1}.default.svc.cluster.local\n answer name (.*)\\.default\\.svc\\.cluster\\.local {1}.corp.example\n}',
    settings: {
      mode: 'stop',
      field: 'name',
      match: 'regex',
      answers: [{ kind: 'name', from: '(.*)\\.default\\.svc\\.cluster\\.local', to: '{1}.corp.example.' }],
    },
  },
  {
    why: 'continue, and a type rule',
    name: 'rewrite',
    input: 'rewrite continue type ANY HINFO',
    settings: { mode: 'continue', field: 'type', from: 255, to: 13 },
  },
  // template
  {
    why: "blocking AAAA: NOERROR, no answer, the block's zones",
    name: 'template',
    input: 'template IN AAAA {\n rcode NOERROR\n}',
    settings: { class: 1, type: 28, zones: [''], match: ['.*'], answer: [], rcode: 0, fallthrough: null },
  },
  {
    why: 'the AKS form: zones, a match, NXDOMAIN, fallthrough',
    name: 'template',
    input:
      'template ANY ANY internal.cloudapp.net {\n match "^(?:[^.]+\\.){4,}internal\\.cloudapp\\.net\\.$"\n rcode NXDOMAIN\n fallthrough\n}',
    settings: {
      class: 255,
      type: 255,
      zones: ['internal.cloudapp.net'],
      match: ['^(?:[^.]+\\.){4,}internal\\.cloudapp\\.net\\.$'],
      rcode: 3,
      fallthrough: [],
    },
  },
  {
    why: 'an answer built from the question and regex groups',
    name: 'template',
    input:
      'template IN A example.org {\n match ^ip-(\\d+)-(\\d+)-(\\d+)-(\\d+)[.]example[.]org[.]$\n answer "{{ .Name }} 60 IN A {{ index .Match 1 }}.{{ index .Match 2 }}.{{ index .Match 3 }}.{{ index .Match 4 }}"\n}',
    settings: { answer: ['{{ .Name }} 60 IN A {{ index .Match 1 }}.{{ index .Match 2 }}.{{ index .Match 3 }}.{{ index .Match 4 }}'] },
  },
  { why: 'CLASS and TYPE default to ANY', name: 'template', input: 'template', settings: { class: 255, type: 255 } },
  // loadbalance
  { why: 'loadbalance alone is round_robin', name: 'loadbalance', input: 'loadbalance', settings: { policy: 'round_robin' } },
  { why: 'loadbalance round_robin', name: 'loadbalance', input: 'loadbalance round_robin', settings: { policy: 'round_robin' } },
  // log, errors
  {
    why: "log alone: every name, CoreDNS's common format, all classes",
    name: 'log',
    input: 'log',
    settings: { names: ['.'], format: '{common}', classes: ['all'] },
  },
  { why: 'one argument is a name', name: 'log', input: 'log example.org', settings: { names: ['example.org'], format: '{common}' } },
  {
    why: 'with more, the last is the format, kept as written',
    name: 'log',
    input: 'log . {combined}',
    settings: { names: ['.'], format: '{combined}' },
  },
  {
    why: 'a custom format and classes',
    name: 'log',
    input: 'log . "{name} {rcode}" {\n class denial error\n}',
    settings: { format: '{name} {rcode}', classes: ['denial', 'error'] },
  },
  {
    why: 'errors with stacktrace and consolidate',
    name: 'errors',
    input: 'errors stdout {\n stacktrace\n consolidate 5m ".* i/o timeout$" warning\n}',
    settings: { stacktrace: true, consolidate: [{ periodMs: 300_000, pattern: '.* i/o timeout$', level: 'warning' }] },
  },
  // endpoints and listening
  {
    why: 'health defaults to :8080 without lameduck',
    name: 'health',
    input: 'health',
    settings: { address: { host: '', port: 8080 }, lameduckMs: 0 },
  },
  {
    why: 'health ADDRESS { lameduck }',
    name: 'health',
    input: 'health 169.254.20.10:8080 {\n lameduck 5s\n}',
    settings: { address: { host: '169.254.20.10', port: 8080 }, lameduckMs: 5000 },
  },
  { why: 'ready defaults to :8181', name: 'ready', input: 'ready', settings: { address: { host: '', port: 8181 } } },
  {
    why: 'prometheus defaults to localhost:9153',
    name: 'prometheus',
    input: 'prometheus',
    settings: { address: { host: 'localhost', port: 9153 } },
  },
  { why: 'prometheus [::]:9153', name: 'prometheus', input: 'prometheus [::]:9153', settings: { address: { host: '::', port: 9153 } } },
  {
    why: 'bind addresses and interfaces, except',
    name: 'bind',
    input: 'bind 127.0.0.1 ::1 eth0 {\n except 10.0.0.1\n}',
    settings: {
      targets: [
        { kind: 'address', address: '127.0.0.1' },
        { kind: 'address', address: '::1' },
        { kind: 'interface', name: 'eth0' },
      ],
      except: ['10.0.0.1'],
    },
  },
  // reload and the small ones
  { why: 'reload defaults: 30s, jitter 15s', name: 'reload', input: 'reload', settings: { intervalMs: 30_000, jitterMs: 15_000 } },
  {
    why: 'reload 10s: the jitter is capped at half the interval',
    name: 'reload',
    input: 'reload 10s',
    settings: { intervalMs: 10_000, jitterMs: 5000 },
  },
  { why: 'reload at its minimum, 2s 1s', name: 'reload', input: 'reload 2s 1s', settings: { intervalMs: 2000, jitterMs: 1000 } },
  { why: 'bufsize defaults to 1232', name: 'bufsize', input: 'bufsize', settings: { size: 1232 } },
  { why: 'bufsize 512', name: 'bufsize', input: 'bufsize 512', settings: { size: 512 } },
  { why: "chaos alone: cluster-dns's version", name: 'chaos', input: 'chaos', settings: { version: null, authors: [] } },
  {
    why: 'chaos VERSION AUTHORS',
    name: 'chaos',
    input: 'chaos Acme-1.0 ops@example.org',
    settings: { version: 'Acme-1.0', authors: ['ops@example.org'] },
  },
  { why: 'nsid alone: the host name', name: 'nsid', input: 'nsid', settings: { data: null } },
  { why: 'nsid DATA', name: 'nsid', input: 'nsid node a', settings: { data: 'node a' } },
  {
    why: 'acl rules in order, types and nets, a bare IP as a /32',
    name: 'acl',
    input: 'acl example.org {\n allow net 10.0.0.0/8 fd00::/8\n block type AXFR IXFR\n drop net 192.168.1.1\n filter type AAAA net *\n}',
    settings: {
      zones: ['example.org'],
      rules: [
        { action: 'allow', types: [], nets: ['10.0.0.0/8', 'fd00::/8'] },
        { action: 'block', types: [252, 251], nets: [] },
        { action: 'drop', types: [], nets: ['192.168.1.1/32'] },
        { action: 'filter', types: [28], nets: [] },
      ],
    },
  },
  {
    why: "autopath @kubernetes for the block's zones",
    name: 'autopath',
    input: 'autopath @kubernetes',
    settings: { zones: ['.'], source: 'kubernetes' },
  },
  { why: 'loop, debug, whoami and any take nothing', name: 'loop', input: 'loop\ndebug\nwhoami\nany', settings: {} },
];

test('directives read into settings with CoreDNS defaults', async () => {
  const failed: string[] = [];
  for (const row of good) {
    try {
      assert.partialDeepStrictEqual(await settingsOf(row.name, text(row.input)), row.settings, row.why);
    } catch (err) {
      failed.push(`${row.why}: ${(err as Error).message}`);
    }
  }
  assert.deepEqual(failed, []);
});

interface Bad {
  readonly why: string;
  readonly input: string;
  /** The message after `FILE:`. */
  readonly error: string;
  readonly files?: Record<string, string>;
}

const bad: readonly Bad[] = [
  { why: 'a directive no one knows', input: 'bogus', error: '2: unsupported directive "bogus"' },
  {
    why: 'a CoreDNS plugin cluster-dns does not offer, with the reason',
    input: 'etcd',
    error: '2: unsupported directive "etcd": cluster-dns answers from Kubernetes only',
  },
  {
    why: 'proxy, removed from CoreDNS',
    input: 'proxy . 10.0.0.1',
    error: '2: unsupported directive "proxy": removed from CoreDNS in 1.6; use forward',
  },
  {
    why: 'a plugin CoreDNS allows once per server block',
    input: 'cache\ncache 30',
    error: '3: cache: this plugin can only be used once per server block (first at /cfg/Corefile:2)',
  },
  // kubernetes
  {
    why: 'a pods mode that does not exist',
    input: 'kubernetes cluster.local {\n pods fancy\n}',
    error: '3: kubernetes: wrong value for pods: fancy, must be one of: disabled, verified, insecure',
  },
  { why: 'ttl above 3600', input: 'kubernetes cluster.local {\n ttl 4000\n}', error: '3: kubernetes: ttl 4000 is out of range (0-3600)' },
  { why: 'ttl not a number', input: 'kubernetes cluster.local {\n ttl 5s\n}', error: '3: kubernetes: ttl "5s" is not a whole number' },
  { why: 'an unknown property', input: 'kubernetes cluster.local {\n podz insecure\n}', error: '3: kubernetes: unknown property "podz"' },
  {
    why: 'a property CoreDNS removed, named with what to do',
    input: 'kubernetes cluster.local {\n upstream\n}',
    error:
      '3: kubernetes: property "upstream" was removed in CoreDNS 1.7 (external CNAME targets are resolved without it); delete the line',
  },
  {
    why: 'only reverse zones',
    input: 'kubernetes in-addr.arpa ip6.arpa',
    error: '2: kubernetes: non-reverse zone name must be used (every zone given is a reverse zone)',
  },
  {
    why: 'ignore takes only empty_service',
    input: 'kubernetes cluster.local {\n ignore everything\n}',
    error: '3: kubernetes: unable to parse ignore value: "everything" (only empty_service)',
  },
  {
    why: 'kubeconfig needs a path',
    input: 'kubernetes cluster.local {\n kubeconfig\n}',
    error: '3: kubernetes: "kubeconfig" takes 1 to 2 arguments (got 0)',
  },
  {
    why: 'a property with a block of its own',
    input: 'kubernetes cluster.local {\n pods {\n  insecure\n }\n}',
    error: '3: kubernetes: property "pods" takes no block',
  },
  // forward
  { why: 'forward needs FROM and TO', input: 'forward .', error: '2: forward: "forward" takes at least 2 arguments (got 1)' },
  {
    why: 'a TO that is neither an address nor a file',
    input: 'forward . upstream.example',
    error: '2: forward: not an IP address or file: "upstream.example"',
  },
  {
    why: 'a node-cache placeholder left unfilled',
    input: 'forward . __PILLAR__CLUSTER__DNS__',
    error: '2: forward: not an IP address or file: "__PILLAR__CLUSTER__DNS__"',
  },
  {
    why: 'a folder is not a resolv.conf',
    input: 'forward . /etc',
    error: '2: forward: "/etc" is not an IP address or a file (/etc is a directory)',
  },
  {
    why: 'DNS over HTTPS upstreams',
    input: 'forward . https://10.0.0.1',
    error: '2: forward: "https" is not supported as a destination protocol in forward: https://10.0.0.1 (dns:// and tls:// are)',
  },
  {
    why: 'more than 15 upstreams',
    input: `forward . ${Array.from({ length: 16 }, (_, i) => `10.0.0.${i + 1}`).join(' ')}`,
    error: '2: forward: more than 15 TOs configured: 16',
  },
  {
    why: 'max_fails not a number',
    input: 'forward . 10.0.0.1 {\n max_fails many\n}',
    error: '3: forward: max_fails "many" is not a whole number',
  },
  {
    why: 'a duration without a unit',
    input: 'forward . 10.0.0.1 {\n expire 10\n}',
    error: '3: forward: expire "10" is not a duration (e.g. 30s, 5m, 1h30m)',
  },
  { why: 'a negative duration', input: 'forward . 10.0.0.1 {\n health_check -1s\n}', error: '3: forward: health_check -1s is negative' },
  {
    why: 'a policy that does not exist',
    input: 'forward . 10.0.0.1 {\n policy fastest\n}',
    error: '3: forward: unknown policy "fastest" (random, round_robin or sequential)',
  },
  {
    why: 'a health_check option that does not exist',
    input: 'forward . 10.0.0.1 {\n health_check 1s tcp\n}',
    error: '3: forward: health_check: unknown option "tcp" (no_rec, domain NAME)',
  },
  {
    why: 'max_concurrent negative',
    input: 'forward . 10.0.0.1 {\n max_concurrent -1\n}',
    error: "3: forward: max_concurrent can't be negative: -1",
  },
  {
    why: 'a newer CoreDNS property cluster-dns lacks',
    input: 'forward . 10.0.0.1 {\n next NXDOMAIN\n}',
    error: '3: forward: property "next": trying the next plugin on chosen rcodes is not supported by cluster-dns',
  },
  { why: 'an unknown property', input: 'forward . 10.0.0.1 {\n retries 3\n}', error: '3: forward: unknown property "retries"' },
  { why: 'a bad port', input: 'forward . 10.0.0.1:70000', error: '2: forward: port 70000 of "10.0.0.1:70000" is out of range' },
  // cache
  { why: 'cache TTL 0', input: 'cache 0', error: '2: cache: cache TTL can not be zero or negative: 0' },
  {
    why: 'a capacity that is not a number',
    input: 'cache {\n success lots\n}',
    error: '3: cache: success capacity "lots" is not a whole number',
  },
  {
    why: 'a prefetch percentage outside 10-90',
    input: 'cache {\n prefetch 1 1m 5%\n}',
    error: '3: cache: percentage should fall in range [10, 90]: 5',
  },
  {
    why: 'a prefetch percentage without %',
    input: 'cache {\n prefetch 1 1m 50\n}',
    error: '3: cache: last character of percentage should be `%`, but is: "0"',
  },
  {
    why: 'a serve_stale mode that does not exist',
    input: 'cache {\n serve_stale 1h sometimes\n}',
    error: '3: cache: invalid value for serve_stale refresh mode: sometimes (immediate or verify)',
  },
  {
    why: 'servfail over 5 minutes',
    input: 'cache {\n servfail 10m\n}',
    error: '3: cache: caching SERVFAIL responses over 5 minutes is not permitted',
  },
  {
    why: 'disable of something else',
    input: 'cache {\n disable everything\n}',
    error: '3: cache: disable takes "success" or "denial", not "everything"',
  },
  { why: 'an unknown cache property', input: 'cache {\n size 100\n}', error: '3: cache: unknown property "size"' },
  // hosts
  { why: 'hosts ttl 0', input: 'hosts {\n ttl 0\n}', error: '3: hosts: ttl provided is invalid: 0 (1-65535)' },
  {
    why: 'hosts reload not a duration',
    input: 'hosts {\n reload often\n}',
    error: '3: hosts: reload "often" is not a duration (e.g. 30s, 5m, 1h30m)',
  },
  {
    why: 'an entry after fallthrough',
    input: 'hosts {\n fallthrough\n 10.0.0.1 a.example\n}',
    error: '4: hosts: unknown property "10.0.0.1" (an entry cannot follow fallthrough)',
  },
  // rewrite
  { why: 'a name rule without TO', input: 'rewrite name foo.example', error: '2: rewrite: too few arguments for a name rule' },
  {
    why: 'a rule kind cluster-dns lacks',
    input: 'rewrite edns0 local set 0xffee abc',
    error: '2: rewrite: edns0 rules are not supported (name, type and class are)',
  },
  {
    why: 'a bad regex',
    input: 'rewrite name regex (foo bar',
    error: '2: rewrite: invalid regex matching pattern "(foo": missing ")" at offset 4',
  },
  {
    why: 'a rule on the line and in a block',
    input: 'rewrite name a.example b.example {\n answer auto\n}',
    error: '2: rewrite: a rule is written on the line or in the block, not both',
  },
  // template
  { why: 'a type that does not exist', input: 'template IN BOGUS', error: '2: template: invalid RR type BOGUS' },
  { why: 'an rcode that does not exist', input: 'template IN A {\n rcode MAYBE\n}', error: '3: template: unknown rcode MAYBE' },
  {
    why: 'a bad match regex',
    input: 'template IN A {\n match (\n}',
    error: '2: template: could not parse regex: (, missing ")" at offset 1',
  },
  {
    why: 'an unknown template property',
    input: 'template IN A {\n answers "x 60 IN A 10.0.0.1"\n}',
    error: '3: template: unknown property "answers"',
  },
  {
    why: 'a template field outside the safe subset',
    input: 'template IN A {\n answer "{{ .Remote }} 60 IN A 10.0.0.1"\n}',
    error:
      '2: template: template "{{ .Remote }} 60 IN A 10.0.0.1": unsupported {{ .Remote }} (only .Name, .Type, .Class, .Zone, index .Match N, .Group.NAME)',
  },
  // loadbalance, log, errors
  {
    why: 'the weighted policy',
    input: 'loadbalance weighted /w.txt',
    error: '2: loadbalance: the weighted policy is not supported (round_robin is)',
  },
  {
    why: 'a log class that does not exist',
    input: 'log {\n class loud\n}',
    error: '3: log: unknown class: loud (all, success, denial or error)',
  },
  { why: 'errors to a file', input: 'errors /var/log/errors', error: '2: errors: invalid log file: /var/log/errors (only stdout)' },
  {
    why: 'consolidate without its regexp',
    input: 'errors {\n consolidate 5m\n}',
    error: '3: errors: "consolidate" takes 2 to 3 arguments (got 1)',
  },
  // endpoints and listening
  { why: 'a port out of range', input: 'health :99999', error: '2: health: address ":99999": port "99999" is not 0-65535' },
  {
    why: 'an address without a port',
    input: 'ready 127.0.0.1',
    error: '2: ready: address "127.0.0.1" has no port (expected HOST:PORT or :PORT)',
  },
  {
    why: 'lameduck not a duration',
    input: 'health {\n lameduck soon\n}',
    error: '3: health: lameduck "soon" is not a duration (e.g. 30s, 5m, 1h30m)',
  },
  { why: 'bind without anything', input: 'bind', error: '2: bind: at least one address or interface is needed' },
  { why: 'bind except a name', input: 'bind eth0 {\n except eth1\n}', error: '3: bind: except: "eth1" is not an IP address' },
  // reload, bufsize, acl, autopath, bare ones
  { why: 'reload faster than 2s', input: 'reload 1s', error: '2: reload: interval value must be greater or equal to 2s' },
  { why: 'a jitter under 1s', input: 'reload 10s 500ms', error: '2: reload: jitter value must be greater or equal to 1s' },
  { why: 'reload with three arguments', input: 'reload 10s 2s 1s', error: '2: reload: "reload" takes 0 to 2 arguments (got 3)' },
  { why: 'bufsize out of range', input: 'bufsize 5000', error: '2: bufsize: buffer size should be within 512 - 4096 (got 5000)' },
  {
    why: 'an acl action that does not exist',
    input: 'acl {\n permit net 10.0.0.0/8\n}',
    error: '3: acl: unexpected token "permit"; expect "allow", "block", "filter" or "drop"',
  },
  {
    why: 'an acl CIDR that is not one',
    input: 'acl {\n allow net 10.0.0.0/33\n}',
    error: '3: acl: illegal CIDR or IP address: "10.0.0.0/33"',
  },
  { why: 'an acl type that is not one', input: 'acl {\n block type BOGUS\n}', error: '3: acl: unexpected query type "BOGUS"' },
  { why: 'acl without rules', input: 'acl', error: '2: acl: needs at least one rule in its block (allow, block, filter or drop)' },
  {
    why: 'autopath from a resolv.conf',
    input: 'autopath /etc/resolv.conf',
    error: '2: autopath: a resolv.conf as the search path ("/etc/resolv.conf") is not supported; use autopath @kubernetes',
  },
  { why: 'loop with an argument', input: 'loop 3', error: '2: loop: "loop" takes no arguments (got 1)' },
  { why: 'whoami with a block', input: 'whoami {\n}', error: '2: whoami: "whoami" takes no block' },
  // issue 21: parsed, then refused by the one table
  {
    why: 'labels (issue 21)',
    input: 'kubernetes cluster.local {\n labels app=web\n}',
    error: '3: kubernetes: labels is not supported yet (it needs filtering Services by label, which cluster-dns does not do yet)',
  },
  {
    why: 'namespace_labels (issue 21)',
    input: 'kubernetes cluster.local {\n namespace_labels team=a\n}',
    error:
      '3: kubernetes: namespace_labels is not supported yet (it needs filtering namespaces by label, which cluster-dns does not do yet)',
  },
  {
    why: 'multicluster (issue 21)',
    input: 'kubernetes cluster.local {\n multicluster clusterset.local\n}',
    error: '3: kubernetes: multicluster is not supported yet (it needs multicluster (MCS) zones, which cluster-dns does not do yet)',
  },
  {
    why: 'a second cluster zone (issue 21)',
    input: 'kubernetes cluster.local internal',
    error:
      '2: kubernetes: several cluster zones is not supported yet (it needs serving more than one cluster zone, which cluster-dns does not do yet)',
  },
  {
    why: 'a reverse zone without fallthrough is authoritative (issue 21)',
    input: 'kubernetes cluster.local in-addr.arpa',
    error:
      '2: kubernetes: authoritative reverse zones is not supported yet (it needs answering a reverse zone with its own SOA instead of passing it on (list it in fallthrough), which cluster-dns does not do yet)',
  },
  {
    why: 'a reverse zone from a CIDR (issue 21)',
    input: 'kubernetes cluster.local 10.0.0.0/8 {\n fallthrough in-addr.arpa\n}',
    error:
      '2: kubernetes: authoritative reverse zones is not supported yet (it needs answering a reverse zone with its own SOA instead of passing it on (list it in fallthrough), which cluster-dns does not do yet)',
  },
  {
    why: 'transfer (issue 21)',
    input: 'transfer {\n to *\n}',
    error: '2: transfer: zone transfer is not supported yet (it needs AXFR of the cluster zone, which cluster-dns does not do yet)',
  },
  {
    why: 'k8s_external (issue 21)',
    input: 'k8s_external example.org',
    error:
      '2: k8s_external: k8s_external is not supported yet (it needs the external zone of LoadBalancer and external IPs, which cluster-dns does not do yet)',
  },
  {
    why: 'an issue-21 directive with bad syntax is a syntax error first',
    input: 'transfer {\n from *\n}',
    error: '3: transfer: unknown property "from"',
  },
];

test('bad directives fail with one FILE:LINE: why', async () => {
  const failed: string[] = [];
  for (const row of bad) {
    const got = await planOf(text(row.input), row.files).then(
      () => 'compiled',
      (err: unknown) => (err instanceof CorefileError ? err.message : `not a CorefileError: ${String(err)}`),
    );
    if (got !== `${FILE}:${row.error}`) failed.push(`${row.why}:\n  got  ${got}\n  want ${FILE}:${row.error}`);
  }
  assert.deepEqual(failed, []);
});

test('an error in an imported file names it and the import line', async () => {
  await assert.rejects(planOf('.:53 {\n  import custom/*.override\n}\n', { '/cfg/custom/a.override': 'log\ncache -1\n' }), {
    message: '/cfg/custom/a.override:2: cache: cache TTL can not be zero or negative: -1 (imported at /cfg/Corefile:2)',
  });
});
