// /health and /ready, where CoreDNS's probes expect them: /health answers 200 "OK" while the
// process serves; /ready answers 200 once the index has fully synced, 503 with the reason before.
import { createServer, get, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { HostPort } from '../base/address.ts';
import { ConnectionSlots, type Slot } from '../server/slots.ts';
import { BindError, isSystemError } from '../server/bind-error.ts';

export interface RouteResult {
  status: number;
  /** A Buffer is sent as it is (a cached /metrics text, encoded once). */
  body: string | Buffer;
  /** Default text/plain. */
  contentType?: string;
}
/** Answers a GET; `url` carries the query string (for /debug/resolve). */
export type Route = (url: URL) => RouteResult | Promise<RouteResult>;

export interface HttpEndpoint {
  readonly address: HostPort;
  close(): Promise<void>;
}

/**
 * What one HTTP port gives its clients. Probes and scrapers send one small GET at a time, so the
 * limits are tight: Node's defaults (no connection cap, 60 s for headers, 300 s for a request, 16
 * KiB of headers) let one pod hold thousands of slow connections and hundreds of MiB.
 */
export interface HttpLimits {
  /** Open connections; when all are taken the longest-idle one is closed for a newcomer. */
  readonly maxConnections: number;
  readonly maxConnectionsPerClient: number;
  /** The request line and headers must be in within this long of the connection or last response. */
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  readonly keepAliveTimeoutMs: number;
  /** Bytes of request line and headers. */
  readonly maxHeaderSize: number;
}

export const HTTP_LIMITS: HttpLimits = {
  maxConnections: 128,
  maxConnectionsPerClient: 16,
  headersTimeoutMs: 3_000,
  requestTimeoutMs: 5_000,
  keepAliveTimeoutMs: 2_000,
  maxHeaderSize: 8_192,
};

/** A tiny HTTP server answering GET and HEAD on fixed paths, nothing else; anything else is 404. */
export async function startHttpEndpoint(
  listen: HostPort,
  routes: Record<string, Route>,
  limits: HttpLimits = HTTP_LIMITS,
): Promise<HttpEndpoint> {
  const slots = new ConnectionSlots(limits.maxConnections, limits.maxConnectionsPerClient);
  const slotOf = new WeakMap<Socket, Slot>();
  const server: Server = createServer(
    {
      maxHeaderSize: limits.maxHeaderSize,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often the header and request deadlines are checked (Node's default: every 30 s).
      connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
    },
    (req, res) => {
      const slot = slotOf.get(req.socket);
      if (slot) {
        slots.busy(slot);
        res.once('close', () => slots.touch(slot));
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      const send = ({ status, body, contentType }: RouteResult, headers: Record<string, string> = {}): void => {
        res.writeHead(status, {
          'content-type': contentType ?? 'text/plain; charset=utf-8',
          'content-length': Buffer.byteLength(body),
          ...headers,
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      };
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        send({ status: 405, body: 'only GET and HEAD\n' }, { allow: 'GET, HEAD', connection: 'close' });
        return;
      }
      // Nothing here takes a body: one announced is refused unread, and the connection closed.
      if (
        (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') ||
        req.headers['transfer-encoding'] !== undefined
      ) {
        send({ status: 413, body: 'no request body is accepted\n' }, { connection: 'close' });
        return;
      }
      const route = routes[url.pathname];
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
    },
  );
  // A socket that neither sends nor receives anything for this long is closed, whatever its state.
  server.setTimeout(limits.requestTimeoutMs * 2);
  server.on('connection', (socket: Socket) => {
    const slot = slots.take(socket.remoteAddress ?? '');
    if (slot === 'client_limit' || slot === 'full') {
      socket.destroy();
      return;
    }
    slot.owner = { evict: () => socket.destroy() };
    slotOf.set(socket, slot);
    socket.once('close', () => slots.release(slot));
  });
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

/**
 * The server's own readiness: not ready until the index has synced every kind it waits for, and
 * not ready again from lameduck on (SIGTERM's first step, as CoreDNS's `health { lameduck }`):
 * /ready answers 503 so the endpoint leaves the Service while DNS keeps answering.
 */
export class ServingReadiness implements Readiness {
  readonly #index: { readonly synced: boolean; unsyncedKinds(): readonly string[] };
  readonly #onLameduck: () => void;
  #lameduck = false;

  constructor(index: { readonly synced: boolean; unsyncedKinds(): readonly string[] }, onLameduck: () => void = () => {}) {
    this.#index = index;
    this.#onLameduck = onLameduck;
  }

  notReadyReason(): string | null {
    if (this.#lameduck) return 'lameduck';
    return this.#index.synced ? null : `kubernetes: not synced yet (${this.#index.unsyncedKinds().join(', ')})`;
  }

  /** Enters lameduck once; `onLameduck` hears of it the first time only. */
  lameduck(): void {
    if (this.#lameduck) return;
    this.#lameduck = true;
    this.#onLameduck();
  }
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
export function startHealthProbe(target: HostPort, observe: (seconds: number, ok: boolean) => void, intervalMs = 1000): () => void {
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
