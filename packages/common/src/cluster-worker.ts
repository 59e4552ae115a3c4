import { type ClusterMessage, WORKER_SLOT_VAR } from './cluster-primary.js';
import type { CommonConfig, commonVars } from './common-config.js';
import { type ConfigOf, loadConfig, type Schema } from './config.js';
import { cannotListen, type ServiceDefinition } from './lifecycle.js';
import { createLogger, flushLogger } from './logger.js';
import { createRegistry } from './metrics.js';

/** The slice of `process` a cluster worker uses; worker.ts passes the real one. */
export interface WorkerProcessLike {
  readonly env: Readonly<Record<string, string | undefined>>;
  on(event: 'SIGTERM' | 'SIGINT', listener: (signal: NodeJS.Signals) => void): unknown;
  on(event: 'uncaughtException' | 'unhandledRejection', listener: (err: unknown) => void): unknown;
  on(event: 'message', listener: (msg: unknown) => void): unknown;
  send?(message: ClusterMessage): unknown;
  exit(code: number): void;
}

/**
 * The worker side of createClusterPrimary: builds the service from the same
 * environment the primary validated, with a logger and registry labelled by
 * worker slot (0 to WORKERS-1, see cluster-metrics.ts), listens
 * (node:cluster shares the primary's port), tells the primary where,
 * answers its metrics scrapes and drains when it says so. The primary owns
 * the admin server, the signals and the decision to stop.
 */
export async function runClusterWorker<S extends Schema & ReturnType<typeof commonVars>>(
  def: ServiceDefinition<S>,
  proc: WorkerProcessLike,
): Promise<void> {
  const config = loadConfig(def.schema, proc.env) as ConfigOf<S> & CommonConfig;
  // The slot the primary gave this worker (0 to WORKERS-1), not its cluster
  // id, which grows with every restart: a label per restart would make
  // /metrics grow without bound.
  const slot = Number(proc.env[WORKER_SLOT_VAR] ?? 0);
  const logger = createLogger({
    service: def.name,
    version: def.version,
    level: config.LOG_LEVEL,
    format: config.LOG_FORMAT,
  }).child({ worker: slot });
  const registry = createRegistry(def.name);
  registry.setDefaultLabels({ service: def.name, worker: String(slot) });

  const exit = async (code: number) => {
    await flushLogger(logger);
    proc.exit(code);
  };
  const fatal = (err: unknown, msg: string) => {
    logger.fatal({ err }, msg);
    void exit(1);
  };
  proc.on('uncaughtException', (err) => fatal(err, 'uncaught exception'));
  proc.on('unhandledRejection', (err) => fatal(err, 'unhandled promise rejection'));
  // Ctrl-C and systemd's cgroup-wide SIGTERM reach workers too: the primary
  // gets the same signal and drains every worker in order, so ignore it here.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    proc.on(signal, () => logger.debug({ signal }, 'signal ignored: the primary drains workers'));
  }

  try {
    const service = await def.create({ config, logger, registry });
    proc.on('message', (raw) => {
      const msg = raw as ClusterMessage | undefined;
      if (msg?.type === 'netlab:drain') {
        service.close({ timeoutMs: msg.timeoutMs }).then(
          () => exit(0),
          (err: unknown) => fatal(err, 'drain failed'),
        );
      } else if (msg?.type === 'netlab:metrics') {
        registry.getMetricsAsJSON().then(
          (metrics) => proc.send?.({ type: 'netlab:metrics', id: msg.id, metrics }),
          (err: unknown) => logger.error({ err }, 'collecting metrics failed'),
        );
      }
    });
    await service.listen();
    const address = service.address();
    if (address !== null) proc.send?.({ type: 'netlab:listening', address });
  } catch (err) {
    const line = cannotListen(
      def.name,
      { variable: 'PORT', port: config.PORT, host: config.HOST },
      err,
    );
    if (line === undefined) {
      fatal(err, 'failed to start');
      return;
    }
    // A port in use: the primary says it in one line (runService); here the
    // record without a stack, and the code for the primary.
    const code = (err as { code: string }).code;
    if (config.LOG_FORMAT === 'json')
      logger.fatal({ err: { code, message: line } }, 'failed to start');
    proc.send?.({ type: 'netlab:cannot-listen', code });
    void exit(1);
  }
}
