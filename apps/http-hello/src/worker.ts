#!/usr/bin/env node
// A cluster worker (WORKERS > 1): the HTTP server only. The primary owns the
// admin server, the signals and the decision to stop; a worker drains when
// the primary tells it to and exits.
import cluster from 'node:cluster';
import { createLogger, createRegistry, flushLogger, loadConfig } from '@netlab/common';
import type { ClusterMessage } from './cluster.js';
import { schema } from './config.js';
import { createHelloServer } from './server.js';
import { SERVICE, version } from './version.js';

// The primary validated the same environment before forking us.
const config = loadConfig(schema, process.env);
const workerId = cluster.worker?.id ?? 0;
const logger = createLogger({
  service: SERVICE,
  version,
  level: config.LOG_LEVEL,
  format: config.LOG_FORMAT,
}).child({ worker: workerId });
const registry = createRegistry(SERVICE);
registry.setDefaultLabels({ service: SERVICE, worker: String(workerId) });

const exit = async (code: number) => {
  await flushLogger(logger);
  process.exit(code);
};
const fatal = (err: unknown, msg: string) => {
  logger.fatal({ err }, msg);
  void exit(1);
};
process.on('uncaughtException', (err) => fatal(err, 'uncaught exception'));
process.on('unhandledRejection', (err) => fatal(err, 'unhandled promise rejection'));
// Ctrl-C and systemd's cgroup-wide SIGTERM reach workers too: the primary
// gets the same signal and drains every worker in order, so ignore it here.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => logger.debug({ signal }, 'signal ignored: the primary drains workers'));
}

const server = createHelloServer(config, {
  logger,
  registry,
  version,
  pid: process.pid,
  sharedLogOutput: true,
});

process.on('message', (msg: ClusterMessage) => {
  if (msg?.type === 'netlab:drain') {
    server.close({ timeoutMs: msg.timeoutMs }).then(
      () => exit(0),
      (err: unknown) => fatal(err, 'drain failed'),
    );
  } else if (msg?.type === 'netlab:metrics') {
    registry.getMetricsAsJSON().then(
      (metrics) =>
        process.send?.({ type: 'netlab:metrics', id: msg.id, metrics } satisfies ClusterMessage),
      (err: unknown) => logger.error({ err }, 'collecting metrics failed'),
    );
  }
});

try {
  await server.listen();
} catch (err) {
  fatal(err, 'failed to start');
}
