import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { healthRoutes, readyRoutes, startHealthProbe, startHttpEndpoint } from '../../src/observe/health.ts';

describe('HTTP endpoints', () => {
  it('serves sync and async routes with their content type, query strings included; 404 otherwise', async (t) => {
    let reason: string | null = 'kubernetes: not synced yet (Pod)';
    const endpoint = await startHttpEndpoint(
      { host: '127.0.0.1', port: 0 },
      {
        ...healthRoutes(),
        ...readyRoutes({ notReadyReason: () => reason }),
        '/async': async (url) => ({ status: 200, body: `name=${url.searchParams.get('name')}`, contentType: 'text/x-test' }),
      },
    );
    t.after(() => endpoint.close());
    const base = `http://127.0.0.1:${endpoint.address.port}`;
    const fetch5 = (path: string) => fetch(base + path, { signal: AbortSignal.timeout(5_000) });
    assert.equal(await (await fetch5('/health')).text(), 'OK');
    const notReady = await fetch5('/ready');
    assert.equal(notReady.status, 503);
    assert.match(await notReady.text(), /not synced yet \(Pod\)/);
    reason = null;
    assert.equal((await fetch5('/ready')).status, 200);
    const a = await fetch5('/async?name=web');
    assert.equal(await a.text(), 'name=web');
    assert.equal(a.headers.get('content-type'), 'text/x-test');
    assert.equal((await fetch5('/nope')).status, 404);
  });

  it('the self-probe times /health as CoreDNS does, and counts failures', async (t) => {
    const endpoint = await startHttpEndpoint({ host: '127.0.0.1', port: 0 }, healthRoutes());
    t.after(() => endpoint.close());
    const seen: [number, boolean][] = [];
    const stop = startHealthProbe(endpoint.address, (s, ok) => seen.push([s, ok]), 20);
    for (let i = 0; i < 100 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    stop();
    assert.ok(seen.length >= 2);
    assert.ok(seen.every(([s, ok]) => ok && s > 0 && s < 1));
    await endpoint.close();
    const failed: boolean[] = [];
    const stop2 = startHealthProbe(endpoint.address, (_s, ok) => failed.push(ok), 20);
    for (let i = 0; i < 100 && failed.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
    stop2();
    assert.equal(failed[0], false);
  });
});
