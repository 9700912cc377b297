// ClientNodeApi's lists against the kube-apiserver double.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, ClientNodeApi } from '../../src/kube/api.ts';
import { loadKubeConfig } from '../../src/kube/kubernetes.ts';
import { readPod } from '../../src/objects/pod.ts';
import { readService } from '../../src/objects/service.ts';
import { FakeApiServer, pod, service, type FakeApiServerOptions } from '../support/apiserver.ts';
import { PROTOBUF } from '../support/protobuf.ts';

/** The double and a client of it, both closed when the test ends. */
async function doubleAndClient(
  t: { after: (fn: () => Promise<void>) => void },
  options: FakeApiServerOptions = {},
): Promise<{ server: FakeApiServer; api: ClientNodeApi }> {
  const server = await FakeApiServer.start(options);
  const api = new ClientNodeApi(loadKubeConfig(server.writeKubeconfig())!);
  t.after(async () => {
    await api.close();
    await server.close();
  });
  return { server, api };
}

test('a list body cut short is an ApiError that says so; the next list reads whole', async (t) => {
  const { server, api } = await doubleAndClient(t);
  server.apply(pod('a', 'p', '10.244.0.1'));
  server.breakNextLists(1);
  await assert.rejects(api.list('/api/v1/pods', { limit: 10 }, AbortSignal.timeout(5_000)), (err: unknown) => {
    assert.ok(err instanceof ApiError, String(err));
    assert.equal(err.status, 200);
    assert.match(err.message, /^\/api\/v1\/pods: the answer is not a list \(.+\)$/);
    return true;
  });
  const page = await api.list('/api/v1/pods', { limit: 10 }, AbortSignal.timeout(5_000));
  assert.deepEqual(
    [...page.items].map((p) => p.metadata?.name),
    ['p'],
  );
});

test('lists come in key order, page by page from one snapshot, selectors applied per page; a fresh list sees what changed since', async (t) => {
  const { server, api } = await doubleAndClient(t);
  for (const [ns, name] of [
    ['b', 'p2'],
    ['a', 'p9'],
    ['b', 'p1'],
    ['a', 'p10'],
  ] as const)
    server.apply(pod(ns, name, '10.244.0.1'));
  const signal = AbortSignal.timeout(5_000);
  const names = (page: { items: Iterable<{ metadata?: { namespace?: string; name?: string } }> }) =>
    [...page.items].map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`);
  const first = await api.list('/api/v1/pods', { limit: 3 }, signal);
  assert.deepEqual(names(first), ['a/p10', 'a/p9', 'b/p1']);
  // Changes after the first page: the continued list does not see them, the next fresh one does.
  server.apply(pod('a', 'p0', '10.244.0.2'));
  const rest = await api.list('/api/v1/pods', { limit: 3, continue: first.metadata.continue }, signal);
  assert.deepEqual(names(rest), ['b/p2']);
  assert.equal(rest.metadata.continue, undefined);
  assert.deepEqual(names(await api.list('/api/v1/pods', { limit: 10 }, signal)), ['a/p0', 'a/p10', 'a/p9', 'b/p1', 'b/p2']);
  assert.equal(server.delete('Pod', 'b', 'p1'), true);
  assert.deepEqual(names(await api.list('/api/v1/pods', { limit: 10 }, signal)), ['a/p0', 'a/p10', 'a/p9', 'b/p2']);
  const running = await api.list('/api/v1/pods', { limit: 10, fieldSelector: 'metadata.name!=p9,metadata.namespace=a' }, signal);
  assert.deepEqual(names(running), ['a/p0', 'a/p10']);
  // With a selector, a page holds `limit` matches and the last one says there is no more, though
  // objects that do not match follow; the remaining count is left out, as the apiserver does.
  const seen: string[] = [];
  let token: string | undefined;
  do {
    const page = await api.list('/api/v1/pods', { limit: 1, continue: token, fieldSelector: 'metadata.namespace=a' }, signal);
    seen.push(...names(page));
    assert.equal((page.metadata as { remainingItemCount?: number }).remainingItemCount, undefined);
    token = page.metadata.continue;
  } while (token);
  assert.deepEqual(seen, ['a/p0', 'a/p10', 'a/p9']);
  const unfiltered = await api.list('/api/v1/pods', { limit: 1 }, signal);
  assert.equal((unfiltered.metadata as { remainingItemCount?: number }).remainingItemCount, 3);
});

test('pods listed in protobuf: the same pages, continue tokens and list resourceVersion as JSON', async (t) => {
  const { server, api } = await doubleAndClient(t);
  for (let i = 0; i < 5; i++) server.apply(pod('a', `p${i}`, `10.244.0.${i + 1}`, { hostname: `h${i}` }));
  server.apply(service('a', 'web', { clusterIP: '10.96.0.10' }));
  const signal = AbortSignal.timeout(5_000);
  const pages = async (protobuf: boolean) => {
    const seen: string[] = [];
    let token: string | undefined;
    let rv: string | undefined;
    do {
      const page = await api.list('/api/v1/pods', { limit: 2, continue: token, protobuf: protobuf ? readPod : undefined }, signal);
      for (const p of page.items)
        seen.push(
          `${p.metadata?.namespace}/${p.metadata?.name} ${(p.spec as { hostname?: string }).hostname} ${JSON.stringify((p.status as { podIPs?: unknown }).podIPs)}`,
        );
      token = page.metadata.continue;
      rv ??= page.metadata.resourceVersion;
    } while (token);
    return { seen, rv };
  };
  const json = await pages(false);
  const protobuf = await pages(true);
  assert.equal(json.seen.length, 5);
  assert.deepEqual(protobuf, json);
  const podLists = server.requests.filter((r) => r.path === '/api/v1/pods').map((r) => r.contentType);
  assert.deepEqual(podLists, ['application/json', 'application/json', 'application/json', PROTOBUF, PROTOBUF, PROTOBUF]);
  const services = await api.list('/api/v1/services', { limit: 10, protobuf: readService }, signal);
  assert.deepEqual(
    [...services.items].map((s) => [s.metadata?.name, (s.spec as { clusterIP?: string }).clusterIP]),
    [['web', '10.96.0.10']],
  );
  assert.equal(server.requests.at(-1)?.contentType, PROTOBUF);
  // The items were decoded from a body that the next page reuses: no second reading.
  assert.throws(() => [...services.items], /can be read once/);
});

test('a server that answers JSON to a client that asks protobuf first is read as JSON', async (t) => {
  const { server, api } = await doubleAndClient(t, { protobuf: false });
  server.apply(pod('a', 'p', '10.244.0.1'));
  server.failNext(1, 500, { kind: 'Pod' });
  const list = () => api.list('/api/v1/pods', { limit: 10, protobuf: readPod }, AbortSignal.timeout(5_000));
  await assert.rejects(list(), (err: unknown) => err instanceof ApiError && err.message === '500 InternalError: injected failure 500');
  assert.deepEqual(
    [...(await list()).items].map((p) => p.metadata?.name),
    ['p'],
  );
  assert.equal(server.requests.at(-1)?.contentType, 'application/json');
});

test('in protobuf: an error Status is read for its message, a body cut short and an item that is not a pod are errors', async (t) => {
  const { server, api } = await doubleAndClient(t);
  server.apply(pod('a', 'p', '10.244.0.1'));
  const signal = AbortSignal.timeout(5_000);
  const list = (params: { continue?: string } = {}) => api.list('/api/v1/pods', { limit: 10, protobuf: readPod, ...params }, signal);
  server.failNext(1, 500, { kind: 'Pod' });
  await assert.rejects(
    list(),
    (err: unknown) => err instanceof ApiError && err.status === 500 && err.message === '500 InternalError: injected failure 500',
  );
  await assert.rejects(
    list({ continue: '99:0' }),
    (err: unknown) =>
      err instanceof ApiError && err.status === 410 && /^410 Expired: The provided continue parameter is too old/.test(err.message),
  );
  server.breakNextLists(1);
  await assert.rejects(
    list(),
    (err: unknown) =>
      err instanceof ApiError && /^\/api\/v1\/pods: the answer is not a list \(message truncated at byte \d+ of \d+\)$/.test(err.message),
  );
  server.breakNextItems(1);
  const page = await list();
  const items = page.items[Symbol.iterator]();
  assert.equal(items.next().value?.metadata?.name, 'p');
  assert.throws(() => items.next(), /wire type 7/);
  assert.deepEqual(
    [...(await list()).items].map((p) => p.metadata?.name),
    ['p'],
  );
});

test('a list that takes too long is abandoned with a TimeoutError, an aborted one with the abort reason; the next list works', async (t) => {
  const server = await FakeApiServer.start();
  const api = new ClientNodeApi(loadKubeConfig(server.writeKubeconfig())!, { listTimeoutMs: 150 });
  t.after(async () => {
    await api.close();
    await server.close();
  });
  server.apply(pod('a', 'p', '10.244.0.1'));
  server.slowLists(2_000);
  const started = performance.now();
  await assert.rejects(
    api.list('/api/v1/pods', { limit: 10, protobuf: readPod }, new AbortController().signal),
    (err: unknown) => err instanceof Error && err.name === 'TimeoutError',
  );
  assert.ok(performance.now() - started < 1_500, 'abandoned at the timeout, not when the answer came');
  const abort = new AbortController();
  const aborted = api.list('/api/v1/pods', { limit: 10 }, abort.signal);
  setTimeout(() => abort.abort(new DOMException('stopping', 'AbortError')), 20);
  await assert.rejects(aborted, (err: unknown) => err instanceof Error && err.name === 'AbortError');
  const already = new AbortController();
  already.abort(new DOMException('stopped', 'AbortError'));
  await assert.rejects(
    api.list('/api/v1/pods', { limit: 10 }, already.signal),
    (err: unknown) => err instanceof Error && err.name === 'AbortError',
  );
  server.slowLists(0);
  assert.deepEqual(
    [...(await api.list('/api/v1/pods', { limit: 10, protobuf: readPod }, AbortSignal.timeout(5_000))).items].map((p) => p.metadata?.name),
    ['p'],
  );
});
