// ClientNodeApi's lists against the kube-apiserver double.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, ClientNodeApi } from '../../src/cluster/api.ts';
import { loadKubeConfig } from '../../src/cluster/kubernetes.ts';
import { FakeApiServer, pod } from '../support/apiserver.ts';

test('a list body cut short is an ApiError that says so; the next list reads whole', async (t) => {
  const server = await FakeApiServer.start();
  const api = new ClientNodeApi(loadKubeConfig(server.writeKubeconfig())!);
  t.after(async () => {
    await api.close();
    await server.close();
  });
  server.apply(pod('a', 'p', '10.244.0.1'));
  server.breakNextLists(1);
  await assert.rejects(api.list('/api/v1/pods', { limit: 10 }, AbortSignal.timeout(5_000)), (err: unknown) => {
    assert.ok(err instanceof ApiError, String(err));
    assert.equal(err.status, 200);
    assert.match(err.message, /^\/api\/v1\/pods: the answer is not a list \(.+\)$/);
    return true;
  });
  const page = await api.list('/api/v1/pods', { limit: 10 }, AbortSignal.timeout(5_000));
  assert.deepEqual(page.items.map((p) => p.metadata?.name), ['p']);
});
