// The snapshot's lines written as bytes (snapshot-lines.ts) are byte for byte the text of
// records.ts objectLine (JSON.stringify of toObject), for every shape of record and every string
// JSON escapes; a line that does not fit the buffer commits nothing and is written whole by the
// next try; a view's lines come out the same whatever the buffer size and the slices.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterIndex } from '../../src/index/index.ts';
import { type AnyRecord, type Kind, KINDS, objectLine } from '../../src/objects/kinds.ts';
import type { EndpointSliceRecord } from '../../src/objects/endpoint-slice.ts';
import type { PodRecord } from '../../src/objects/pod.ts';
import type { ServiceRecord } from '../../src/objects/service.ts';
import {
  DONE,
  FULL,
  LineBuffer,
  SLICE_OVER,
  ViewLines,
  namespaceLine,
  plainPodLine,
  podLine,
  serviceLine,
  sliceLine,
  tablePodLine,
} from '../../src/index/snapshot-lines.ts';

/** Strings JSON.stringify writes in every way it has: plain, short escapes, \u00XX, UTF-8 of 2-4 bytes, lone surrogates. */
const ODD = [
  'plain',
  'quote"d',
  'back\\slash',
  'ctl\b\t\n\f\r',
  '\u0000\u0001\u001f\u007f',
  'é-名-😀',
  'lone\ud800',
  'lone\udfff',
  '\udc00\ud800',
  '\udfff\udc00',
  'sep\u2028\u2029',
  'a/b',
  '',
];

function lineOf(write: (out: LineBuffer) => void, size = 64 * 1024): string {
  const out = new LineBuffer(size);
  out.begin();
  write(out);
  assert.equal(out.end(), true, 'fits');
  return out.buffer.toString('utf8', 0, out.used);
}

const svc = (over: Partial<ServiceRecord>): ServiceRecord => ({
  namespace: 'ns',
  name: 's',
  kind: 'ClusterIP',
  clusterIPs: ['10.96.0.1'],
  externalName: '',
  ports: [],
  publishNotReadyAddresses: false,
  ...over,
});
const slice = (over: Partial<EndpointSliceRecord>): EndpointSliceRecord => ({
  namespace: 'ns',
  name: 's-abc',
  service: 's',
  endpoints: [],
  ports: [],
  ...over,
});
const pod = (over: Partial<PodRecord>): PodRecord => ({
  namespace: 'ns',
  name: 'p',
  ips: ['10.244.0.1'],
  hostname: '',
  subdomain: '',
  ready: true,
  ...over,
});
const ports = [
  { name: 'http', protocol: 'tcp', port: 80 },
  { name: '', protocol: 'udp', port: 65535 },
  { name: 'x', protocol: 'sctp', port: 0 },
];

const ROWS: { why: string; kind: Kind; record: AnyRecord }[] = [
  { why: 'a namespace', kind: 'Namespace', record: { name: 'default' } },
  { why: 'a ClusterIP service without ports', kind: 'Service', record: svc({}) },
  {
    why: 'a dual-stack service with named and unnamed ports',
    kind: 'Service',
    record: svc({ clusterIPs: ['10.96.0.2', 'fd00::2'], ports }),
  },
  {
    why: 'a headless service publishing not-ready addresses',
    kind: 'Service',
    record: svc({ kind: 'Headless', clusterIPs: [], ports, publishNotReadyAddresses: true }),
  },
  { why: 'a headless service without ports', kind: 'Service', record: svc({ kind: 'Headless', clusterIPs: [] }) },
  {
    why: 'an ExternalName service',
    kind: 'Service',
    record: svc({ kind: 'ExternalName', clusterIPs: [], externalName: 'db.example.com', ports: [ports[0]!] }),
  },
  { why: 'a slice without endpoints or ports', kind: 'EndpointSlice', record: slice({}) },
  {
    why: 'a slice with no service label',
    kind: 'EndpointSlice',
    record: slice({ service: '', endpoints: [{ addresses: ['10.1.0.1'], hostname: '', ready: true }] }),
  },
  {
    why: 'a slice of ready and not-ready endpoints, with and without hostnames, several addresses',
    kind: 'EndpointSlice',
    record: slice({
      endpoints: [
        { addresses: ['10.1.0.1'], hostname: 'pet-0', ready: true },
        { addresses: ['10.1.0.2', 'fd00::2'], hostname: '', ready: false },
        { addresses: [], hostname: 'pet-2', ready: false },
        { addresses: ['10.1.0.3'], hostname: '', ready: true },
      ],
      ports,
    }),
  },
  { why: 'a named pod', kind: 'Pod', record: pod({ hostname: 'h', subdomain: 'sub' }) },
  { why: 'a pod with a hostname only', kind: 'Pod', record: pod({ hostname: 'h' }) },
  { why: 'a pod with a subdomain only, not ready', kind: 'Pod', record: pod({ subdomain: 'sub', ready: false }) },
  { why: 'a dual-stack pod', kind: 'Pod', record: pod({ ips: ['10.244.0.2', 'fd00::3'] }) },
  { why: 'a pod without addresses', kind: 'Pod', record: pod({ ips: [], ready: false }) },
];
// Every field that holds a string, with every odd string.
for (const s of ODD) {
  ROWS.push(
    { why: `namespace ${JSON.stringify(s)}`, kind: 'Namespace', record: { name: s } },
    {
      why: `service strings ${JSON.stringify(s)}`,
      kind: 'Service',
      record: svc({ namespace: s, name: s, clusterIPs: [s, s], ports: [{ name: s, protocol: s, port: 1 }] }),
    },
    { why: `external name ${JSON.stringify(s)}`, kind: 'Service', record: svc({ kind: 'ExternalName', clusterIPs: [], externalName: s }) },
    {
      why: `slice strings ${JSON.stringify(s)}`,
      kind: 'EndpointSlice',
      record: slice({
        namespace: s,
        name: s,
        service: s,
        endpoints: [{ addresses: [s], hostname: s, ready: true }],
        ports: [{ name: s, protocol: s, port: 2 }],
      }),
    },
    {
      why: `pod strings ${JSON.stringify(s)}`,
      kind: 'Pod',
      record: pod({ namespace: s, name: s, ips: [s], hostname: s, subdomain: `${s}x` }),
    },
  );
}

const WRITERS = { Namespace: namespaceLine, Service: serviceLine, EndpointSlice: sliceLine, Pod: podLine } as unknown as Record<
  Kind,
  (out: LineBuffer, record: AnyRecord) => void
>;

test('every line is the text objectLine writes for the record', () => {
  for (const { why, kind, record } of ROWS) {
    const line = lineOf((out) => WRITERS[kind](out, record));
    assert.equal(line, objectLine(kind, record), why);
    assert.deepEqual(JSON.parse(line), JSON.parse(objectLine(kind, record)), why);
  }
});

test('a plain pod from its key and packed address is the line of its record', () => {
  const cases: [string, number | string, string[]][] = [
    ['ns/p', 0x0af40001, ['10.244.0.1']],
    ['ns/edge', 0xffffffff | 0, ['255.255.255.255']],
    ['ns/zero', 0, ['0.0.0.0']],
    ['ns/v6', 'fd00::1', ['fd00::1']],
    ['ns/dual', '10.0.0.1 fd00::1', ['10.0.0.1', 'fd00::1']],
    ['ns/none', '', []],
    ...ODD.map((s) => [`${s}/${s}`.replace(/^\//, 'x/'), 0x7f000001, ['127.0.0.1']] as [string, number, string[]]),
  ];
  const encoder = new TextEncoder();
  for (const [key, ips, list] of cases) {
    const slash = key.indexOf('/');
    const record = pod({ namespace: key.slice(0, slash), name: key.slice(slash + 1), ips: list });
    assert.equal(
      lineOf((out) => plainPodLine(out, key, ips)),
      objectLine('Pod', record),
      key,
    );
    if (typeof ips !== 'number') continue;
    // The table keeps the key as UTF-8 (a lone surrogate becomes U+FFFD there, as in the table's own keys).
    const bytes = encoder.encode(key);
    const arena = new Uint8Array(bytes.length + 5);
    arena.set([bytes.length & 255, bytes.length >> 8], 3);
    arena.set(bytes, 5);
    const decoded = new TextDecoder().decode(bytes);
    const fromTable = pod({ namespace: decoded.slice(0, decoded.indexOf('/')), name: decoded.slice(decoded.indexOf('/') + 1), ips: list });
    assert.equal(
      lineOf((out) => tablePodLine(out, arena, 3, ips)),
      objectLine('Pod', fromTable),
      `${key} from the table`,
    );
  }
});

test('a line that does not fit commits nothing; grow() makes room for one longer than the buffer', () => {
  const out = new LineBuffer(64);
  out.begin();
  namespaceLine(out, { name: 'a' });
  assert.equal(out.end(), true);
  const first = out.used;
  const long = svc({ name: 'x'.repeat(200) });
  out.begin();
  serviceLine(out, long);
  assert.equal(out.end(), false, 'does not fit');
  assert.equal(out.used, first, 'nothing of it is committed');
  // Room is checked for the worst case (6 bytes a UTF-16 unit), so it may take a few.
  let grown = 0;
  for (; grown < 10; grown++) {
    out.grow();
    out.begin();
    serviceLine(out, long);
    if (out.end()) break;
  }
  assert.ok(grown < 10 && out.buffer.length <= 64 * 2 ** 6, `fits after ${grown + 1} grow(), in ${out.buffer.length} bytes`);
  assert.equal(
    out.buffer.toString('utf8', 0, out.used),
    objectLine('Namespace', { name: 'a' }) + objectLine('Service', long),
    'the first line kept across grow()',
  );
});

test("a view's lines are the index's, in any buffer size and however the slices fall", () => {
  const index = new ClusterIndex();
  for (const row of ROWS) index.upsert(row.kind, row.record as never);
  for (let i = 0; i < 3_000; i++)
    index.upsert('Pod', pod({ namespace: `ns-${i % 5}`, name: `p-${i}`, ips: [`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`] }));
  index.upsert('Pod', pod({ name: 'v6-only', ips: ['fd00::9'] }));
  const expected = KINDS.flatMap((kind) => [...index.all(kind)].map((r) => objectLine(kind, r))).sort();
  for (const [size, sliceMs] of [
    [1 << 20, 1e9],
    [256, 1e9],
    [4096, 0],
  ] as const) {
    const view = index.view();
    const lines = new ViewLines(view);
    const out = new LineBuffer(size);
    let text = '';
    const results = new Set<number>();
    for (let calls = 0; calls < 1e6; calls++) {
      // sliceMs 0: every slice is over at once (after the lines between two looks at the clock).
      const done = lines.fill(out, sliceMs === 0 ? 0 : performance.now() + sliceMs);
      results.add(done);
      if (done === FULL && out.used === 0) out.grow();
      text += out.buffer.toString('utf8', 0, out.used);
      out.used = 0;
      if (done === DONE) break;
    }
    view.pods.table.release();
    const written = text
      .split('\n')
      .slice(0, -1)
      .map((l) => `${l}\n`);
    assert.equal(lines.objects, expected.length, `size ${size}: the count`);
    assert.deepEqual(written.sort(), expected, `size ${size}, slices of ${sliceMs} ms`);
    if (size === 256) assert.ok(results.has(FULL), 'the small buffer filled');
    if (sliceMs === 0) assert.ok(results.has(SLICE_OVER), 'the slices ran out');
  }
});
