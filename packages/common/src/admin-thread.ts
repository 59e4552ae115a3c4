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

const server = createAdminHttpServer({
  stalledMs,
  readiness: () => READINESS[Atomics.load(shared, 1)] ?? 'starting',
  metrics: () =>
    new Promise((resolve, reject) => {
      const id = ++nextScrape;
      const timer = setTimeout(() => {
        scrapes.delete(id);
        reject({
          code: 'NETLAB_ERR_METRICS_TIMEOUT',
          message: `the service did not hand over its metrics within ${data.metricsTimeoutMs} ms`,
        });
      }, data.metricsTimeoutMs);
      scrapes.set(id, (reply) => {
        clearTimeout(timer);
        scrapes.delete(id);
        if (reply.text === undefined) reject({ message: 'metrics unavailable' });
        else resolve({ contentType: data.contentType, text: reply.text });
      });
      port.postMessage({ type: 'metrics', id } satisfies FromAdminThread);
    }),
});

port.on('message', (msg: ToAdminThread) => {
  if (msg.type === 'metrics') scrapes.get(msg.id)?.(msg);
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
