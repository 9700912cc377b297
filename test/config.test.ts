import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  BUNDLED_EXAMPLE,
  ConfigError,
  DEFAULT_CONFIG,
  flagAssignments,
  isOwnListener,
  OPTIONS,
  parseConfig,
  parseHostPort,
  README_FLAG_TABLE,
  resolveConfig,
  USAGE,
  type Assignment,
  type Config,
  type HostPort,
  type Origin,
} from '../src/config.ts';
import { readmeFlagTable } from '../scripts/flag-table.ts';

const exists = (path: string) => path !== '/missing';
// A cluster source is required; $KUBECONFIG stands in for one unless a test says otherwise.
function run(
  argv: string[],
  env: { KUBECONFIG?: string } = { KUBECONFIG: '/k' },
  fileExists = (p: string) => exists(p) && !p.includes('serviceaccount'),
): Config {
  const result = parseConfig(argv, env, fileExists);
  assert.equal(result.kind, 'run');
  return (result as { config: Config }).config;
}
function failure(argv: string[]): ConfigError {
  try {
    parseConfig(argv, {}, exists);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err;
  }
  assert.fail(`expected ${argv.join(' ')} to be refused`);
}

test('defaults follow CoreDNS: port 53, cluster.local, TTL 5, pods verified', () => {
  const c = run([]);
  assert.deepEqual(c.listen, [{ host: '0.0.0.0', port: 53 }]);
  assert.equal(c.zone, 'cluster.local');
  assert.equal(c.ttl, 5);
  assert.equal(c.pods, 'verified');
  assert.equal(c.maxUdpSize, 1232);
  assert.deepEqual(c.health, { host: '0.0.0.0', port: 8080 });
  assert.deepEqual(c.ready, { host: '0.0.0.0', port: 8181 });
  assert.deepEqual(c.metrics, { host: '0.0.0.0', port: 9153 });
  assert.equal(c.debugEndpoints, null, '/debug/resolve is opt-in');
  assert.equal(c.tcpMaxConnections, 1000);
  assert.equal(c.tcpMaxConnectionsPerClient, 100);
  assert.ok(Object.isFrozen(c));
});

test('TCP caps: per client a tenth of the pool unless given; /debug/resolve only on loopback', () => {
  assert.equal(run(['--tcp-max-conns', '50']).tcpMaxConnectionsPerClient, 5);
  assert.equal(run(['--tcp-max-conns', '50', '--tcp-max-conns-per-client', '50']).tcpMaxConnectionsPerClient, 50);
  assert.equal(run(['--tcp-max-conns', '3']).tcpMaxConnectionsPerClient, 1);
  assert.deepEqual(run(['--debug-endpoints', '127.0.0.1:9154']).debugEndpoints, { host: '127.0.0.1', port: 9154 });
  assert.deepEqual(run(['--debug-endpoints', '[::1]:9154']).debugEndpoints, { host: '::1', port: 9154 });
  assert.equal(run(['--debug-endpoints', 'off']).debugEndpoints, null);
});

test('the cluster source: --manifests, --kubeconfig, $KUBECONFIG, in-cluster, else exit 2 naming what it looked for', () => {
  assert.deepEqual(run(['--manifests', 'x.yaml'], {}).source, { kind: 'manifests', path: 'x.yaml', maxBytes: 16 * 1024 * 1024 });
  assert.deepEqual(
    run(['--manifests', 'x.yaml']).source,
    { kind: 'manifests', path: 'x.yaml', maxBytes: 16 * 1024 * 1024 },
    '--manifests before $KUBECONFIG',
  );
  assert.deepEqual(run(['--manifests', 'x.yaml', '--manifests-max-size', '1Gi']).source, {
    kind: 'manifests',
    path: 'x.yaml',
    maxBytes: 1024 ** 3,
  });
  assert.deepEqual(run(['--kubeconfig', 'kc'], {}).source, { kind: 'kubernetes', kubeconfig: 'kc' });
  assert.deepEqual(run([], { KUBECONFIG: '/k' }).source, { kind: 'kubernetes', kubeconfig: null });
  assert.deepEqual(run([], {}, () => true).source, { kind: 'kubernetes', kubeconfig: null }, 'in-cluster token present');
  // No source: never the bundled example (a pod without its token must not serve fake data).
  const none = (argv: string[]) => () => parseConfig(argv, {}, (p) => !p.includes('serviceaccount'));
  assert.throws(none([]), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(
      err.message,
      'cluster source: none found (looked for --manifests, --kubeconfig, $KUBECONFIG and the service account token /var/run/secrets/kubernetes.io/serviceaccount/token); for the example cluster give --manifests examples/cluster.yaml',
    );
    return true;
  });
  assert.throws(none(['--ttl', 'soon']), /^ConfigError: --ttl: /, 'a bad flag is named first');
  assert.ok(BUNDLED_EXAMPLE.endsWith('/examples/cluster.yaml'));
});

test('ports are 1-65535; an address we bind also takes 0 (any free port, named by the serving line)', () => {
  const c = run(['--listen', '127.0.0.1:0', '--health', '127.0.0.1:0', '--ready', '[::1]:0', '--metrics', ':0']);
  assert.deepEqual([c.listen[0]?.port, c.health?.port, c.ready?.port, c.metrics?.port], [0, 0, 0, 0]);
  for (const [argv, flag] of [
    [['--upstream', '127.0.0.1:0'], '--upstream'],
    [['--upstream', '[::1]:0'], '--upstream'],
    [['--stub-domain', 'corp.example=10.0.0.1:0'], '--stub-domain'],
    [['--upstream', '127.0.0.1:65536'], '--upstream'],
    [['--listen', '127.0.0.1:65536'], '--listen'],
    [['--metrics', '127.0.0.1:65536'], '--metrics'],
  ] as const) {
    const err = failure([...argv]);
    assert.equal(err.flag, flag, argv.join(' '));
    assert.match(
      err.message,
      flag === '--upstream' || flag === '--stub-domain' ? /the port must be an integer from 1 to 65535/ : /from 0 to 65535/,
      argv.join(' '),
    );
  }
});

test('--memory-limit: bytes for main.ts to size the heap to; absent, the cgroup limit (if any) is used', () => {
  assert.equal(run(['--memory-limit', '384Mi']).memoryLimit, 384 * 1024 * 1024);
  assert.equal(run([]).memoryLimit, null);
});

test('--log-format: json (the default) or text', () => {
  assert.equal(run([]).logFormat, 'json');
  assert.equal(run(['--log-format', 'text']).logFormat, 'text');
  assert.match(failure(['--log-format', 'pretty']).message, /^--log-format: must be one of json, text/);
});

test('listen addresses: repeatable, IPv6 in brackets, :PORT for all interfaces', () => {
  const c = run(['--listen', '127.0.0.1:5353', '--listen', '[::1]:53', '--listen', ':1053']);
  assert.deepEqual(c.listen, [
    { host: '127.0.0.1', port: 5353 },
    { host: '::1', port: 53 },
    { host: '0.0.0.0', port: 1053 },
  ]);
  assert.deepEqual(parseHostPort('upstream', '10.0.0.1', 53), { host: '10.0.0.1', port: 53 });
  assert.deepEqual(parseHostPort('upstream', 'fd00::1', 53), { host: 'fd00::1', port: 53 });
});

test('values are normalised', () => {
  const c = run(['--zone', 'Example.Org.', '--ttl', '30', '--pods', 'insecure', '--health', 'off', '--upstream', '1.1.1.1,[::1]:5353']);
  assert.equal(c.zone, 'example.org');
  assert.equal(c.ttl, 30);
  assert.equal(c.pods, 'insecure');
  assert.equal(c.health, null);
  assert.deepEqual(c.forward.upstreams, [
    { host: '1.1.1.1', port: 53 },
    { host: '::1', port: 5353 },
  ]);
});

test('--help and --version', () => {
  assert.deepEqual(parseConfig(['--help'], {}, exists), { kind: 'help' });
  assert.deepEqual(parseConfig(['--version'], {}, exists), { kind: 'version' });
});

const bad: [string[], string, RegExp][] = [
  [['--ttl', 'abc'], '--ttl', /integer from 0 to 3600/],
  [['--ttl', '3601'], '--ttl', /integer from 0 to 3600/],
  [['--ttl', '-1'], '--ttl', /./],
  [['--pods', 'yes'], '--pods', /disabled, insecure, verified/],
  [['--listen', 'localhost:53'], '--listen', /IP address/],
  [['--listen', '127.0.0.1'], '--listen', /no port/],
  [['--listen', '127.0.0.1:70000'], '--listen', /0 to 65535/],
  [['--zone', 'bad_zone!'], '--zone', /not a domain name/],
  [['--max-udp-size', '100'], '--max-udp-size', /512 to 65535/],
  [['--log-level', 'loud'], '--log-level', /one of/],
  [['--manifests', '/missing'], '--manifests', /no such file/],
  [['--kubeconfig', '/missing'], '--kubeconfig', /no such file/],
  [['--kubeconfig', 'a', '--manifests', 'b'], '--manifests', /cannot be combined/],
  [['--frobnicate'], '--frobnicate', /unknown flag/],
  [['--ttl'], '--ttl', /argument missing/],
];
for (const [argv, flag, message] of bad) {
  test(`${argv.join(' ')} is refused with one line naming ${flag}`, () => {
    const err = failure(argv);
    assert.equal(err.flag, flag);
    assert.match(err.message, message);
    assert.ok(err.message.startsWith(`${flag}: `));
    assert.ok(!err.message.includes('\n'));
  });
}

test('operations: --lameduck (seconds or with a unit), --log-queries and its sample', () => {
  const d = run([]);
  assert.equal(d.lameduckMs, 5000, 'CoreDNS kubeadm default: lameduck 5s');
  assert.equal(d.logQueries, false);
  assert.equal(d.logQueriesSample, 1);
  assert.equal(run(['--lameduck', '7']).lameduckMs, 7000);
  assert.equal(run(['--lameduck', '2.5s']).lameduckMs, 2500);
  assert.equal(run(['--lameduck', '300ms']).lameduckMs, 300);
  assert.equal(run(['--lameduck', '1m']).lameduckMs, 60_000);
  assert.equal(run(['--lameduck', '0']).lameduckMs, 0);
  const q = run(['--log-queries', '--log-queries-sample', '0.01']);
  assert.equal(q.logQueries, true);
  assert.equal(q.logQueriesSample, 0.01);
  assert.equal(failure(['--lameduck', 'soon']).flag, '--lameduck');
  assert.equal(failure(['--lameduck', '11m']).flag, '--lameduck');
  assert.equal(failure(['--log-queries-sample', '0']).flag, '--log-queries-sample');
  assert.equal(failure(['--log-queries-sample', '1.5']).flag, '--log-queries-sample');
  // node:util refuses a separate value starting with "-"; the message says how to give one.
  const dash = failure(['--lameduck', '-1']);
  assert.equal(dash.flag, '--lameduck');
  assert.match(dash.message, /"-1" starts with "-" \(write --lameduck=-1/);
  assert.equal(failure(['--lameduck=-1']).flag, '--lameduck');
});

test('--snapshot: a file in an existing folder, live clusters only, with an interval', () => {
  assert.equal(run(['--kubeconfig', '/k']).snapshot, null);
  assert.deepEqual(run(['--kubeconfig', '/k', '--snapshot', '/var/lib/cdns/index.json']).snapshot, {
    path: '/var/lib/cdns/index.json',
    intervalMs: 60_000,
    maxAgeMs: 24 * 3_600_000,
    maxBytes: 64 * 1024 * 1024,
  });
  const tuned = run(['--kubeconfig', '/k', '--snapshot', '/s/i.json', '--snapshot-max-age', '6h', '--snapshot-max-size', '128Mi']).snapshot;
  assert.deepEqual([tuned?.maxAgeMs, tuned?.maxBytes], [6 * 3_600_000, 128 * 1024 * 1024]);
  assert.equal(run(['--kubeconfig', '/k', '--snapshot', '/s/i.json', '--snapshot-interval', '10s']).snapshot?.intervalMs, 10_000);
  const manifests = failure(['--manifests', '/m', '--snapshot', '/s/i.json']);
  assert.equal(manifests.flag, '--snapshot');
  assert.match(manifests.message, /needs a live cluster/);
  assert.equal(failure(['--kubeconfig', '/k', '--snapshot', '/missing/i.json']).message, '--snapshot: no such folder: /missing');
  assert.equal(failure(['--kubeconfig', '/k', '--snapshot', '/s/']).flag, '--snapshot');
  assert.equal(failure(['--kubeconfig', '/k', '--snapshot', '/s/i.json', '--snapshot-interval', '500ms']).flag, '--snapshot-interval');
  assert.equal(failure(['--kubeconfig', '/k', '--snapshot-interval', '10s']).flag, '--snapshot-interval');
});

test('--udp-recv-buffer: bytes, Ki or Mi, within 64Ki..64Mi', () => {
  assert.equal(run([]).udpReceiveBuffer, 256 * 1024);
  assert.equal(run(['--udp-recv-buffer', '1Mi']).udpReceiveBuffer, 1024 * 1024);
  assert.equal(run(['--udp-recv-buffer', '65536']).udpReceiveBuffer, 65536);
  assert.equal(run(['--udp-recv-buffer', '512Ki']).udpReceiveBuffer, 512 * 1024);
  for (const bad of ['1Ki', '65Mi', 'lots', '-5', '1.5Mi'])
    assert.equal(failure(['--udp-recv-buffer', bad]).flag, '--udp-recv-buffer', bad);
});

test('--busy-poll: microseconds or milliseconds with a unit, up to 10ms; 0 or absent is off', () => {
  assert.equal(run([]).busyPollUs, 0);
  assert.equal(run(['--busy-poll', '0']).busyPollUs, 0);
  assert.equal(run(['--busy-poll', '200us']).busyPollUs, 200);
  assert.equal(run(['--busy-poll', '200µs']).busyPollUs, 200);
  assert.equal(run(['--busy-poll', '1.5ms']).busyPollUs, 1500);
  assert.equal(run(['--busy-poll', '10ms']).busyPollUs, 10_000);
  for (const bad of ['200', '11ms', '1s', '5 us', 'fast', '']) {
    const error = failure(['--busy-poll', bad]);
    assert.equal(error.flag, '--busy-poll', bad);
    assert.match(error.message, /such as 200us/);
  }
});

test('--udp-io: auto (the default), batch or node', () => {
  assert.equal(run([]).udpIo, 'auto');
  for (const mode of ['auto', 'batch', 'node']) assert.equal(run(['--udp-io', mode]).udpIo, mode);
  const error = failure(['--udp-io', 'fast']);
  assert.equal(error.flag, '--udp-io');
  assert.match(error.message, /auto, batch, node/);
});

test('forwarding: --upstream, else resolv.conf nameservers, never our own listeners', () => {
  const resolv = (text: string) => (path: string) => {
    if (path === '/etc/resolv.conf' || path === '/r') return text;
    throw new Error('ENOENT');
  };
  const parse = (argv: string[], text = 'nameserver 10.0.0.2\nnameserver 10.0.0.3 # comment\nsearch a.b\noptions ndots:5\n') => {
    const result = parseConfig(argv, {}, exists, resolv(text));
    assert.equal(result.kind, 'run');
    return (result as { config: Config }).config.forward;
  };
  assert.deepEqual(parse([]).upstreams, [
    { host: '10.0.0.2', port: 53 },
    { host: '10.0.0.3', port: 53 },
  ]);
  assert.equal(parse([]).upstreamsFrom, '/etc/resolv.conf');
  assert.deepEqual(parse(['--upstream', '192.0.2.1,192.0.2.2:5300']).upstreams, [
    { host: '192.0.2.1', port: 53 },
    { host: '192.0.2.2', port: 5300 },
  ]);
  assert.deepEqual(parse(['--resolv-conf', '/r'], 'nameserver ::1\n').upstreams, [{ host: '::1', port: 53 }]);
  // Our own listener in resolv.conf (a node pointing at the cluster DNS) is left out, not a loop.
  assert.deepEqual(parse(['--listen', ':53'], 'nameserver 127.0.0.1\nnameserver 10.0.0.9\n').upstreams, [{ host: '10.0.0.9', port: 53 }]);
  assert.throws(
    () => parseConfig(['--listen', '127.0.0.1:5353', '--upstream', '127.0.0.1:5353'], {}, exists, resolv('')),
    /--upstream: 127\.0\.0\.1:5353 is one of our own --listen addresses/,
  );
  assert.throws(
    () => parseConfig(['--resolv-conf', '/missing.conf'], {}, exists, resolv('')),
    /--resolv-conf: cannot read \/missing\.conf/,
  );
  // --autopath takes the node's search domains after the cluster's own (those under the zone are the cluster's).
  assert.deepEqual(parse(['--autopath', '--upstream', '192.0.2.1'], 'search corp.example svc.cluster.local lab.example\n').autopathSearch, [
    'corp.example',
    'lab.example',
  ]);
  assert.deepEqual(parse(['--upstream', '192.0.2.1'], 'search corp.example\n').autopathSearch, [], 'not without --autopath');
  // No resolv.conf at all (a bare container): no upstreams, no error.
  assert.deepEqual(
    parseConfig([], {}, exists, () => {
      throw new Error('ENOENT');
    }).kind,
    'run',
  );
  const d = parse([]);
  assert.deepEqual(
    {
      policy: d.policy,
      forceTcp: d.forceTcp,
      maxConcurrent: d.maxConcurrent,
      cacheSize: d.cacheSize,
      cacheSuccessTtl: d.cacheSuccessTtl,
      cacheDenialTtl: d.cacheDenialTtl,
      serveStaleMs: d.serveStaleMs,
      autopath: d.autopath,
      timeoutMs: d.timeoutMs,
      maxFails: d.maxFails,
    },
    {
      policy: 'random',
      forceTcp: false,
      maxConcurrent: 1000,
      cacheSize: 10_000,
      cacheSuccessTtl: 3600,
      cacheDenialTtl: 30,
      serveStaleMs: 3_600_000,
      autopath: false,
      timeoutMs: 5_000,
      maxFails: 2,
    },
  );
  // Two caches, as CoreDNS's success and denial: the denial cache is as big unless told otherwise.
  assert.deepEqual([d.cacheDenialSize, d.cacheServfailTtl], [10_000, 5]);
  assert.deepEqual(
    [parse(['--cache-size', '500']).cacheDenialSize, parse(['--cache-size', '0']).cacheDenialSize],
    [500, 0],
    '--cache-size 0: no cache at all',
  );
  const split = parse(['--cache-size', '500', '--cache-denial-size', '50', '--cache-servfail-ttl', '0']);
  assert.deepEqual([split.cacheSize, split.cacheDenialSize, split.cacheServfailTtl], [500, 50, 0]);
  // CoreDNS forward's budget and max_fails, and ours: any duration from 100ms to 60s, 0-100 fails.
  assert.equal(parse(['--forward-timeout', '1500ms']).timeoutMs, 1_500);
  assert.equal(parse(['--forward-timeout', '2']).timeoutMs, 2_000);
  assert.equal(parse(['--max-fails', '0']).maxFails, 0);
  // Nameservers of resolv.conf that no resolver can be at are left out, as link-local ones are.
  assert.deepEqual(parse([], 'nameserver 0.0.0.0\nnameserver 224.0.0.251\nnameserver ::\nnameserver 10.0.0.9\n').upstreams, [
    { host: '10.0.0.9', port: 53 },
  ]);
  const o = parse([
    '--upstream-policy',
    'round_robin',
    '--force-tcp',
    '--max-concurrent',
    '50',
    '--cache-size',
    '0',
    '--cache-success-ttl',
    '60',
    '--cache-denial-ttl',
    '5',
    '--serve-stale',
    '30m',
    '--autopath',
  ]);
  assert.deepEqual(
    {
      policy: o.policy,
      forceTcp: o.forceTcp,
      maxConcurrent: o.maxConcurrent,
      cacheSize: o.cacheSize,
      cacheSuccessTtl: o.cacheSuccessTtl,
      cacheDenialTtl: o.cacheDenialTtl,
      serveStaleMs: o.serveStaleMs,
      autopath: o.autopath,
    },
    {
      policy: 'round_robin',
      forceTcp: true,
      maxConcurrent: 50,
      cacheSize: 0,
      cacheSuccessTtl: 60,
      cacheDenialTtl: 5,
      serveStaleMs: 1_800_000,
      autopath: true,
    },
  );
  assert.deepEqual(
    parse(['--stub-domain', 'Corp.Example.=10.1.0.1,10.1.0.2:5353', '--stub-domain', 'lab.corp.example=10.2.0.1']).stubDomains,
    [
      {
        domain: 'corp.example',
        upstreams: [
          { host: '10.1.0.1', port: 53 },
          { host: '10.1.0.2', port: 5353 },
        ],
      },
      { domain: 'lab.corp.example', upstreams: [{ host: '10.2.0.1', port: 53 }] },
    ],
  );
  for (const [argv, flag] of [
    [['--upstream-policy', 'fastest'], '--upstream-policy'],
    [['--max-concurrent', '0'], '--max-concurrent'],
    [['--cache-size', '-1'], '--cache-size'],
    [['--cache-success-ttl', '0'], '--cache-success-ttl'],
    [['--cache-denial-ttl', 'long'], '--cache-denial-ttl'],
    [['--serve-stale', '2w'], '--serve-stale'],
    [['--stub-domain', 'corp.example'], '--stub-domain'],
    [['--stub-domain', 'bad..domain=10.0.0.1'], '--stub-domain'],
    [['--stub-domain', 'corp.example=host.name'], '--stub-domain'],
    [['--upstream', 'resolver.example'], '--upstream'],
    [['--stub-domain', 'cluster.local=10.0.0.1'], '--stub-domain'],
    [['--zone', 'example.org', '--stub-domain', 'x.svc.example.org=10.0.0.1'], '--stub-domain'],
  ] as const) {
    assert.equal(failure([...argv]).flag, flag, argv.join(' '));
  }
});

test("our own listeners: the same address, or loopback and this machine's addresses behind a wildcard", () => {
  const local = new Set(['10.244.1.7', 'fd00::7']);
  const own = (host: string, port: number, listen: string) => isOwnListener({ host, port }, [parseHostPort('listen', listen, 53)], local);
  assert.equal(own('127.0.0.1', 53, '127.0.0.1:53'), true);
  assert.equal(own('127.0.0.1', 5353, '127.0.0.1:53'), false, 'another port is another server');
  assert.equal(own('127.0.0.53', 53, '127.0.0.1:53'), false, 'systemd-resolved on 127.0.0.53 is not us when we bind 127.0.0.1');
  assert.equal(own('127.0.0.53', 53, '0.0.0.0:53'), true, 'but it is when we bind every address');
  assert.equal(own('10.244.1.7', 53, '0.0.0.0:53'), true, 'the pod IP behind a wildcard listener');
  assert.equal(own('10.244.1.8', 53, '0.0.0.0:53'), false);
  assert.equal(own('fd00::7', 53, '0.0.0.0:53'), false, '0.0.0.0 is IPv4 only');
  assert.equal(own('fd00::7', 53, '[::]:53'), true);
  assert.equal(own('::1', 53, '[::]:53'), true);
  assert.equal(own('10.244.1.7', 53, '10.244.1.9:53'), false, 'a specific listener is only itself');
});

// Every flag the usage text lists, with values it must refuse: each refusal is one line that
// starts with the flag's name. The last test keeps this table complete as flags are added.
const everyFlag: Record<string, string[][]> = {
  '--kubeconfig': [['--kubeconfig', '/missing'], ['--kubeconfig']],
  '--manifests': [
    ['--manifests', '/missing'],
    ['--manifests', 'a.yaml', '--kubeconfig', 'kc'],
  ],
  '--listen': [
    ['--listen', 'localhost:53'],
    ['--listen', '127.0.0.1'],
    ['--listen', '127.0.0.1:65536'],
    ['--listen', '[::1'],
    ['--listen', '[::1]:x'],
    ['--listen', '10.0.0.1:-1'],
    ['--listen', ''],
  ],
  '--zone': [
    ['--zone', ''],
    ['--zone', 'a..b'],
    ['--zone', 'bad_zone!'],
    ['--zone', `${'a'.repeat(64)}.local`],
    ['--zone', 'x'.repeat(254)],
  ],
  '--ttl': [
    ['--ttl', 'soon'],
    ['--ttl', '3601'],
    ['--ttl', '1.5'],
    ['--ttl', '0x10'],
    ['--ttl', ' 5'],
    ['--ttl', '-1'],
  ],
  '--pods': [
    ['--pods', 'yes'],
    ['--pods', 'VERIFIED'],
    ['--pods', ''],
  ],
  '--max-udp-size': [
    ['--max-udp-size', '511'],
    ['--max-udp-size', '65536'],
    ['--max-udp-size', 'big'],
  ],
  '--tcp-idle-timeout': [
    ['--tcp-idle-timeout', '0'],
    ['--tcp-idle-timeout', '3601'],
    ['--tcp-idle-timeout', '10s'],
  ],
  '--tcp-max-conns': [
    ['--tcp-max-conns', '0'],
    ['--tcp-max-conns', 'many'],
    ['--tcp-max-conns', '1000001'],
  ],
  '--tcp-max-conns-per-client': [
    ['--tcp-max-conns-per-client', '0'],
    ['--tcp-max-conns-per-client', '10%'],
    ['--tcp-max-conns-per-client', '1000001'],
  ],
  '--udp-recv-buffer': [
    ['--udp-recv-buffer', '1Ki'],
    ['--udp-recv-buffer', '65Mi'],
    ['--udp-recv-buffer', '1.5Mi'],
    ['--udp-recv-buffer', '4MB'],
  ],
  '--busy-poll': [
    ['--busy-poll', '200'],
    ['--busy-poll', '11ms'],
    ['--busy-poll', '1s'],
    ['--busy-poll', 'x'],
  ],
  '--udp-io': [
    ['--udp-io', 'dgram'],
    ['--udp-io', 'BATCH'],
    ['--udp-io', ''],
  ],
  '--upstream': [
    ['--upstream', ''],
    ['--upstream', ','],
    ['--upstream', 'resolver.example'],
    ['--upstream', '10.0.0.1:99999'],
    ['--listen', '127.0.0.1:53', '--upstream', '127.0.0.1'],
    // No server is at port 0, the unspecified addresses, broadcast or multicast (port 0 used to crash with ERR_SOCKET_BAD_PORT).
    ['--upstream', '10.0.0.1:0'],
    ['--upstream', '[::1]:0'],
    ['--upstream', '0.0.0.0'],
    ['--upstream', '::'],
    ['--upstream', '[::]:53'],
    ['--upstream', '::ffff:0.0.0.0'],
    ['--upstream', '255.255.255.255'],
    ['--upstream', '224.0.0.1'],
    ['--upstream', '239.255.255.250:53'],
    ['--upstream', 'ff02::fb'],
    ['--upstream', '[ff05::1:3]:53'],
    ['--upstream', '10.0.0.1,0.0.0.0'],
  ],
  '--resolv-conf': [['--resolv-conf', '/missing.conf']],
  '--upstream-policy': [
    ['--upstream-policy', 'fastest'],
    ['--upstream-policy', ''],
  ],
  '--forward-health-check': [
    ['--forward-health-check', '50ms'],
    ['--forward-health-check', '11m'],
    ['--forward-health-check', 'often'],
  ],
  '--forward-expire': [
    ['--forward-expire', '500ms'],
    ['--forward-expire', '2h'],
  ],
  '--forward-except': [
    ['--forward-except', 'bad domain'],
    ['--forward-except', 'a..b'],
  ],
  '--cache-prefetch': [
    ['--cache-prefetch', '-1'],
    ['--cache-prefetch', 'some'],
  ],
  '--cache-prefetch-percent': [
    ['--cache-prefetch-percent', '5'],
    ['--cache-prefetch-percent', '91'],
  ],
  '--stub-domain': [
    ['--stub-domain', 'corp.example=10.1.0.53;policy=fastest'],
    ['--stub-domain', 'corp.example=10.1.0.53;max-fails=many'],
    ['--stub-domain', 'corp.example=10.1.0.53;udp'],
    ['--stub-domain', 'corp.example=10.1.0.53;health-check=soon'],
    ['--stub-domain', 'corp.example'],
    ['--stub-domain', '=10.0.0.1'],
    ['--stub-domain', 'bad..domain=10.0.0.1'],
    ['--stub-domain', 'corp.example=host.name'],
    ['--stub-domain', 'corp.example='],
    ['--stub-domain', 'corp.example=10.0.0.1:0'],
    ['--stub-domain', 'corp.example=0.0.0.0'],
    ['--stub-domain', 'corp.example=255.255.255.255'],
    ['--stub-domain', 'corp.example=[ff02::1]:53'],
    // Inside the cluster zone: answered from the cluster, never forwarded.
    ['--stub-domain', 'cluster.local=10.0.0.1'],
    ['--stub-domain', 'Cluster.Local.=10.0.0.1'],
    ['--stub-domain', 'x.svc.cluster.local=10.0.0.1'],
    ['--zone', 'k8s.example', '--stub-domain', 'pod.k8s.example=10.0.0.1'],
  ],
  '--force-tcp': [['--force-tcp=yes']],
  '--ignore-empty-service': [['--ignore-empty-service=yes']],
  '--endpoint-pod-names': [['--endpoint-pod-names=yes']],
  '--no-endpoints': [['--no-endpoints=yes']],
  '--conf': [['--conf']],
  '--check': [['--check=yes']],
  '--fallthrough': [
    ['--fallthrough', 'bad..zone'],
    ['--fallthrough', ''],
  ],
  '--namespaces': [
    ['--namespaces', 'Bad_NS'],
    ['--namespaces', 'shop,,data'],
  ],
  '--forward-timeout': [
    ['--forward-timeout', '50ms'],
    ['--forward-timeout', '0'],
    ['--forward-timeout', '61s'],
    ['--forward-timeout', 'soon'],
    ['--forward-timeout', '-1'],
  ],
  '--max-fails': [
    ['--max-fails', '-1'],
    ['--max-fails', '101'],
    ['--max-fails', 'two'],
  ],
  '--max-concurrent': [
    ['--max-concurrent', '0'],
    ['--max-concurrent', '100001'],
    ['--max-concurrent', 'lots'],
  ],
  '--cache-size': [
    ['--cache-size', '-1'],
    ['--cache-size', '10000001'],
    ['--cache-size', '1e3'],
  ],
  '--cache-success-ttl': [
    ['--cache-success-ttl', '0'],
    ['--cache-success-ttl', '604801'],
  ],
  '--cache-denial-ttl': [
    ['--cache-denial-ttl', '0'],
    ['--cache-denial-ttl', 'long'],
  ],
  '--cache-denial-size': [
    ['--cache-denial-size', '-1'],
    ['--cache-denial-size', '10000001'],
    ['--cache-denial-size', 'half'],
  ],
  '--cache-servfail-ttl': [
    ['--cache-servfail-ttl', '301'],
    ['--cache-servfail-ttl', '5s'],
    ['--cache-servfail-ttl', '-1'],
  ],
  '--serve-stale': [
    ['--serve-stale', '2w'],
    ['--serve-stale', '169h'],
    ['--serve-stale', 'forever'],
  ],
  '--autopath': [['--autopath=1']],
  '--health': [
    ['--health', 'nowhere'],
    ['--health', '8080'],
    ['--health', ':99999'],
  ],
  '--ready': [
    ['--ready', ''],
    ['--ready', 'localhost:8181'],
  ],
  '--metrics': [
    ['--metrics', '1.2.3.4:99999'],
    ['--metrics', 'on'],
  ],
  '--debug-endpoints': [
    ['--debug-endpoints', ':9154'],
    ['--debug-endpoints', '0.0.0.0:9154'],
    ['--debug-endpoints', '10.0.0.1:9154'],
    ['--debug-endpoints', '[::]:9154'],
    ['--debug-endpoints', 'on'],
    ['--debug-endpoints', '127.0.0.1'],
  ],
  '--log-level': [
    ['--log-level', 'loud'],
    ['--log-level', 'INFO'],
  ],
  '--log-format': [
    ['--log-format', 'pretty'],
    ['--log-format', 'JSON'],
    ['--log-format', ''],
  ],
  '--log-queries': [['--log-queries=1']],
  '--log-queries-sample': [
    ['--log-queries-sample', '0'],
    ['--log-queries-sample', '1.5'],
    ['--log-queries-sample', '1%'],
  ],
  '--log-queries-format': [
    ['--log-queries-format', ''],
    ['--log-queries-format', '  '],
  ],
  '--log-queries-class': [
    ['--log-queries-class', 'failure'],
    ['--log-queries-class', 'success,'],
  ],
  '--log-queries-zones': [
    ['--log-queries-zones', 'a..b'],
    ['--log-queries-zones', 'example.org,'],
  ],
  '--lameduck': [
    ['--lameduck', 'soon'],
    ['--lameduck', '11m'],
    ['--lameduck', '5h'],
  ],
  '--workers': [
    ['--workers', '0'],
    ['--workers', '65'],
    ['--workers', 'auto'],
  ],
  '--snapshot': [
    ['--kubeconfig', '/k', '--snapshot', ''],
    ['--kubeconfig', '/k', '--snapshot', '/missing/i.json'],
    ['--manifests', '/m', '--snapshot', '/s/i.json'],
  ],
  '--snapshot-interval': [
    ['--kubeconfig', '/k', '--snapshot', '/s/i.json', '--snapshot-interval', '500ms'],
    ['--kubeconfig', '/k', '--snapshot-interval', '10s'],
  ],
  '--snapshot-max-age': [
    ['--kubeconfig', '/k', '--snapshot', '/s/i.json', '--snapshot-max-age', '30s'],
    ['--kubeconfig', '/k', '--snapshot', '/s/i.json', '--snapshot-max-age', '8d'],
    ['--kubeconfig', '/k', '--snapshot-max-age', '1h'],
  ],
  '--snapshot-max-size': [
    ['--kubeconfig', '/k', '--snapshot', '/s/i.json', '--snapshot-max-size', '1Ki'],
    ['--kubeconfig', '/k', '--snapshot', '/s/i.json', '--snapshot-max-size', '64MB'],
    ['--kubeconfig', '/k', '--snapshot-max-size', '64Mi'],
  ],
  '--manifests-max-size': [
    ['--manifests', '/m', '--manifests-max-size', '12'],
    ['--manifests', '/m', '--manifests-max-size', 'big'],
    ['--kubeconfig', '/k', '--manifests-max-size', '1Mi'],
  ],
  '--memory-limit': [
    ['--memory-limit', '32Mi'],
    ['--memory-limit', '384M'],
    ['--memory-limit', ''],
  ],
  '--help': [['--help=1']],
  '--version': [['--version=2']],
};

for (const [flag, cases] of Object.entries(everyFlag)) {
  test(`${flag}: every bad value refused with one line naming ${flag}`, () => {
    for (const argv of cases) {
      const err = failure(argv);
      assert.equal(err.flag, flag, argv.join(' '));
      assert.ok(err.message.startsWith(`${flag}: `), err.message);
      assert.ok(!err.message.includes('\n'), err.message);
      assert.equal(err.code, 'CDNS_ERR_CONFIG');
    }
  });
}

test('the bad-value table covers every flag the usage text lists', () => {
  const listed = new Set([...USAGE.matchAll(/(?<![\w-])--([a-z][a-z-]*)/g)].map((m) => `--${m[1]}`));
  assert.deepEqual(
    [...listed].filter((f) => !(f in everyFlag)),
    [],
    'flags without bad-value rows',
  );
});

test('the README flag table is the option table (npm run flags:readme -- --write rewrites it)', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const found = readmeFlagTable(readme);
  assert.ok(found, 'README.md has a flag table');
  assert.equal(found.text, README_FLAG_TABLE);
  // Every flag --help lists has its row.
  const listed = new Set([...USAGE.matchAll(/(?<![\w-])--([a-z][a-z-]*)/g)].map((m) => `--${m[1]}`));
  const rows = new Set([...found.text.matchAll(/`(--[a-z][a-z-]*)/g)].map((m) => m[1]));
  assert.deepEqual(
    [...listed].filter((f) => !rows.has(f)),
    [],
    'flags without a README row',
  );
});

test('--help lists every option once, with its argument, under its group', () => {
  for (const spec of OPTIONS) {
    const entry = new RegExp(
      `^  --${spec.flag}${spec.arg === undefined ? '' : ` ${spec.arg.replace(/[[\]().*+?]/g, '\\$&')}`}(?= |$)`,
      'gm',
    );
    assert.equal([...USAGE.matchAll(entry)].length, 1, spec.flag);
  }
  assert.ok(USAGE.indexOf('--cache-size N') > USAGE.indexOf('Cache of upstream answers:'));
  assert.ok(
    USAGE.split('\n').every((line) => line.length <= 112),
    'lines fit 112 columns',
  );
});

test('DEFAULT_CONFIG is what no flags give (with the example as the source and no resolv.conf)', () => {
  const parsed = parseConfig(
    ['--manifests', BUNDLED_EXAMPLE],
    {},
    () => true,
    () => {
      throw new Error('ENOENT');
    },
  );
  assert.equal(parsed.kind, 'run');
  const { config } = parsed as { config: Config };
  assert.deepEqual(config, DEFAULT_CONFIG);
  assert.deepEqual(DEFAULT_CONFIG.forward.upstreams, [], 'never a real resolver');
  assert.equal(DEFAULT_CONFIG.ttl, 5);
  assert.equal(DEFAULT_CONFIG.forward.cacheDenialSize, DEFAULT_CONFIG.forward.cacheSize);
});

test('the Config is frozen all the way down', () => {
  const c = run([
    '--listen',
    '127.0.0.1:5353',
    '--upstream',
    '192.0.2.1',
    '--stub-domain',
    'corp.example=192.0.2.9',
    '--kubeconfig',
    '/k',
    '--snapshot',
    '/s/i.json',
  ]);
  for (const inner of [
    c,
    c.listen,
    c.listen[0],
    c.forward,
    c.forward.upstreams,
    c.forward.upstreams[0],
    c.forward.stubDomains[0],
    c.forward.stubDomains[0]?.upstreams,
    c.snapshot,
    c.source,
    DEFAULT_CONFIG.forward,
  ]) {
    assert.ok(Object.isFrozen(inner));
  }
  assert.throws(() => {
    (c.listen as HostPort[]).push({ host: '0.0.0.0', port: 1 });
  }, TypeError);
});

test('origins: each value says whether it was defaulted or given by a flag', () => {
  const parsed = parseConfig(['--ttl', '30', '--listen', '127.0.0.1:1', '--listen', '127.0.0.1:2'], { KUBECONFIG: '/k' }, exists, () => '');
  assert.equal(parsed.kind, 'run');
  const { origins } = parsed as { origins: ReadonlyMap<string, Origin> };
  assert.deepEqual(origins.get('ttl'), { kind: 'flag' });
  assert.deepEqual(origins.get('listen'), { kind: 'flag' });
  assert.deepEqual(origins.get('zone'), { kind: 'default' });
  assert.deepEqual([...origins.keys()].sort(), OPTIONS.map((o) => o.flag).sort());
});

test('another source (a Corefile) sets the same options through the same parsers, named by place', () => {
  const host = { env: {}, fileExists: exists, readText: () => '' };
  const at = (line: number, directive: string) => ({ kind: 'corefile', file: 'Corefile', line, directive }) as const;
  const flags = flagAssignments(['--manifests', 'x.yaml', '--listen', '127.0.0.1:1053']);
  assert.equal(flags.kind, 'run');
  const given = (flags as { assignments: readonly Assignment[] }).assignments;
  const { config, origins } = resolveConfig(
    [
      ...given,
      { flag: 'cache-success-ttl', value: '30', from: at(7, 'cache') },
      { flag: 'force-tcp', value: true, from: at(4, 'forward') },
      { flag: 'upstream', value: '192.0.2.1', from: at(3, 'forward') },
      { flag: 'upstream', value: '192.0.2.2:5353', from: at(3, 'forward') },
    ],
    host,
  );
  assert.equal(config.forward.cacheSuccessTtl, 30);
  assert.equal(config.forward.forceTcp, true);
  assert.deepEqual(config.forward.upstreams, [
    { host: '192.0.2.1', port: 53 },
    { host: '192.0.2.2', port: 5353 },
  ]);
  assert.deepEqual(origins.get('cache-success-ttl'), at(7, 'cache'));
  assert.deepEqual(origins.get('listen'), { kind: 'flag' });
  const refused = (assignments: Assignment[]) => {
    try {
      resolveConfig([...given, ...assignments], host);
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.message;
    }
    assert.fail('expected a refusal');
  };
  assert.equal(
    refused([{ flag: 'ttl', value: 'soon', from: at(2, 'kubernetes') }]),
    'Corefile:2: kubernetes: must be an integer from 0 to 3600 (got "soon")',
  );
  assert.equal(
    refused([{ flag: 'listen', value: '127.0.0.1:53', from: at(1, 'bind') }]),
    '--listen: also set at Corefile:1: bind: set it in one place',
  );
  assert.equal(
    refused([
      { flag: 'ttl', value: '5', from: at(2, 'kubernetes') },
      { flag: 'ttl', value: '6', from: at(9, 'kubernetes') },
    ]),
    'Corefile:9: kubernetes: sets ttl again (already set at Corefile:2: kubernetes)',
  );
  assert.equal(
    refused([{ flag: 'upstream', value: '127.0.0.1:1053', from: at(3, 'forward') }]),
    'Corefile:3: forward: 127.0.0.1:1053 is one of our own --listen addresses: that would be a forwarding loop',
  );
  assert.equal(refused([{ flag: 'loadbalance', value: true, from: at(5, 'loadbalance') }]), 'Corefile:5: loadbalance: unknown option');
  assert.equal(refused([{ flag: 'ttl', value: true, from: at(2, 'kubernetes') }]), 'Corefile:2: kubernetes: needs a value');
});
