// The reflectors against the kube-apiserver double, through the real client-node KubeConfig and
// Watch: paged lists, watches from the list's version, bookmarks, 410 in both forms, failures,
// outages, silent watches, expired continue tokens, and stop().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterIndex } from '../../src/index/index.ts';
import {
  loadKubeConfig,
  RESOURCES,
  startKubernetesSource,
  type KubernetesSource,
  type KubernetesSourceOptions,
} from '../../src/kube/kubernetes.ts';
import { ITEMS_PER_TURN, Reflector } from '../../src/kube/reflector.ts';
import type { RawObject } from '../../src/objects/meta.ts';
import type { KubernetesApi } from '../../src/kube/types.ts';
import { createLogger, silentLogger } from '../../src/base/log.ts';
import { Writable } from 'node:stream';
import { PROTOBUF } from '../support/protobuf.ts';
import { endpointSlice, FakeApiServer, namespace, pod, service, type FakeApiServerOptions } from '../support/apiserver.ts';

async function waitFor(what: string, cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Rig {
  api: FakeApiServer;
  index: ClusterIndex;
  source: KubernetesSource;
  status(kind: string): ReturnType<KubernetesSource['statuses']>[number];
}

async function rig(
  t: { after: (fn: () => Promise<unknown>) => void },
  seed: (api: FakeApiServer) => void,
  options: Partial<KubernetesSourceOptions> = {},
  apiOptions: FakeApiServerOptions = {},
): Promise<Rig> {
  const api = await FakeApiServer.start({ bookmarkIntervalMs: 100, ...apiOptions });
  t.after(() => api.close());
  seed(api);
  const kubeConfig = loadKubeConfig(api.writeKubeconfig());
  assert.ok(kubeConfig);
  const index = new ClusterIndex();
  const source = startKubernetesSource({
    kubeConfig,
    index,
    logger: silentLogger(),
    backoff: { initialMs: 20, maxMs: 200 },
    stallTimeoutMs: 1_000,
    ...options,
  });
  t.after(() => source.stop());
  return { api, index, source, status: (kind) => source.statuses().find((s) => s.kind === kind)! };
}

function basicCluster(api: FakeApiServer): void {
  api.apply(namespace('default'));
  api.apply(namespace('shop'));
  api.apply(service('shop', 'web', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }] }));
  api.apply(service('shop', 'db', { clusterIP: 'None' }));
  api.apply(endpointSlice('shop', 'db-abc', 'db', [{ addresses: ['10.244.1.5'], hostname: 'db-0' }]));
  api.apply(pod('shop', 'db-0', '10.244.1.5', { hostname: 'db-0', subdomain: 'db' }));
}

test('a paged list fills the index, then watches start from the list version with bookmarks', async (t) => {
  const { api, index, status } = await rig(
    t,
    (api) => {
      api.apply(namespace('default'));
      for (let i = 0; i < 7; i++) api.apply(service('default', `svc-${i}`, { clusterIP: `10.96.1.${i}` }));
    },
    { pageSize: 3 },
  );
  await waitFor('sync', () => index.synced);
  assert.equal(index.counts().Service, 7);
  assert.deepEqual(index.service('default', 'svc-6')?.clusterIPs, ['10.96.1.6']);
  assert.equal(status('Service').synced, true);

  const lists = api.requests.filter((r) => r.path === '/api/v1/services' && r.query.watch === undefined);
  assert.equal(lists.length, 3, '7 services in pages of 3');
  assert.ok(lists.every((r) => r.query.limit === '3'));
  assert.equal(lists[0]!.query.continue, undefined);
  assert.ok(lists[1]!.query.continue && lists[2]!.query.continue);

  await waitFor('service watch', () => api.openWatches('Service') === 1);
  const watch = api.requests.find((r) => r.path === '/api/v1/services' && r.query.watch === 'true')!;
  assert.equal(watch.query.allowWatchBookmarks, 'true');
  assert.ok(Number(watch.query.timeoutSeconds) >= 300, 'a server-side timeout, as client-go sets');
  assert.equal(watch.query.resourceVersion, '108', 'from the version the list was read at');

  // List pages share connections: a page goes out on a connection an earlier list used, so the
  // lists of four kinds (six requests) need fewer connections than requests. (The total is not
  // asserted: under load a keep-alive socket may be retired between requests.)
  const allLists = api.requests.filter((r) => r.query.watch === undefined);
  const listConnections = new Set(allLists.map((r) => r.connection));
  assert.ok(listConnections.size < allLists.length, `${listConnections.size} connections for ${allLists.length} list requests`);

  const pods = api.requests.find((r) => r.path === '/api/v1/pods')!;
  assert.equal(pods.query.fieldSelector, 'status.phase!=Succeeded,status.phase!=Failed,status.phase!=Unknown');
});

test('a slow first sync says how far it got every progressIntervalMs: kind, objects so far, pages, time', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const { index } = await rig(
    t,
    (api) => {
      api.apply(namespace('default'));
      for (let i = 0; i < 6; i++) api.apply(pod('default', `p-${i}`, `10.244.3.${i}`));
      // Every page takes longer than the progress interval: today's 16 s first sync in slow pages, shrunk.
      api.slowLists(150);
    },
    { pageSize: 2, progressIntervalMs: 100, logger: createLogger('info', { destination }) },
  );
  await waitFor('sync', () => index.synced, 10_000);
  const progress = (kind: string) => lines.filter((l) => l.msg === 'sync in progress' && l.kind === kind);
  const pods = progress('Pod');
  assert.ok(pods.length >= 3, `a line every 100 ms through 3 pages of 150 ms: ${JSON.stringify(pods)}`);
  for (const line of pods) {
    assert.equal(line.component, 'kubernetes');
    assert.ok(typeof line.items === 'number' && typeof line.pages === 'number' && typeof line.ms === 'number', JSON.stringify(line));
  }
  for (let i = 1; i < pods.length; i++) {
    assert.ok(
      (pods[i]!.items as number) >= (pods[i - 1]!.items as number) && (pods[i]!.ms as number) >= (pods[i - 1]!.ms as number),
      'counts only grow',
    );
  }
  assert.ok(
    pods.some((l) => (l.pages as number) >= 1 && (l.items as number) >= 2),
    'pages and objects so far, not only zeros',
  );
  assert.equal(pods[0]!.level, 'info', 'at the default level');
  const synced = lines.find((l) => l.msg === 'synced' && l.kind === 'Pod');
  assert.deepEqual([synced?.items, synced?.pages], [6, 3]);
  // Once synced, the progress lines stop.
  const count = lines.filter((l) => l.msg === 'sync in progress').length;
  await new Promise((r) => setTimeout(r, 350));
  assert.equal(lines.filter((l) => l.msg === 'sync in progress').length, count);
});

test('watched changes reach the index: add, modify, delete, and pods that finish', async (t) => {
  const { api, index, status } = await rig(t, basicCluster);
  await waitFor('sync', () => index.synced);
  await waitFor('watches', () => api.openWatches() === 4);

  api.apply(service('shop', 'cart', { clusterIP: '10.96.0.30' }));
  await waitFor('cart added', () => index.service('shop', 'cart') !== undefined);
  api.apply(service('shop', 'web', { clusterIP: '10.96.0.21' }));
  await waitFor('web modified', () => index.service('shop', 'web')?.clusterIPs[0] === '10.96.0.21');
  api.delete('Service', 'shop', 'cart');
  await waitFor('cart deleted', () => index.service('shop', 'cart') === undefined);

  api.apply(
    endpointSlice('shop', 'db-abc', 'db', [
      { addresses: ['10.244.1.5'], hostname: 'db-0' },
      { addresses: ['10.244.1.6'], hostname: 'db-1', ready: false },
    ]),
  );
  await waitFor('slice modified', () => index.slicesOf('shop', 'db')[0]?.endpoints.length === 2);
  assert.equal(index.slicesOf('shop', 'db')[0]?.endpoints[1]?.ready, false);

  assert.equal(index.hasPodIP('shop', '10.244.1.5'), true);
  // A pod that finishes leaves the field selector: the apiserver sends DELETED.
  api.apply(pod('shop', 'db-0', '10.244.1.5', { hostname: 'db-0', subdomain: 'db', phase: 'Succeeded' }));
  await waitFor('finished pod gone', () => !index.hasPodIP('shop', '10.244.1.5'));
  assert.equal(index.podsBySubdomain('shop', 'db').length, 0);

  const events = status('Service').events;
  assert.equal(events.ADDED, 1);
  assert.equal(events.MODIFIED, 1);
  assert.equal(events.DELETED, 1);
  assert.equal(status('Pod').events.DELETED, 1);
  assert.equal(status('Service').relists, 0);
});

test('bookmarks keep the version fresh: a dropped watch resumes without a relist even after compaction', async (t) => {
  const { api, index, status } = await rig(t, basicCluster);
  await waitFor('sync', () => index.synced);
  api.apply(service('shop', 'other', { clusterIP: '10.96.0.40' })); // moves the global version on
  await waitFor('bookmarks', () => status('Namespace').events.BOOKMARK! >= 2);
  const before = api.requests.length;
  api.compact();
  api.dropWatches('Namespace');
  await waitFor('re-watch', () =>
    api.requests.slice(before).some((r) => r.path === '/api/v1/namespaces' && r.query.watch === 'true' && r.status === 200),
  );
  assert.equal(status('Namespace').relists, 0, 'the bookmark version was newer than the compaction');
  assert.ok(!api.requests.slice(before).some((r) => r.path === '/api/v1/namespaces' && r.query.watch === undefined), 'no list');
});

for (const goneMode of ['http', 'stream'] as const) {
  test(`410 Gone (${goneMode}) relists and follows what changed meanwhile, with no moment a kept name vanishes`, async (t) => {
    // No bookmarks, so the watch's version really falls behind the compaction.
    const { api, index, status } = await rig(t, basicCluster, {}, { goneMode, bookmarkIntervalMs: 60_000 });
    await waitFor('sync', () => index.synced);
    await waitFor('watches', () => api.openWatches() === 4);
    let webMissing = 0;
    index.onChange(() => {
      if (!index.service('shop', 'web')) webMissing++;
    });

    // While the watch is away: one service deleted, one added, one changed; then history is gone.
    api.dropWatches('Service');
    api.delete('Service', 'shop', 'db');
    api.apply(service('shop', 'new', { clusterIP: '10.96.0.50' }));
    api.apply(service('shop', 'web', { clusterIP: '10.96.0.20', ports: [{ name: 'https', port: 443 }] }));
    api.compact();

    await waitFor('relist', () => status('Service').relists === 1);
    assert.equal(index.service('shop', 'db'), undefined);
    assert.deepEqual(index.service('shop', 'new')?.clusterIPs, ['10.96.0.50']);
    assert.equal(index.service('shop', 'web')?.ports[0]?.name, 'https');
    assert.equal(webMissing, 0);
    const gone = api.requests.filter(
      (r) => r.path === '/api/v1/services' && r.query.watch === 'true' && (goneMode === 'http' ? r.status === 410 : true),
    );
    assert.ok(gone.length >= 1);

    // And it watches again from the relist's version.
    api.apply(service('shop', 'after', { clusterIP: '10.96.0.60' }));
    await waitFor('watching again', () => index.service('shop', 'after') !== undefined);
  });
}

test('an expired continue token mid-list starts the list over, and nothing is lost', async (t) => {
  const { api, index, status } = await rig(
    t,
    (api) => {
      api.apply(namespace('default'));
      for (let i = 0; i < 6; i++) api.apply(service('default', `svc-${i}`, { clusterIP: `10.96.2.${i}` }));
    },
    { pageSize: 2 },
  );
  api.slowLists(30);
  // Compact while the first paged list is under way: its next page gets 410.
  await waitFor('first page', () => api.requests.some((r) => r.path === '/api/v1/services'));
  api.compact();
  await waitFor('sync', () => index.synced, 8_000);
  assert.equal(index.counts().Service, 6);
  const expired = api.requests.filter((r) => r.path === '/api/v1/services' && r.status === 410);
  assert.equal(expired.length, 1);
  assert.equal(status('Service').synced, true);
});

test('a relist page with an item that is not JSON fails that relist; the index keeps serving and the retry completes it', async (t) => {
  // Services as big as real objects get, so that the pages are cut and parsed item by item.
  const big = (svc: ReturnType<typeof service>) => ({ ...svc, metadata: { ...svc.metadata, annotations: { note: 'x'.repeat(3_000) } } });
  const { api, index, status } = await rig(
    t,
    (api) => {
      basicCluster(api);
      for (const name of ['web', 'db']) api.apply(big(api.get('Service', 'shop', name)!));
    },
    { pageSize: 2 },
    { bookmarkIntervalMs: 60_000 },
  );
  await waitFor('sync', () => index.synced);
  await waitFor('watches', () => api.openWatches() === 4);
  let dbMissing = 0;
  index.onChange(() => {
    if (!index.service('shop', 'db')) dbMissing++;
  });
  api.apply(big(service('shop', 'late', { clusterIP: '10.96.0.70' })));
  api.breakNextItems(1);
  api.dropWatches('Service');
  api.compact();
  await waitFor('relist after the failed one', () => status('Service').relists === 1 && index.service('shop', 'late') !== undefined);
  assert.equal(dbMissing, 0, 'the kept services never left the index');
  assert.equal(index.counts().Service, 3);
  const listsStarted = api.requests.filter(
    (r) => r.path === '/api/v1/services' && r.query.watch === undefined && r.query.continue === undefined,
  );
  assert.equal(listsStarted.length, 3, 'the first list, the relist the broken page failed, and its retry');
});

test('every kind is listed in protobuf and watched in JSON; both reach the index alike', async (t) => {
  const { api, index } = await rig(t, basicCluster);
  await waitFor('sync', () => index.synced);
  await waitFor('watches', () => api.openWatches() === 4);
  assert.deepEqual(
    index.podsBySubdomain('shop', 'db').map((p) => [p.name, p.hostname, p.ips]),
    [['db-0', 'db-0', ['10.244.1.5']]],
  );
  api.apply(pod('shop', 'db-1', '10.244.1.6', { hostname: 'db-1', subdomain: 'db' }));
  await waitFor('watched pod', () => index.podsBySubdomain('shop', 'db').length === 2);
  api.apply(service('shop', 'web', { clusterIP: '10.96.0.21' }));
  await waitFor('watched service', () => index.service('shop', 'web')?.clusterIPs[0] === '10.96.0.21');
  assert.deepEqual(
    index.slicesOf('shop', 'db').map((s) => s.endpoints.map((e) => e.hostname)),
    [['db-0']],
  );
  assert.ok(index.hasNamespace('shop'));
  const lists = api.requests.filter((r) => r.query.watch === undefined);
  assert.deepEqual(
    lists.map((r) => r.contentType),
    [PROTOBUF, PROTOBUF, PROTOBUF, PROTOBUF],
  );
});

test('endpoint_pod_names (convert option): listed in protobuf and watched in JSON, endpoints are named by their pods', async (t) => {
  const named = (name: string, ip: string, podName: string) => {
    const slice = endpointSlice('shop', name, 'db', [{ addresses: [ip] }]);
    (slice.endpoints as Record<string, unknown>[])[0]!.targetRef = { kind: 'Pod', namespace: 'shop', name: podName };
    return slice;
  };
  const { api, index } = await rig(
    t,
    (api) => {
      basicCluster(api);
      api.apply(named('db-listed', '10.244.1.7', 'db-7'));
    },
    { convert: { endpointPodNames: true } },
  );
  await waitFor('sync', () => index.synced);
  await waitFor('watches', () => api.openWatches() === 4);
  api.apply(named('db-watched', '10.244.1.8', 'db-8'));
  await waitFor('watched slice', () => index.slicesOf('shop', 'db').length === 3);
  const names = index
    .slicesOf('shop', 'db')
    .flatMap((s) => s.endpoints.map((e) => e.hostname))
    .sort();
  assert.deepEqual(names, ['db-0', 'db-7', 'db-8'], 'a hostname stays; the others are their pods');
});

test('noendpoints (convert option): EndpointSlices are never listed or watched, and the index syncs without them', async (t) => {
  const { api, index, source } = await rig(t, basicCluster, { convert: { noEndpoints: true } });
  await waitFor('sync', () => index.synced && source.synced());
  await waitFor('watches', () => api.openWatches() === 3);
  assert.ok(!api.requests.some((r) => r.path.includes('endpointslices')), 'no EndpointSlice request at all');
  assert.deepEqual(index.slicesOf('shop', 'db'), []);
  assert.deepEqual(index.service('shop', 'web')?.clusterIPs, ['10.96.0.20']);
});

test('namespaces (convert option): one namespace is listed and watched alone; other namespaces never reach the index', async (t) => {
  const { api, index } = await rig(t, basicCluster, { convert: { namespaces: ['shop'] } });
  await waitFor('sync', () => index.synced);
  await waitFor('watches', () => api.openWatches() === 4);
  const services = api.requests.filter((r) => r.path === '/api/v1/services');
  assert.ok(
    services.length >= 2 && services.every((r) => r.query.fieldSelector === 'metadata.namespace=shop'),
    'list and watch ask for shop alone',
  );
  api.apply(service('default', 'elsewhere', { clusterIP: '10.96.0.90' }));
  api.apply(service('shop', 'late', { clusterIP: '10.96.0.91' }));
  await waitFor('watched service', () => index.service('shop', 'late') !== undefined);
  assert.equal(index.service('default', 'elsewhere'), undefined);
  assert.ok(index.hasNamespace('shop'));
  assert.ok(!index.hasNamespace('default'), 'the Namespace list asked for shop by name');
});

test('server errors back off and retry while the last index keeps serving', async (t) => {
  const { api, index, status } = await rig(t, basicCluster, {}, { bookmarkIntervalMs: 60_000 });
  await waitFor('sync', () => index.synced);
  await waitFor('watches', () => api.openWatches() === 4);
  api.failNext(3, 500, { kind: 'Service', watch: true });
  api.failNext(2, 503, { kind: 'Service', watch: false });
  api.dropWatches('Service');
  api.apply(service('shop', 'late', { clusterIP: '10.96.0.70' }));
  api.compact(); // the re-watch will 410 once the 500s are over, and the relist meets the 503s
  // Meanwhile the index still answers for what it had.
  assert.deepEqual(index.service('shop', 'web')?.clusterIPs, ['10.96.0.20']);
  await waitFor('recovered', () => index.service('shop', 'late') !== undefined);
  assert.ok(status('Service').restarts >= 5, `restarts: ${status('Service').restarts}`);
  const statuses = api.requests.filter((r) => r.path === '/api/v1/services').map((r) => r.status);
  assert.deepEqual(
    statuses.filter((s) => s >= 500),
    [500, 500, 500, 503, 503],
  );
});

test('the API server down after sync: the index keeps serving, and the cluster as it came back is followed exactly', async (t) => {
  const { api, index, status } = await rig(t, basicCluster, {}, { bookmarkIntervalMs: 60_000 });
  await waitFor('sync', () => index.synced);
  await waitFor('watches', () => api.openWatches() === 4);
  await api.pause();
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(index.service('shop', 'web')?.clusterIPs, ['10.96.0.20'], 'still serving during the outage');
  assert.ok(index.synced);
  // The cluster moved on while we could not see it, and its history was compacted.
  api.delete('Service', 'shop', 'web');
  api.apply(service('shop', 'fresh', { clusterIP: '10.96.0.80' }));
  api.delete('Pod', 'shop', 'db-0');
  api.compact();
  await api.resume();
  await waitFor('caught up', () => index.service('shop', 'fresh') !== undefined && index.service('shop', 'web') === undefined);
  await waitFor('pod gone', () => !index.hasPodIP('shop', '10.244.1.5'));
  assert.ok(status('Service').restarts >= 1);
  assert.equal(status('Service').relists, 1);
});

test('the API server down at start: not synced, retrying, synced once it answers', async (t) => {
  const api = await FakeApiServer.start({ bookmarkIntervalMs: 100 });
  t.after(() => api.close());
  basicCluster(api);
  const path = api.writeKubeconfig();
  await api.pause();
  const index = new ClusterIndex();
  const source = startKubernetesSource({
    kubeConfig: loadKubeConfig(path)!,
    index,
    logger: silentLogger(),
    backoff: { initialMs: 20, maxMs: 100 },
  });
  t.after(() => source.stop());
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(index.synced, false);
  assert.deepEqual(index.unsyncedKinds().sort(), ['EndpointSlice', 'Namespace', 'Pod', 'Service']);
  assert.ok(source.statuses().every((s) => s.restarts >= 1 && !s.synced));
  await api.resume();
  await waitFor('sync after the outage', () => index.synced);
  assert.ok(index.service('shop', 'web'));
});

test('a watch that goes silent (no events, no bookmarks) is detected and restarted', async (t) => {
  const { api, index, status } = await rig(t, basicCluster, { stallTimeoutMs: 300 });
  await waitFor('sync', () => index.synced);
  await waitFor('watches', () => api.openWatches() === 4);
  api.silenceWatches(true);
  api.apply(service('shop', 'unseen', { clusterIP: '10.96.0.90' })); // lost in the silent stream
  await waitFor('stall detected', () => status('Service').restarts >= 1, 3_000);
  api.silenceWatches(false);
  await waitFor('caught up after restart', () => index.service('shop', 'unseen') !== undefined, 3_000);
});

test('stop() ends every request, and nothing reaches the index afterwards', async (t) => {
  const { api, index, source } = await rig(t, basicCluster);
  await waitFor('sync', () => index.synced);
  await waitFor('watches', () => api.openWatches() === 4);
  await source.stop();
  await waitFor('watches closed', () => api.openWatches() === 0);
  const requests = api.requests.length;
  api.apply(service('shop', 'after-stop', { clusterIP: '10.96.0.99' }));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(index.service('shop', 'after-stop'), undefined);
  assert.equal(api.requests.length, requests);
});

test('EndpointSlice changes with a trigger time report DNS programming latency by service kind', async (t) => {
  const seen: { kind: string; triggerMs: number }[] = [];
  let watchToAnswer = 0;
  const { api, index } = await rig(t, basicCluster, {
    onProgramming: (kind, triggerMs) => seen.push({ kind, triggerMs }),
    onWatchToAnswer: () => watchToAnswer++,
  });
  await waitFor('sync', () => index.synced);
  await waitFor('watches', () => api.openWatches() === 4);
  const trigger = '2026-11-23T01:00:00Z';
  const slice = endpointSlice('shop', 'web-1', 'web', [{ addresses: ['10.244.2.1'] }]);
  slice.metadata.annotations = { 'endpoints.kubernetes.io/last-change-trigger-time': trigger };
  api.apply(slice);
  const headless = endpointSlice('shop', 'db-abc', 'db', [{ addresses: ['10.244.1.7'] }]);
  headless.metadata.annotations = { 'endpoints.kubernetes.io/last-change-trigger-time': trigger };
  headless.metadata.labels = {
    'kubernetes.io/service-name': 'db',
    'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
  };
  api.apply(headless);
  await waitFor('both observed', () => seen.length === 2);
  assert.deepEqual(seen, [
    { kind: 'cluster_ip', triggerMs: Date.parse(trigger) },
    { kind: 'headless_with_selector', triggerMs: Date.parse(trigger) },
  ]);
  assert.ok(watchToAnswer >= 2);
});

test('a list page is converted in slices, with turns of the event loop between them', async (t) => {
  const index = new ClusterIndex();
  let turns = 0;
  let ticking = true;
  const tick = () => {
    turns++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  t.after(() => {
    ticking = false;
  });
  const seenAt: number[] = [];
  const count = ITEMS_PER_TURN * 4;
  const api: KubernetesApi = {
    async list() {
      return { metadata: { resourceVersion: '5' }, items: { [Symbol.iterator]: () => itemsOf(count, seenAt, () => turns) } };
    },
    async watch(_path, _params, _onEvent, onDone) {
      return { abort: () => onDone(null) };
    },
  };
  const reflector = new Reflector({ resource: RESOURCES.Service, api, index, logger: silentLogger() });
  reflector.start();
  t.after(() => reflector.stop());
  await waitFor('listed', () => reflector.status().synced);
  assert.equal(index.counts().Service, count);
  // Each slice of ITEMS_PER_TURN items is converted within one turn, and a turn passes between slices.
  for (let i = 0; i < count; i += ITEMS_PER_TURN) {
    assert.equal(seenAt[i + ITEMS_PER_TURN - 1], seenAt[i], `slice at ${i} converted in one turn`);
    if (i > 0) assert.ok(seenAt[i]! > seenAt[i - 1]!, `a turn before the slice at ${i}`);
  }
});

function* itemsOf(count: number, seenAt: number[], turns: () => number): Generator<RawObject> {
  for (let i = 0; i < count; i++) {
    seenAt.push(turns());
    yield { metadata: { name: `svc-${i}`, namespace: 'a' }, spec: { clusterIP: '10.96.0.1' } };
  }
}
