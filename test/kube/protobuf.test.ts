// The protobuf list reader against lists written by the double's encoder, which takes its field
// numbers from the real .proto files (test/support/k8s-proto-schema.ts): the reader's own numbers
// are written by hand, so each side checks the other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readList, readStatus } from '../../src/kube/protobuf.ts';
import { endpointSliceKind, readEndpointSlice, toEndpointSlice } from '../../src/objects/endpoint-slice.ts';
import type { ItemReader, RawObject } from '../../src/objects/meta.ts';
import { readNamespace, toNamespace } from '../../src/objects/namespace.ts';
import { readPod, toPod } from '../../src/objects/pod.ts';
import { readService, toService } from '../../src/objects/service.ts';
import { ProtobufError } from '../../src/objects/wire.ts';
import { encodeList, encodeMessage, envelope } from '../support/protobuf.ts';
import { endpointSlice, namespace, pod, service } from '../support/apiserver.ts';
import { clusterObjects, dressPod } from '../../bench/synthetic.ts';

function podBytes(obj: Record<string, unknown>): Buffer {
  const { kind: _k, apiVersion: _a, ...rest } = obj;
  return encodeMessage('Pod', rest);
}

function listOf(items: readonly Buffer[], metadata: Record<string, unknown> = { resourceVersion: '42' }): Buffer {
  return envelope('v1', 'PodList', encodeList(metadata, items));
}

function readAll(body: Buffer): { metadata: object; items: RawObject[] } {
  const page = readList(body, readPod);
  return { metadata: page.metadata, items: [...page.items] };
}

const synthetic = [...clusterObjects(60)].filter((o) => o.kind === 'Pod').slice(0, 40) as unknown as Record<string, unknown>[];

test('pods read from protobuf make the same records as from JSON: plain, dressed as the apiserver sends them, and every case toPod tells apart', () => {
  const deleting = pod('a', 'going', '10.244.0.9') as Record<string, unknown>;
  (deleting.metadata as Record<string, unknown>).deletionTimestamp = '2026-11-23T10:00:00Z';
  const dualStack = pod('a', 'dual', '10.244.0.10', { hostname: 'Web-0', subdomain: 'Web' }) as Record<string, unknown>;
  (dualStack.status as Record<string, unknown>).podIPs = [{ ip: '10.244.0.10' }, { ip: 'fd00::a' }];
  const legacy = pod('a', 'legacy', '10.244.0.11') as Record<string, unknown>;
  delete (legacy.status as Record<string, unknown>).podIPs;
  const pending = pod('a', 'pending', '') as Record<string, unknown>;
  (pending.status as Record<string, unknown>).phase = 'Pending';
  (pending.status as Record<string, unknown>).podIPs = [];
  // Ready is found among the others by its type, and its own status counts, not theirs.
  const notReadyAmongOthers = pod('a', 'starting', '10.244.0.14') as Record<string, unknown>;
  (notReadyAmongOthers.status as Record<string, unknown>).conditions = [
    { type: 'PodScheduled', status: 'True' },
    { type: 'Ready', status: 'False', reason: 'ContainersNotReady' },
    { type: 'ContainersReady', status: 'True' },
  ];
  (notReadyAmongOthers.metadata as Record<string, unknown>).resourceVersion = '1234';
  const readyLast = pod('a', 'started', '10.244.0.15') as Record<string, unknown>;
  (readyLast.status as Record<string, unknown>).conditions = [
    { type: 'Readiness', status: 'False' },
    { type: 'ready', status: 'False' },
    { type: 'Ready', status: 'True' },
  ];
  const objects = [
    notReadyAmongOthers,
    readyLast,
    ...synthetic,
    ...synthetic.map((p) => dressPod(p as never) as unknown as Record<string, unknown>),
    deleting,
    dualStack,
    legacy,
    pending,
    pod('a', 'done', '10.244.0.12', { phase: 'Succeeded' }) as Record<string, unknown>,
    pod('a', 'not-ready', '10.244.0.13', { ready: false }) as Record<string, unknown>,
  ];
  const { metadata, items } = readAll(listOf(objects.map(podBytes), { resourceVersion: '42', continue: 'next:3', remainingItemCount: 7 }));
  assert.deepEqual(metadata, { resourceVersion: '42', continue: 'next:3' });
  assert.equal(items.length, objects.length);
  for (const [i, obj] of objects.entries()) {
    assert.deepEqual(toPod(items[i] as never), toPod(obj as never), `pod ${i}: ${JSON.stringify(obj).slice(0, 200)}`);
  }
  // Spot checks that the comparison above is not of two nulls or two empties.
  assert.deepEqual(toPod(items.at(-5) as never), {
    namespace: 'a',
    name: 'dual',
    ips: ['10.244.0.10', 'fd00::a'],
    hostname: 'web-0',
    subdomain: 'web',
    ready: true,
  });
  assert.equal(toPod(items.at(-6) as never), null, 'being deleted');
  assert.equal(toPod(items.at(-2) as never), null, 'Succeeded');
  assert.equal(toPod(items.at(-1) as never)?.ready, false);
  assert.equal(toPod(items[0] as never)?.ready, false, 'Ready False among True conditions');
  assert.equal(toPod(items[1] as never)?.ready, true, 'Ready True after look-alikes');
  // An item's resourceVersion is not read (a list resumes from the list's own); podIP only when
  // there is no podIPs, which toPod then reads.
  assert.equal(items[0]!.metadata?.resourceVersion, undefined);
  assert.equal((items[0]!.status as { podIP?: string }).podIP, undefined);
  assert.equal((items.at(-4)!.status as { podIP?: string }).podIP, '10.244.0.11', 'legacy: no podIPs');
});

test('a dressed pod is a third smaller in protobuf, and its unread fields are skipped, not decoded', () => {
  const dressed = dressPod(synthetic[0] as never) as unknown as Record<string, unknown>;
  const bytes = podBytes(dressed);
  const json = JSON.stringify(dressed);
  assert.ok(bytes.length < json.length * 0.8, `${bytes.length} protobuf bytes against ${json.length} of JSON`);
  const read = readPod(bytes, 0, bytes.length);
  assert.deepEqual(Object.keys(read.metadata!).sort(), ['name', 'namespace']);
  assert.deepEqual(Object.keys(read.spec as object), []);
});

test('fields a newer apiserver might add, of every wire type, are skipped', () => {
  const plain = podBytes(pod('a', 'p', '10.244.0.1') as Record<string, unknown>);
  // Field 999 as a varint, a fixed64, a length-delimited value and a fixed32, before the pod's own.
  const unknown = Buffer.from([
    0xb8,
    0x3e,
    0x96,
    0x01, // 999 varint 150
    0xb9,
    0x3e,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8, // 999 fixed64
    0xba,
    0x3e,
    0x03,
    0x61,
    0x62,
    0x63, // 999 bytes "abc"
    0xbd,
    0x3e,
    1,
    2,
    3,
    4, // 999 fixed32
  ]);
  const withUnknown = Buffer.concat([unknown, plain]);
  assert.deepEqual(readPod(withUnknown, 0, withUnknown.length), readPod(plain, 0, plain.length));
});

test('a body that is not a well-formed list fails with a ProtobufError that says where', () => {
  const good = listOf([podBytes(pod('a', 'p', '10.244.0.1') as Record<string, unknown>)]);
  const cases: [string, Buffer, RegExp][] = [
    ['JSON', Buffer.from('{"kind":"PodList"}'), /k8s protobuf prefix/],
    ['cut short', good.subarray(0, good.length - 10), /truncated/],
    ['no object', Buffer.from([0x6b, 0x38, 0x73, 0x00]), /holds no object/],
    ['a group', Buffer.concat([good.subarray(0, 4), Buffer.from([0x0b])]), /wire type 3/],
    ['field 0', Buffer.concat([good.subarray(0, 4), Buffer.from([0x02, 0x00])]), /field number 0/],
    [
      'an endless varint',
      Buffer.concat([good.subarray(0, 4), Buffer.from([0x28]), Buffer.alloc(11, 0xff), Buffer.from([1])]),
      /varint over 10 bytes/,
    ],
    ['a compressed envelope', Buffer.concat([good, Buffer.from([0x1a, 0x04]), Buffer.from('gzip')]), /content encoding "gzip"/],
    [
      'a Status, not a list',
      envelope('v1', 'Status', encodeMessage('Status', { status: 'Failure', message: 'no', code: 500 })),
      /a Status, not a list/,
    ],
    ['no kind', Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x12, 0x00])]), /a message without a kind, not a list/],
  ];
  for (const [what, body, message] of cases) {
    assert.throws(
      () => readAll(body),
      (err: unknown) => err instanceof ProtobufError && message.test(err.message),
      what,
    );
  }
  // An item whose bytes are not a pod fails when the iteration reaches it, after the good ones.
  const page = readList(listOf([podBytes(pod('a', 'p', '10.244.0.1') as Record<string, unknown>), Buffer.from([0x0f])]), readPod);
  const it = page.items[Symbol.iterator]();
  assert.equal(it.next().value?.metadata?.name, 'p');
  assert.throws(() => it.next(), /wire type 7/);
});

test('a Status in protobuf gives its message and reason', () => {
  const body = envelope(
    'v1',
    'Status',
    encodeMessage('Status', { metadata: {}, status: 'Failure', message: 'too old resource version: 5 (9)', reason: 'Expired', code: 410 }),
  );
  assert.deepEqual(readStatus(body), { message: 'too old resource version: 5 (9)', reason: 'Expired' });
});

/** Each object through protobuf and back gives the record its JSON gives. */
function sameRecords(
  kind: string,
  reader: ItemReader,
  convert: (obj: never) => unknown,
  objects: readonly Record<string, unknown>[],
): unknown[] {
  const items = objects.map((obj) => {
    const { kind: _k, apiVersion: _a, ...rest } = obj;
    return encodeMessage(kind, rest);
  });
  const read = [...readList(envelope('v1', `${kind}List`, encodeList({ resourceVersion: '7' }, items)), reader).items];
  const records = read.map((obj) => convert(obj as never));
  assert.deepEqual(
    records,
    objects.map((obj) => convert(obj as never)),
  );
  return records;
}

test('services, endpoint slices and namespaces read from protobuf make the same records as from JSON', () => {
  const services = sameRecords('Service', readService, toService, [
    service('a', 'web', {
      clusterIP: '10.96.0.10',
      ports: [{ name: 'HTTP', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }, { port: 8080 }],
    }),
    service('a', 'dual', { clusterIPs: ['10.96.0.11', 'fd00::11'], ports: [{ name: 'https', port: 443 }] }),
    service('a', 'headless', { clusterIP: 'None', publishNotReadyAddresses: true }),
    service('a', 'ext', { type: 'ExternalName', externalName: 'Example.COM.' }),
    {
      ...service('a', 'full', { clusterIP: '10.96.0.12' }),
      spec: {
        type: 'LoadBalancer',
        clusterIP: '10.96.0.12',
        clusterIPs: ['10.96.0.12'],
        selector: { app: 'x' },
        sessionAffinity: 'None',
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        internalTrafficPolicy: 'Cluster',
        externalTrafficPolicy: 'Cluster',
        allocateLoadBalancerNodePorts: true,
        ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 'http', nodePort: 30080 }],
      },
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.1', ipMode: 'VIP' }] } },
    },
  ] as Record<string, unknown>[]);
  assert.deepEqual((services[0] as { ports: unknown }).ports, [
    { name: 'http', protocol: 'tcp', port: 80 },
    { name: 'dns', protocol: 'udp', port: 53 },
    { name: '', protocol: 'tcp', port: 8080 },
  ]);
  assert.equal((services[2] as { publishNotReadyAddresses: boolean }).publishNotReadyAddresses, true);
  const withOtherLabels = endpointSlice('a', 'web-abc', 'Web', [
    { addresses: ['10.244.0.1'], hostname: 'Web-0' },
    { addresses: ['10.244.0.2'], ready: false },
  ]);
  withOtherLabels.metadata.labels = {
    'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
    'kubernetes.io/service-name': 'Web',
    'kubernetes.io/service-name-x': 'no',
  };
  const unsetReady = endpointSlice('a', 'web-def', 'web', [{ addresses: ['10.244.0.3'] }], [{ name: 'http', port: 80 }]);
  (unsetReady.endpoints as { conditions: unknown }[])[0]!.conditions = {};
  const slices = sameRecords('EndpointSlice', readEndpointSlice, toEndpointSlice, [
    withOtherLabels,
    unsetReady,
    endpointSlice('a', 'web-v6', 'web', [{ addresses: ['fd00::1'] }], [{ name: 'http', port: 80 }], 'IPv6'),
    endpointSlice('a', 'web-fqdn', 'web', [{ addresses: ['db.example.com'] }], [], 'FQDN'),
    { ...endpointSlice('a', 'no-port', 'web', [{ addresses: ['10.244.0.4'] }]), ports: [{ name: 'all' }] } as Record<string, unknown>,
    { kind: 'EndpointSlice', metadata: { name: 'bare', namespace: 'a' }, addressType: 'IPv4' },
  ] as Record<string, unknown>[]);
  assert.equal((slices[0] as { service: string }).service, 'web');
  assert.deepEqual(
    (slices[0] as { endpoints: { ready: boolean }[] }).endpoints.map((e) => e.ready),
    [true, false],
  );
  assert.equal((slices[1] as { endpoints: { ready: boolean }[] }).endpoints[0]!.ready, true, 'unset ready counts as ready');
  // endpoint_pod_names reads targetRef from protobuf as from JSON (and only then).
  const named = endpointSlice('a', 'web-pods', 'web', [{ addresses: ['10.244.0.5'] }, { addresses: ['10.244.0.6'], hostname: 'pet' }]);
  (named.endpoints as Record<string, unknown>[])[0]!.targetRef = { kind: 'Pod', namespace: 'a', name: 'web-5', uid: 'u1' };
  (named.endpoints as Record<string, unknown>[])[1]!.targetRef = { kind: 'Pod', namespace: 'a', name: 'web-6', uid: 'u2' };
  const podNames = endpointSliceKind({ endpointPodNames: true });
  const [withNames] = sameRecords('EndpointSlice', podNames.protobuf, podNames.convert, [named]) as { endpoints: { hostname: string }[] }[];
  assert.deepEqual(
    withNames!.endpoints.map((e) => e.hostname),
    ['web-5', 'pet'],
  );
  const [without] = sameRecords('EndpointSlice', readEndpointSlice, toEndpointSlice, [named]) as { endpoints: { hostname: string }[] }[];
  assert.deepEqual(
    without!.endpoints.map((e) => e.hostname),
    ['', 'pet'],
  );
  assert.deepEqual(
    sameRecords('Namespace', readNamespace, toNamespace, [
      namespace('Default'),
      { ...namespace('kube-system'), status: { phase: 'Active' } },
    ] as Record<string, unknown>[]),
    [{ name: 'default' }, { name: 'kube-system' }],
  );
});
