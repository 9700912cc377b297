// The query counters read back their own typed-array layout as labelled samples (for /metrics and
// the --workers sums); each slot count() bumps comes back under the labels it was counted with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QueryCounters } from '../../src/server/counters.ts';

const servers = ['dns://:53', 'dns://127.0.0.1:5353'];
const counters = () => new QueryCounters({ servers: 2, zones: ['cluster.local'], plugins: ['kubernetes', 'forward'] });

test('count() comes back from samples() under its labels, in CoreDNS order, zeros left out', () => {
  const c = counters();
  // server 1, zone cluster.local., tcp, IPv6, SRV, DO, 60 bytes in, NXDOMAIN from kubernetes, 120 out
  c.count(1, 2, 1, 1, 33, true, 60, 3, 1, 120);
  c.count(1, 2, 1, 1, 33, true, 60, 3, 1, 120);
  c.count(0, 1, 0, 0, 65280, false, 40, 30, 2, 80);
  assert.deepEqual(
    [...c.samples('requests', servers)],
    [
      { labels: { server: 'dns://:53', zone: '.', view: '', proto: 'udp', family: '1', type: 'other' }, value: 1 },
      { labels: { server: 'dns://127.0.0.1:5353', zone: 'cluster.local.', view: '', proto: 'tcp', family: '2', type: 'SRV' }, value: 2 },
    ],
  );
  assert.deepEqual(
    [...c.samples('responses', servers)].map((s) => [s.labels, s.value]),
    [
      [{ server: 'dns://:53', zone: '.', view: '', rcode: 'other', plugin: 'forward' }, 1],
      [{ server: 'dns://127.0.0.1:5353', zone: 'cluster.local.', view: '', rcode: 'NXDOMAIN', plugin: 'kubernetes' }, 2],
    ],
  );
  assert.deepEqual(
    [...c.samples('doRequests', servers)],
    [{ labels: { server: 'dns://127.0.0.1:5353', zone: 'cluster.local.', view: '' }, value: 2 }],
  );
  const sizes = [...c.histogramSamples('responseSize', servers)];
  assert.deepEqual(
    sizes.map((s) => s.labels),
    [
      { server: 'dns://:53', zone: '.', view: '', proto: 'udp' },
      { server: 'dns://127.0.0.1:5353', zone: 'cluster.local.', view: '', proto: 'tcp' },
    ],
  );
  assert.equal(sizes[1]?.histogram.cumulative(sizes[1].series).at(-1), 2);
});

test('a listener without a name is reported under the first one', () => {
  const c = counters();
  c.observeDuration(1, 0, 0.001);
  assert.deepEqual(
    [...c.histogramSamples('duration', ['dns://:53'])].map((s) => s.labels),
    [{ server: 'dns://:53', zone: 'dropped', view: '' }],
  );
});

test('toJSON / add / clear: the --workers sums, slot by slot', () => {
  const a = counters();
  const b = counters();
  a.count(0, 2, 0, 0, 1, false, 40, 0, 1, 80);
  b.count(0, 2, 0, 0, 1, false, 40, 0, 1, 80);
  b.observeDuration(0, 2, 0.002);
  a.add(JSON.parse(JSON.stringify(b)));
  assert.deepEqual(
    [...a.samples('requests', servers)].map((s) => s.value),
    [2],
  );
  assert.equal(a.duration.count, 1);
  assert.equal(a.requestSize.count, 2);
  a.clear();
  assert.deepEqual([...a.samples('responses', servers)], []);
  assert.deepEqual([...a.histogramSamples('requestSize', servers)], []);
});
