import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUNDLED_EXAMPLE, ConfigError, parseConfig, parseHostPort, type Config } from '../src/config.ts';

const exists = (path: string) => path !== '/missing';
function run(argv: string[], env: { KUBECONFIG?: string } = {}, fileExists = (p: string) => exists(p) && !p.includes('serviceaccount')): Config {
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
  assert.ok(Object.isFrozen(c));
});

test('the cluster source: --manifests, --kubeconfig, $KUBECONFIG, in-cluster, else the bundled example', () => {
  assert.deepEqual(run(['--manifests', 'x.yaml']).source, { kind: 'manifests', path: 'x.yaml', bundled: false });
  assert.deepEqual(run(['--kubeconfig', 'kc']).source, { kind: 'kubernetes', kubeconfig: 'kc' });
  assert.deepEqual(run([], { KUBECONFIG: '/k' }).source, { kind: 'kubernetes', kubeconfig: null });
  assert.deepEqual(run([], {}, () => true).source, { kind: 'kubernetes', kubeconfig: null }, 'in-cluster token present');
  assert.deepEqual(run([]).source, { kind: 'manifests', path: BUNDLED_EXAMPLE, bundled: true });
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
  assert.deepEqual(c.upstream, [
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
});

test('--snapshot: a file in an existing folder, live clusters only, with an interval', () => {
  assert.equal(run(['--kubeconfig', '/k']).snapshot, null);
  assert.deepEqual(run(['--kubeconfig', '/k', '--snapshot', '/var/lib/cdns/index.json']).snapshot, { path: '/var/lib/cdns/index.json', intervalMs: 60_000 });
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
  for (const bad of ['1Ki', '65Mi', 'lots', '-5', '1.5Mi']) assert.equal(failure(['--udp-recv-buffer', bad]).flag, '--udp-recv-buffer', bad);
});
