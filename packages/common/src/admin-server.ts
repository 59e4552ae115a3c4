import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import {
  type AdminState,
  createAdminHttpServer,
  READINESS,
  type Readiness,
  type RouteAnswer,
} from './admin-routes.js';
import { type DropInfo, limitConnections, reportDrops } from './connections.js';
import { NetlabError } from './errors.js';
import { listen } from './listen.js';
import type { Logger } from './logger.js';
import { Counter, type MetricsSource, type Registry } from './metrics.js';

export type { Readiness } from './admin-routes.js';

/**
 * An app's own read-only admin endpoint: returns the data (a JSON-able value
 * or a promise of one), never touches the response. Answering is the admin
 * server's job, so a route works the same wherever the admin server runs —
 * in the main event loop or on the admin thread, which asks for the data by
 * message.
 */
export type AdminRoute = () => unknown;
/** Extra GET endpoints by path, e.g. `{ '/datagrams': () => history.toJSON() }`. */
export type AdminRoutes = Readonly<Record<string, AdminRoute>>;

export interface AdminServerOptions {
  metrics: MetricsSource;
  logger: Logger;
  /**
   * The app's extra routes, looked up per request: the service that provides
   * them is created after the admin server is already answering probes. The
   * built-in paths always win.
   */
  routes?: () => AdminRoutes | undefined;
  /**
   * /livez answers 503 once the main event loop has not turned for this
   * long (LIVENESS_STALL_MS); 0: it never does.
   */
  livenessStallMs?: number;
  /**
   * Serve from a worker thread (the default), so probes are answered however
   * busy the main event loop is. `false` serves from the main event loop, as
   * netlab did before; the bench compares the two.
   */
  thread?: boolean;
  /**
   * Open admin connections at most (ADMIN_MAX_CONNECTIONS, default 64).
   * Node closes each one past it as it arrives; each is counted in
   * `netlab_admin_connections_rejected_total` and logged (rate-limited).
   * Without a cap, idle admin connections were accepted by the thousand
   * until the process ran out of file descriptors and the service port
   * could accept nothing more.
   */
  maxConnections?: number;
  /** Where `netlab_admin_connections_rejected_total` is registered (not registered when absent). */
  registry?: Registry;
}

export const ADMIN_MAX_CONNECTIONS_DEFAULT = 64;

export interface AdminServer {
  listen(port: number, host?: string): Promise<AddressInfo>;
  close(): Promise<void>;
  address(): AddressInfo | null;
  /** What /readyz reports from now on. */
  setReadiness(state: Readiness): void;
}

/** workerData of the admin thread. */
export interface AdminThreadData {
  port: number;
  host: string | undefined;
  /** Int32 [heartbeat counter, readiness index]. */
  shared: SharedArrayBuffer;
  stallMs: number;
  beatMs: number;
  contentType: string;
  metricsTimeoutMs: number;
  maxConnections: number;
}
export type FromAdminThread =
  | { type: 'listening'; address: AddressInfo }
  | { type: 'error'; code: string | undefined; message: string }
  | { type: 'drop'; info: DropInfo }
  | { type: 'metrics'; id: number }
  | { type: 'route'; id: number; path: string };
export type ToAdminThread =
  | { type: 'metrics'; id: number; text?: string }
  | { type: 'route'; id: number; answer: RouteAnswer };

// A scrape (or an app route) the main thread has not answered by then gets
// 503: Prometheus's own default scrape timeout is 10 s, a probe's is shorter.
const METRICS_TIMEOUT_MS = 5000;

/** An app route's answer, computed on the main thread where the app's data lives. */
async function answerRoute(opts: AdminServerOptions, path: string): Promise<RouteAnswer> {
  const route = opts.routes?.()?.[path];
  if (route === undefined) {
    return { status: 404, body: { error: 'not found', code: 'NETLAB_ERR_NOT_FOUND' } };
  }
  try {
    // JSON round trip: what the thread can be sent is what the client gets.
    return { status: 200, body: JSON.parse(JSON.stringify((await route()) ?? null)) };
  } catch (err) {
    opts.logger.error({ err, path }, 'admin route failed');
    return {
      status: 500,
      body: { error: 'admin route failed', code: 'NETLAB_ERR_ADMIN_ROUTE' },
    };
  }
}
const THREAD_FILE = new URL('./admin-thread.js', import.meta.url);

/**
 * The admin server (DESIGN.md: /livez, /healthz, /readyz, /metrics), served
 * by default from its own worker thread.
 *
 * In the main event loop, a probe waits behind everything else the loop
 * has to do: under `wrk -c2000` on the service port, a fresh /livez took
 * 0.45-1.6 s, so Kubernetes' default 1 s probe timeout would restart a pod
 * that is merely busy. On its own thread it is answered at once. The thread
 * still has to notice a main loop that is truly stuck (an endless loop, a
 * deadlock on a sync call): the main thread bumps a heartbeat counter in a
 * SharedArrayBuffer every `livenessStallMs / 10` (10 ms to 1 s), and /livez
 * answers 503 `{status: "stalled", stalledMs}` once it has not moved for
 * `livenessStallMs`. Readiness is a number in the same buffer, written when
 * it changes. /metrics still needs the main thread (the registry lives
 * there): the thread asks it by message and answers 503 if it does not
 * hear back within 5 s.
 */
export function createAdminServer(opts: AdminServerOptions): AdminServer {
  const stallMs = opts.livenessStallMs ?? 0;
  const rejected =
    opts.registry === undefined
      ? undefined
      : new Counter({
          name: 'netlab_admin_connections_rejected_total',
          help: 'Admin connections closed on arrival: ADMIN_MAX_CONNECTIONS were open',
          registers: [opts.registry],
        });
  const cap = {
    limit: opts.maxConnections ?? ADMIN_MAX_CONNECTIONS_DEFAULT,
    logger: opts.logger,
    onDrop: () => rejected?.inc(),
    variable: 'ADMIN_MAX_CONNECTIONS',
  };
  return opts.thread === false ? inLoop(opts, cap) : onThread(opts, stallMs, cap);
}

type Cap = Parameters<typeof reportDrops>[0];

function onThread(opts: AdminServerOptions, stallMs: number, cap: Cap): AdminServer {
  const shared = new Int32Array(new SharedArrayBuffer(8));
  const beatMs = Math.min(1000, Math.max(10, Math.floor(stallMs / 10)));
  let worker: Worker | undefined;
  let address: AddressInfo | null = null;
  let heartbeat: NodeJS.Timeout | undefined;
  // The thread has the socket, the main thread the logger and the registry.
  const drops = reportDrops(cap);

  function answerScrape(id: number) {
    opts.metrics.metrics().then(
      (text) => worker?.postMessage({ type: 'metrics', id, text } satisfies ToAdminThread),
      (err: unknown) => {
        opts.logger.error({ err }, 'collecting metrics failed');
        worker?.postMessage({ type: 'metrics', id } satisfies ToAdminThread);
      },
    );
  }

  return {
    address: () => address,
    setReadiness(state) {
      Atomics.store(shared, 1, READINESS.indexOf(state));
    },
    listen(port, host) {
      const data: AdminThreadData = {
        port,
        host,
        shared: shared.buffer as SharedArrayBuffer,
        stallMs,
        beatMs,
        contentType: opts.metrics.contentType,
        metricsTimeoutMs: METRICS_TIMEOUT_MS,
        maxConnections: cap.limit,
      };
      const thread = new Worker(THREAD_FILE, { workerData: data, name: 'netlab-admin' });
      worker = thread;
      // The service's own handles keep the process alive; the admin thread
      // must not keep it alive on its own.
      thread.unref();
      if (stallMs > 0) {
        heartbeat = setInterval(() => Atomics.add(shared, 0, 1), beatMs);
        heartbeat.unref();
      }
      return new Promise((resolve, reject) => {
        thread.on('message', (msg: FromAdminThread) => {
          if (msg.type === 'metrics') answerScrape(msg.id);
          else if (msg.type === 'drop') drops.drop(msg.info);
          else if (msg.type === 'route') {
            void answerRoute(opts, msg.path).then((answer) =>
              worker?.postMessage({ type: 'route', id: msg.id, answer } satisfies ToAdminThread),
            );
          } else if (msg.type === 'listening') {
            address = msg.address;
            resolve(msg.address);
          } else {
            const err = new NetlabError(msg.code ?? 'NETLAB_ERR_ADMIN', msg.message);
            void thread.terminate();
            reject(err);
          }
        });
        thread.on('error', (err) => {
          reject(err);
          // Without the admin thread nobody answers probes: fail loudly (the
          // lifecycle turns an uncaught error into a fatal line and exit 1).
          if (address !== null) {
            setImmediate(() => {
              throw err;
            });
          }
        });
      });
    },
    async close() {
      clearInterval(heartbeat);
      drops.close();
      // Probes use keep-alive; nothing they do is worth waiting for.
      await worker?.terminate();
      worker = undefined;
    },
  };
}

/** The admin server in the main event loop: what the bench compares the thread against. */
function inLoop(opts: AdminServerOptions, cap: Cap): AdminServer {
  let readiness: Readiness = 'starting';
  const state: AdminState = {
    stalledMs: () => 0,
    readiness: () => readiness,
    metrics: async () => {
      try {
        return { contentType: opts.metrics.contentType, text: await opts.metrics.metrics() };
      } catch (err) {
        opts.logger.error({ err }, 'collecting metrics failed');
        throw { message: 'metrics unavailable', code: 'NETLAB_ERR_METRICS' };
      }
    },
    route: (path) => answerRoute(opts, path),
  };
  const server = createAdminHttpServer(state);
  limitConnections(server, cap);
  return {
    listen: (port, host) => listen(server, port, host),
    address: () => server.address() as AddressInfo | null,
    setReadiness(next) {
      readiness = next;
    },
    close: () =>
      new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
