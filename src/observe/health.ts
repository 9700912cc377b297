// /health and /ready, where CoreDNS's probes expect them: /health answers 200 "OK" while the
// process serves; /ready answers 200 once the index has fully synced, 503 with the reason before.
import { createServer, type Server } from 'node:http';
import type { HostPort } from '../config.ts';

export type Route = () => { status: number; body: string };

export interface HttpEndpoint {
  readonly address: HostPort;
  close(): Promise<void>;
}

/** A tiny HTTP server answering GET on fixed paths; anything else is 404. */
export async function startHttpEndpoint(listen: HostPort, routes: Record<string, Route>): Promise<HttpEndpoint> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = req.method === 'GET' || req.method === 'HEAD' ? routes[path] : undefined;
    const { status, body } = route ? route() : { status: 404, body: 'not found\n' };
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
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
