import http from 'node:http';
import type { Socket } from 'node:net';

export type Readiness = 'starting' | 'ready' | 'draining';
/** Readiness as a number, for the admin thread's shared memory: its index here. */
export const READINESS: readonly Readiness[] = ['starting', 'ready', 'draining'];

/** What the admin endpoints report; the admin thread and the in-loop server both provide it. */
export interface AdminState {
  /** Milliseconds the main event loop has gone without a turn, or 0 when it is turning. */
  stalledMs(): number;
  readiness(): Readiness;
  metrics(): Promise<{ contentType: string; text: string }>;
  /** An app's own endpoint (any path but the four above): 404 when the app has none. */
  route(path: string): Promise<RouteAnswer>;
}

/** What an app route gives the client: a status and a JSON body. */
export interface RouteAnswer {
  status: number;
  body: unknown;
}

const ROUTES = new Set(['/livez', '/healthz', '/readyz', '/metrics']);

/**
 * The admin server's deadlines. Probes are tiny and quick: a client that
 * has not sent its request line and headers within `headersMs` gets 408 and
 * is closed, and an idle keep-alive connection is closed after
 * `keepAliveMs` (Node adds 1 s to it; measured 6.0 s). Node checks request
 * deadlines only every `connectionsCheckingInterval` (30 s by default), so a
 * 5 s deadline closed after 6-30 s; checking every `checkMs` closes within
 * `headersMs + checkMs`.
 */
export const ADMIN_TIMEOUTS = {
  headersMs: 5000,
  requestMs: 10_000,
  keepAliveMs: 5000,
  checkMs: 500,
} as const;

function sendJson(res: http.ServerResponse, status: number, body: unknown, head: boolean): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(head ? undefined : text);
}

function refuseMethod(res: http.ServerResponse): void {
  res.setHeader('allow', 'GET, HEAD');
  sendJson(res, 405, { error: 'method not allowed', code: 'NETLAB_ERR_METHOD' }, false);
}

/** A refusal Node's parser makes before any handler runs, as raw bytes: status plus JSON `{error, code}`. */
function rawJson(status: number, reason: string, body: { error: string; code: string }): string {
  const text = `${JSON.stringify(body)}\n`;
  return (
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(text)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${text}`
  );
}

/**
 * What Node's parser refused, as JSON: a request line or headers past
 * maxHeaderSize (a 100 KB path) get 431, a client too slow to send its
 * request (Node's headersTimeout or requestTimeout) 408, everything else
 * 400.
 */
function refusal(code: string | undefined): string {
  if (code === 'HPE_HEADER_OVERFLOW') {
    return rawJson(431, 'Request Header Fields Too Large', {
      error: 'request line and headers larger than 8192 bytes',
      code: 'NETLAB_ERR_HEADERS_TOO_LARGE',
    });
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return rawJson(408, 'Request Timeout', {
      error: 'request not received in time',
      code: 'NETLAB_ERR_REQUEST_TIMEOUT',
    });
  }
  return rawJson(400, 'Bad Request', { error: 'bad request', code: 'NETLAB_ERR_BAD_REQUEST' });
}

/**
 * The probe and metrics endpoints of DESIGN.md on a node:http server. Kept on
 * its own port so a load balancer's health check never competes with (or is
 * counted as) service traffic, and so the service port can be firewalled
 * apart from it.
 */
export function createAdminHttpServer(state: AdminState): http.Server {
  const server = http.createServer(
    // Probes are tiny: refuse anything that looks like an attack on the admin port.
    {
      maxHeaderSize: 8192,
      requestTimeout: ADMIN_TIMEOUTS.requestMs,
      headersTimeout: ADMIN_TIMEOUTS.headersMs,
      keepAliveTimeout: ADMIN_TIMEOUTS.keepAliveMs,
      connectionsCheckingInterval: ADMIN_TIMEOUTS.checkMs,
    },
    (req, res) => {
      const path = (req.url ?? '/').split('?', 1)[0]!;
      const head = req.method === 'HEAD';
      const readOnly = req.method === 'GET' || head;
      if (!ROUTES.has(path)) {
        state.route(path).then(
          ({ status, body }) => {
            if (status !== 404 && !readOnly) refuseMethod(res);
            else sendJson(res, status, body, head);
          },
          (err: { code?: string; message?: string }) => {
            const code = err.code ?? 'NETLAB_ERR_ADMIN_ROUTE';
            sendJson(res, 503, { error: err.message ?? 'admin route unavailable', code }, head);
          },
        );
        return;
      }
      if (!readOnly) {
        refuseMethod(res);
        return;
      }
      if (path === '/livez' || path === '/healthz') {
        const stalledMs = state.stalledMs();
        if (stalledMs === 0) sendJson(res, 200, { status: 'ok' }, head);
        else sendJson(res, 503, { status: 'stalled', stalledMs }, head);
      } else if (path === '/readyz') {
        const readiness = state.readiness();
        sendJson(res, readiness === 'ready' ? 200 : 503, { status: readiness }, head);
      } else {
        state.metrics().then(
          ({ contentType, text }) => {
            res.writeHead(200, {
              'content-type': contentType,
              'content-length': Buffer.byteLength(text),
            });
            res.end(head ? undefined : text);
          },
          (err: { code?: string; message?: string }) => {
            const code = err.code ?? 'NETLAB_ERR_METRICS';
            sendJson(res, 503, { error: err.message ?? 'metrics unavailable', code }, head);
          },
        );
      }
    },
  );
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    socket.end(refusal(err.code), () => socket.destroy());
  });
  return server;
}
