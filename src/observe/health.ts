// /health and /ready, where CoreDNS's probes expect them: /health answers 200 "OK" while the
// process serves; /ready answers 200 once the index has fully synced, 503 with the reason before.
import { createServer, get, type Server } from 'node:http';
import type { HostPort } from '../config.ts';
import { BindError, isSystemError } from '../server/bind-error.ts';

export interface RouteResult {
  status: number;
  body: string;
  /** Default text/plain. */
  contentType?: string;
}
/** Answers a GET; `url` carries the query string (for /debug/resolve). */
export type Route = (url: URL) => RouteResult | Promise<RouteResult>;

export interface HttpEndpoint {
  readonly address: HostPort;
  close(): Promise<void>;
}

/** A tiny HTTP server answering GET on fixed paths; anything else is 404. */
export async function startHttpEndpoint(listen: HostPort, routes: Record<string, Route>): Promise<HttpEndpoint> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = req.method === 'GET' || req.method === 'HEAD' ? routes[url.pathname] : undefined;
    const send = ({ status, body, contentType }: RouteResult): void => {
      res.writeHead(status, { 'content-type': contentType ?? 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (!route) {
      send({ status: 404, body: 'not found\n' });
      return;
    }
    let result: RouteResult | Promise<RouteResult>;
    try {
      result = route(url);
    } catch (err) {
      send({ status: 500, body: `${(err as Error).message}\n` });
      return;
    }
    if (result instanceof Promise) {
      result.then(send, (err: unknown) => send({ status: 500, body: `${(err as Error).message}\n` }));
    } else {
      send(result);
    }
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    const failed = (err: unknown) => reject(isSystemError(err) ? new BindError(listen, err) : err);
    server.once('error', failed);
    server.listen(listen.port, listen.host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : listen.port;
  return {
    address: { host: listen.host, port },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Readiness {
  /** Why the server is not ready, or null when it is. */
  notReadyReason(): string | null;
}

export function healthRoutes(): Record<string, Route> {
  return { '/health': () => ({ status: 200, body: 'OK' }) };
}

export function readyRoutes(readiness: Readiness): Record<string, Route> {
  return {
    '/ready': () => {
      const reason = readiness.notReadyReason();
      return reason === null ? { status: 200, body: 'OK' } : { status: 503, body: `${reason}\n` };
    },
  };
}

/**
 * CoreDNS's health plugin asks its own /health once a second and records how long that took
 * (coredns_health_request_duration_seconds): a slow answer means an overloaded event loop long
 * before the kubelet's probe times out. Returns the stop function.
 */
export function startHealthProbe(
  target: HostPort,
  observe: (seconds: number, ok: boolean) => void,
  intervalMs = 1000,
): () => void {
  const host = target.host === '0.0.0.0' ? '127.0.0.1' : target.host === '::' ? '::1' : target.host;
  let inFlight = false;
  const timer = setInterval(() => {
    if (inFlight) return;
    inFlight = true;
    const start = performance.now();
    const done = (ok: boolean): void => {
      if (!inFlight) return;
      inFlight = false;
      observe((performance.now() - start) / 1000, ok);
    };
    const req = get({ host, port: target.port, path: '/health', timeout: intervalMs, agent: false }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode === 200));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => done(false));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
