import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { HTTP_LIMITS, healthRoutes, readyRoutes, ServingReadiness, startHealthProbe, startHttpEndpoint } from '../../src/observe/health.ts';
import { connectFrom, slowHeaders, until } from '../support/abuse.ts';

/** Writes `request` raw and returns the status line's code, or null if the server closed first. */
async function rawStatus(port: number, request: string): Promise<number | null> {
  const socket = await connectFrom({ host: '127.0.0.1', port }, '127.0.0.1');
  assert.ok(socket);
  return new Promise((resolve) => {
    let text = '';
    const timer = setTimeout(() => done(), 3_000);
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve(m ? Number(m[1]) : null);
    };
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (text.includes('\r\n\r\n')) done();
    });
    socket.on('error', done);
    socket.on('close', done);
    socket.write(request);
  });
}

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
    // The probe's timeout is its interval: 20 ms failed now and then on a loaded machine.
    const stop = startHealthProbe(endpoint.address, (s, ok) => seen.push([s, ok]), 200);
    for (let i = 0; i < 300 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
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

  it('answers GET and HEAD only, takes no body and no oversized headers', async (t) => {
    const endpoint = await startHttpEndpoint({ host: '127.0.0.1', port: 0 }, healthRoutes());
    t.after(() => endpoint.close());
    const port = endpoint.address.port;
    assert.equal(await rawStatus(port, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n'), 200);
    assert.equal(await rawStatus(port, 'HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n'), 200);
    assert.equal(await rawStatus(port, 'POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi'), 405);
    assert.equal(await rawStatus(port, 'DELETE /health HTTP/1.1\r\nHost: x\r\n\r\n'), 405);
    assert.equal(await rawStatus(port, 'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi'), 413);
    assert.equal(await rawStatus(port, 'GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'), 413);
    assert.equal(await rawStatus(port, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(HTTP_LIMITS.maxHeaderSize)}\r\n\r\n`), 431);
  });

  it('slow-header clients: cut off within the header timeout, capped per address, and /health answers throughout', {
    timeout: 30_000,
  }, async (t) => {
    const endpoint = await startHttpEndpoint({ host: '127.0.0.1', port: 0 }, healthRoutes());
    t.after(() => endpoint.close());
    const target = endpoint.address;
    // 400 slow connections from 40 addresses (10 each, under the per-address cap): more than the
    // pool holds, so the newest take the place of the oldest.
    const started = Date.now();
    const attack = await slowHeaders(target, 400, { trickleMs: 200, from: (i) => `127.0.1.${1 + (i % 40)}` });
    t.after(() => attack.stop());
    assert.ok(await until(() => attack.open() <= HTTP_LIMITS.maxConnections, 2_000), `at most the pool is open: ${attack.open()}`);
    // One address alone stops at its cap.
    const greedy: (net.Socket | null)[] = await Promise.all(Array.from({ length: 40 }, () => connectFrom(target, '127.0.2.1')));
    t.after(() => greedy.forEach((s) => s?.destroy()));
    await sleep(300);
    const greedyOpen = greedy.filter((s) => s !== null && !s.destroyed).length;
    assert.ok(greedyOpen <= HTTP_LIMITS.maxConnectionsPerClient, `one address holds ${greedyOpen}`);
    // /health keeps answering while the slow clients trickle, each probe on a new connection.
    let answered = 0;
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`http://127.0.0.1:${target.port}/health`, {
        signal: AbortSignal.timeout(2_000),
        headers: { connection: 'close' },
      });
      if (res.status === 200 && (await res.text()) === 'OK') answered++;
      await sleep(100);
    }
    assert.equal(answered, 10);
    // Every slow connection is closed within the header timeout (checked once a second), though
    // bytes keep coming.
    const cut = await until(() => attack.open() === 0, HTTP_LIMITS.headersTimeoutMs + 3_000 - (Date.now() - started));
    t.diagnostic(
      `slow-header connections: ${attack.closed()} closed by the server, ${attack.open()} open ${Date.now() - started} ms after the first`,
    );
    assert.ok(cut, `${attack.open()} slow connections still open`);
  });
});

it('ServingReadiness: not ready until the index has synced, then ready, then lameduck for good (told once)', () => {
  const index = { synced: false, unsyncedKinds: () => ['Pod'] };
  let told = 0;
  const readiness = new ServingReadiness(index, () => told++);
  assert.equal(readiness.notReadyReason(), 'kubernetes: not synced yet (Pod)');
  index.synced = true;
  assert.equal(readiness.notReadyReason(), null);
  readiness.lameduck();
  readiness.lameduck();
  assert.equal(readiness.notReadyReason(), 'lameduck');
  assert.equal(told, 1);
});
