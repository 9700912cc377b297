// ClientNodeApi's lists against the kube-apiserver double.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, ClientNodeApi } from '../../src/cluster/api.ts';
import { loadKubeConfig } from '../../src/cluster/kubernetes.ts';
import { FakeApiServer, pod } from '../support/apiserver.ts';

/** The double and a client of it, both closed when the test ends. */
async function doubleAndClient(t: { after: (fn: () => Promise<void>) => void }): Promise<{ server: FakeApiServer; api: ClientNodeApi }> {
  const server = await FakeApiServer.start();
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
  assert.deepEqual([...page.items].map((p) => p.metadata?.name), ['p']);
});

test('lists come in key order, page by page from one snapshot, selectors applied per page; a fresh list sees what changed since', async (t) => {
  const { server, api } = await doubleAndClient(t);
  for (const [ns, name] of [['b', 'p2'], ['a', 'p9'], ['b', 'p1'], ['a', 'p10']] as const) server.apply(pod(ns, name, '10.244.0.1'));
  const signal = AbortSignal.timeout(5_000);
  const names = (page: { items: Iterable<{ metadata?: { namespace?: string; name?: string } }> }) => [...page.items].map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`);
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
