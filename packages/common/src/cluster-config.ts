import { int, type Schema } from './config.js';

/**
 * The variables of a service that can run as a node:cluster primary with
 * workers. An app spreads these into its schema next to `commonVars`.
 */
export function workerVars() {
  return {
    WORKERS: int({
      default: 1,
      min: 1,
      max: 256,
      doc: 'Processes serving the port. Above 1 the primary forks that many node:cluster workers, restarts crashed ones and drains them all on SIGTERM.',
    }),
    WORKER_MAX_RESTARTS: int({
      default: 5,
      min: 0,
      max: 1000,
      doc: 'Worker crashes tolerated within WORKER_RESTART_WINDOW_MS; one more and the whole service exits 1, so its supervisor sees it.',
    }),
    WORKER_RESTART_WINDOW_MS: int({
      default: 60_000,
      min: 1000,
      max: 86_400_000,
      doc: 'The window WORKER_MAX_RESTARTS counts crashes in.',
    }),
  } satisfies Schema;
}

export type WorkerConfig = {
  readonly WORKERS: number;
  readonly WORKER_MAX_RESTARTS: number;
  readonly WORKER_RESTART_WINDOW_MS: number;
};
