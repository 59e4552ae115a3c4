import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { listen } from './listen.js';
import type { Logger } from './logger.js';
import type { MetricsSource } from './metrics.js';

export type Readiness = 'starting' | 'ready' | 'draining';

/**
 * An app's own read-only admin endpoint: returns the data (a JSON-able value
 * or a promise of one), never touches the response. Answering is the admin
 * server's job, so a route works the same wherever the admin server runs.
 */
export type AdminRoute = () => unknown;
/** Extra GET endpoints by path, e.g. `{ '/datagrams': () => history.toJSON() }`. */
export type AdminRoutes = Readonly<Record<string, AdminRoute>>;

export interface AdminServerOptions {
  metrics: MetricsSource;
  readiness: () => Readiness;
  logger: Logger;
  /**
   * The app's extra routes, looked up per request: the service that provides
   * them is created after the admin server is already answering probes. The
   * built-in paths always win.
   */
  routes?: () => AdminRoutes | undefined;
}

export interface AdminServer {
  listen(port: number, host?: string): Promise<AddressInfo>;
  close(): Promise<void>;
  address(): AddressInfo | null;
}

const ROUTES = new Set(['/livez', '/healthz', '/readyz', '/metrics']);

function sendJson(res: http.ServerResponse, status: number, body: unknown, head: boolean): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(head ? undefined : text);
}

function answerRoute(
  route: AdminRoute,
  res: http.ServerResponse,
  head: boolean,
  logger: Logger,
  path: string,
): void {
  // One chain catches a route that throws, rejects, or returns what JSON cannot hold.
  Promise.resolve()
    .then(route)
    .then((body) => sendJson(res, 200, body, head))
    .catch((err: unknown) => {
      logger.error({ err, path }, 'admin route failed');
      sendJson(res, 500, { error: 'admin route failed', code: 'NETLAB_ERR_ADMIN_ROUTE' }, head);
    });
}

/**
 * The probe and metrics endpoints of DESIGN.md. Kept on its own port so a
 * load balancer's health check never competes with (or is counted as)
 * service traffic, and so the service port can be firewalled apart from it.
 */
export function createAdminServer(opts: AdminServerOptions): AdminServer {
  const server = http.createServer(
    // Probes are tiny: refuse anything that looks like an attack on the admin port.
    { maxHeaderSize: 8192, requestTimeout: 10_000, headersTimeout: 5_000, keepAliveTimeout: 5_000 },
    (req, res) => {
      const path = (req.url ?? '/').split('?', 1)[0]!;
      const extra = ROUTES.has(path) ? undefined : opts.routes?.()?.[path];
      if (!ROUTES.has(path) && !extra) {
        sendJson(
          res,
          404,
          { error: 'not found', code: 'NETLAB_ERR_NOT_FOUND' },
          req.method === 'HEAD',
        );
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        sendJson(res, 405, { error: 'method not allowed', code: 'NETLAB_ERR_METHOD' }, false);
        return;
      }
      const head = req.method === 'HEAD';
      if (extra) {
        answerRoute(extra, res, head, opts.logger, path);
      } else if (path === '/livez' || path === '/healthz') {
        sendJson(res, 200, { status: 'ok' }, head);
      } else if (path === '/readyz') {
        const state = opts.readiness();
        sendJson(res, state === 'ready' ? 200 : 503, { status: state }, head);
      } else {
        opts.metrics.metrics().then(
          (text) => {
            res.writeHead(200, {
              'content-type': opts.metrics.contentType,
              'content-length': Buffer.byteLength(text),
            });
            res.end(head ? undefined : text);
          },
          (err: unknown) => {
            opts.logger.error({ err }, 'collecting metrics failed');
            sendJson(res, 500, { error: 'metrics unavailable', code: 'NETLAB_ERR_METRICS' }, head);
          },
        );
      }
    },
  );
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  return {
    listen: (port, host) => listen(server, port, host),
    address: () => server.address() as AddressInfo | null,
    close: () =>
      new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        // Probes use keep-alive; nothing they do is worth waiting for.
        server.closeAllConnections();
      }),
  };
}
