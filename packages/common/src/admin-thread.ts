// The admin server's thread (see admin-server.ts). It shares nothing with
// the main thread but two numbers in a SharedArrayBuffer, the heartbeat and
// the readiness, and a message channel for /metrics, so probes are answered
// however busy the main event loop is, and /livez can tell "busy" (the
// heartbeat still moves) from "stuck" (it does not).
import type { AddressInfo } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { createAdminHttpServer, READINESS } from './admin-routes.js';
import type { AdminThreadData, FromAdminThread, ToAdminThread } from './admin-server.js';

const data = workerData as AdminThreadData;
const port = parentPort!;
const shared = new Int32Array(data.shared);

// The heartbeat is a counter, not a time: the two threads never compare
// clocks. This thread notes, on its own monotonic clock, when it last saw
// the counter move.
let lastBeat = Atomics.load(shared, 0);
let lastChange = performance.now();
function stalledMs(): number {
  if (data.stallMs === 0) return 0;
  const beat = Atomics.load(shared, 0);
  const now = performance.now();
  if (beat !== lastBeat) {
    lastBeat = beat;
    lastChange = now;
  }
  const stalled = Math.round(now - lastChange);
  return stalled >= data.stallMs ? stalled : 0;
}
if (data.stallMs > 0) setInterval(stalledMs, data.beatMs).unref();

const scrapes = new Map<number, (reply: ToAdminThread) => void>();
let nextScrape = 0;

/** Asks the main thread (where the registry and the app's data live), with a deadline. */
function ask<T>(
  request: FromAdminThread & { id: number },
  take: (reply: ToAdminThread) => T,
  timeoutCode: string,
) {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      scrapes.delete(request.id);
      reject({
        code: timeoutCode,
        message: `the service did not answer within ${data.metricsTimeoutMs} ms`,
      });
    }, data.metricsTimeoutMs);
    scrapes.set(request.id, (reply) => {
      clearTimeout(timer);
      scrapes.delete(request.id);
      try {
        resolve(take(reply));
      } catch (err) {
        reject(err);
      }
    });
    port.postMessage(request);
  });
}

const server = createAdminHttpServer({
  stalledMs,
  readiness: () => READINESS[Atomics.load(shared, 1)] ?? 'starting',
  metrics: () =>
    ask(
      { type: 'metrics', id: ++nextScrape },
      (reply) => {
        if (reply.type !== 'metrics' || reply.text === undefined) {
          throw { message: 'metrics unavailable' };
        }
        return { contentType: data.contentType, text: reply.text };
      },
      'NETLAB_ERR_METRICS_TIMEOUT',
    ),
  route: (path) =>
    ask(
      { type: 'route', id: ++nextScrape, path },
      (reply) => {
        if (reply.type !== 'route') throw { message: 'admin route unavailable' };
        return reply.answer;
      },
      'NETLAB_ERR_ADMIN_TIMEOUT',
    ),
});

port.on('message', (msg: ToAdminThread) => scrapes.get(msg.id)?.(msg));

// ADMIN_MAX_CONNECTIONS: Node closes each connection past it on arrival; the
// main thread, which has the logger and the registry, counts and logs it.
server.maxConnections = data.maxConnections;
server.on('drop', (info) => {
  port.postMessage({
    type: 'drop',
    info: { remoteAddress: info?.remoteAddress, remotePort: info?.remotePort },
  } satisfies FromAdminThread);
});

server.once('error', (err: NodeJS.ErrnoException) => {
  port.postMessage({
    type: 'error',
    code: err.code,
    message: err.message,
  } satisfies FromAdminThread);
});
server.listen(
  data.host === undefined ? { port: data.port } : { port: data.port, host: data.host },
  () => {
    port.postMessage({
      type: 'listening',
      address: server.address() as AddressInfo,
    } satisfies FromAdminThread);
  },
);
