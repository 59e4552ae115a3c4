import cluster, { type Worker } from 'node:cluster';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { AggregatorRegistry } from 'prom-client';
import type { WorkerConfig } from './cluster-config.js';
import { trackHandoffs } from './cluster-handoffs.js';
import { type RegistryJson, SlotMetrics } from './cluster-metrics.js';
import { ClusterError } from './errors.js';
import type { Service } from './lifecycle.js';
import type { Logger } from './logger.js';
import { Counter, Gauge, type Registry } from './metrics.js';

/** Primary → worker: stop accepting, finish in-flight work within timeoutMs, exit 0. */
export interface DrainMessage {
  type: 'netlab:drain';
  timeoutMs: number;
}
/** Primary → worker: send your registry as JSON; worker → primary: here it is. */
export interface MetricsMessage {
  type: 'netlab:metrics';
  id: number;
  metrics?: RegistryJson;
}
/** Worker → primary: listening, at this address (the one its server reports). */
export interface ListeningMessage {
  type: 'netlab:listening';
  address: AddressInfo;
}
/**
 * Worker → primary: my listen failed with an error the user fixes (a port
 * in use: lifecycle's cannotListen), so the primary's start fails with that
 * code and runService prints its one line, not two stack traces.
 */
export interface CannotListenMessage {
  type: 'netlab:cannot-listen';
  code: string;
}
export type ClusterMessage = DrainMessage | MetricsMessage | ListeningMessage | CannotListenMessage;

/**
 * The environment variable that tells a worker its slot, 0 to WORKERS-1: a
 * replacement takes the slot of the worker it replaces. Workers label their
 * metrics and log lines with it (`worker`), so labels stay bounded.
 */
export const WORKER_SLOT_VAR = 'NETLAB_WORKER_SLOT';
/** The primary's logger bindings (`{service, version}`), for cluster-preload.cts's one line. */
const LOG_BINDINGS_VAR = 'NETLAB_WORKER_LOG_BINDINGS';
/** See cluster-preload.cts: turns an EPIPE at a worker's bootstrap into a log line. */
const PRELOAD = fileURLToPath(new URL('./cluster-preload.cjs', import.meta.url));

export interface ClusterDeps {
  logger: Logger;
  registry: Registry;
  /** The file each worker runs (the app's dist/worker.js, which calls runClusterWorker). */
  workerEntry: string;
  /** Names the primary's two metrics: `<prefix>_workers`, `<prefix>_worker_restarts_total`. */
  metricPrefix: string;
}

export interface ClusterPrimary extends Service {
  /** Pids of the workers serving now. */
  readonly pids: number[];
}

// A worker that has not answered a scrape by then is left out of it rather
// than making the admin server's /metrics hang.
const METRICS_TIMEOUT_MS = 2000;
// After the drain deadline, how long workers get to exit before SIGKILL.
const EXIT_GRACE_MS = 2000;

/**
 * The primary of WORKERS > 1: forks the workers (which share the listening
 * port through node:cluster), replaces one that crashes unless they crash
 * more than WORKER_MAX_RESTARTS times in WORKER_RESTART_WINDOW_MS, drains them
 * all on close, and answers /metrics for all of them. The primary serves no
 * traffic itself; it keeps the admin server, so probes see one service.
 */
export function createClusterPrimary(config: WorkerConfig, deps: ClusterDeps): ClusterPrimary {
  const { logger, registry } = deps;
  const live = new Map<number, Worker>();
  // Which worker holds each slot (listening or still starting), and what
  // each slot has counted across the workers that held it.
  const slots: Array<Worker | undefined> = Array.from({ length: config.WORKERS }, () => undefined);
  const slotMetrics = slots.map(() => new SlotMetrics());
  const crashes: number[] = [];
  const pendingScrapes = new Map<number, (metrics: RegistryJson | undefined) => void>();
  let nextScrape = 0;
  let address: AddressInfo | null = null;
  let started = false;
  let draining = false;
  let failStartup: (err: Error) => void = () => {};
  new Gauge({
    name: `${deps.metricPrefix}_workers`,
    help: 'Cluster workers serving now',
    registers: [registry],
    collect() {
      this.set(live.size);
    },
  });
  const restarts = new Counter({
    name: `${deps.metricPrefix}_worker_restarts_total`,
    help: 'Cluster workers restarted after exiting unexpectedly',
    registers: [registry],
  });

  function fork(slot: number): Worker {
    const worker = cluster.fork({
      [WORKER_SLOT_VAR]: String(slot),
      [LOG_BINDINGS_VAR]: JSON.stringify(logger.bindings()),
    });
    slots[slot] = worker;
    const pid = worker.process.pid;
    const handoffs = trackHandoffs(worker.process);
    let cannotListen: string | undefined;
    worker.on('message', (msg: ClusterMessage) => {
      if (msg?.type === 'netlab:metrics') pendingScrapes.get(msg.id)?.(msg.metrics);
      else if (msg?.type === 'netlab:cannot-listen') cannotListen = String(msg.code);
      else if (msg?.type === 'netlab:listening') {
        live.set(worker.id, worker);
        address ??= msg.address;
        logger.info({ worker: slot, workerPid: pid }, 'worker listening');
        worker.emit('netlab:listening');
      }
    });
    worker.on('exit', (code: number | null, signal: string | null) => {
      live.delete(worker.id);
      if (slots[slot] === worker) slots[slot] = undefined;
      slotMetrics[slot]!.retire();
      const leaked = handoffs.closeAll();
      if (leaked > 0) {
        logger.warn(
          { worker: slot, workerPid: pid, connections: leaked },
          'connections handed to the dead worker closed',
        );
      }
      if (draining) {
        logger.info({ worker: slot, workerPid: pid, code, signal }, 'worker stopped');
        return;
      }
      if (!started) {
        if (cannotListen !== undefined) {
          // The OS's code (EADDRINUSE…), which runService turns into one line.
          failStartup(
            Object.assign(new Error(`worker ${pid} could not listen (${cannotListen})`), {
              code: cannotListen,
            }),
          );
          return;
        }
        failStartup(
          new ClusterError(
            'NETLAB_ERR_WORKER_START',
            `worker ${pid} exited (code ${code}, signal ${signal}) before it was listening`,
          ),
        );
        return;
      }
      restart(slot, pid, code, signal);
    });
    return worker;
  }

  function restart(
    slot: number,
    pid: number | undefined,
    code: number | null,
    signal: string | null,
  ) {
    const now = Date.now();
    crashes.push(now);
    while (crashes.length > 0 && crashes[0]! <= now - config.WORKER_RESTART_WINDOW_MS)
      crashes.shift();
    if (crashes.length > config.WORKER_MAX_RESTARTS) {
      // Every worker, the ones still starting too: one left behind finds
      // the primary gone as it starts, and Node's cluster bootstrap
      // printed an EPIPE stack trace for it (see cluster-preload.cts).
      for (const other of Object.values(cluster.workers ?? {})) other?.process.kill('SIGKILL');
      const err = new ClusterError(
        'NETLAB_ERR_RESTART_STORM',
        `${crashes.length} worker crashes within ${config.WORKER_RESTART_WINDOW_MS} ms: giving up`,
      );
      // Surfaces as an uncaught exception, which the lifecycle logs as fatal
      // and turns into exit 1, so a supervisor (Docker, Kubernetes, systemd)
      // restarts the whole service instead of us crash-looping inside it.
      setImmediate(() => {
        throw err;
      });
      return;
    }
    logger.error(
      { worker: slot, workerPid: pid, code, signal, recentCrashes: crashes.length },
      'worker exited unexpectedly: starting a new one',
    );
    restarts.inc();
    fork(slot);
  }

  function scrape(worker: Worker): Promise<RegistryJson | undefined> {
    const id = ++nextScrape;
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(undefined), METRICS_TIMEOUT_MS);
      function finish(result: RegistryJson | undefined) {
        clearTimeout(timer);
        pendingScrapes.delete(id);
        resolve(result);
      }
      pendingScrapes.set(id, finish);
      // A worker that has just died is still in `live` until its 'exit'; a
      // send to it without a callback would emit an 'error' nobody handles
      // and take the primary down with it.
      if (!worker.isConnected()) return finish(undefined);
      worker.send({ type: 'netlab:metrics', id } satisfies MetricsMessage, undefined, (err) => {
        if (err) finish(undefined);
      });
    });
  }

  return {
    get pids() {
      return [...live.values()].map((w) => w.process.pid!);
    },
    address: () => address,
    listen() {
      cluster.setupPrimary({ exec: deps.workerEntry });
      // The second call sees the first's execArgv (the primary's own, by default).
      cluster.setupPrimary({
        execArgv: [...(cluster.settings.execArgv ?? []), '--require', PRELOAD],
      });
      return new Promise((resolve, reject) => {
        failStartup = (err) => {
          for (const worker of Object.values(cluster.workers ?? {}))
            worker?.process.kill('SIGKILL');
          reject(err);
        };
        let waiting = config.WORKERS;
        for (let i = 0; i < config.WORKERS; i++) {
          fork(i).once('netlab:listening', () => {
            waiting--;
            if (waiting === 0) {
              started = true;
              resolve();
            }
          });
        }
      });
    },
    async close({ timeoutMs }) {
      draining = true;
      const workers = Object.values(cluster.workers ?? {}).filter(
        (w): w is Worker => w !== undefined,
      );
      logger.info({ workers: workers.length, timeoutMs }, 'draining workers');
      await Promise.all(
        workers.map(
          (worker) =>
            new Promise<void>((resolve) => {
              if (worker.isDead()) return resolve();
              const kill = setTimeout(() => {
                logger.warn(
                  { worker: slots.indexOf(worker), workerPid: worker.process.pid },
                  'worker did not exit: killed',
                );
                worker.process.kill('SIGKILL');
              }, timeoutMs + EXIT_GRACE_MS);
              worker.once('exit', () => {
                clearTimeout(kill);
                resolve();
              });
              const message: DrainMessage = { type: 'netlab:drain', timeoutMs };
              if (!worker.isConnected()) return void worker.process.kill('SIGKILL');
              worker.send(message, undefined, (err) => {
                if (err) worker.process.kill('SIGKILL');
              });
            }),
        ),
      );
    },
    metrics: {
      contentType: registry.contentType,
      async metrics() {
        const own = await registry.getMetricsAsJSON();
        const perSlot = await Promise.all(
          slots.map(async (worker, slot) => {
            const listening = worker !== undefined && live.has(worker.id);
            return slotMetrics[slot]!.report(listening ? await scrape(worker) : undefined);
          }),
        );
        // Each worker labels its series with its slot (`worker`), so the sum
        // keeps one series per slot; the primary's own metrics come along.
        return AggregatorRegistry.aggregate([own, ...perSlot]).metrics();
      },
    },
  };
}
