import type { AddressInfo } from 'node:net';
import type { DestinationStream } from 'pino';
import {
  type AdminRoutes,
  type AdminServer,
  createAdminServer,
  type Readiness,
} from './admin-server.js';
import type { CommonConfig, commonVars } from './common-config.js';
import { type ConfigOf, parseConfig, type Schema } from './config.js';
import { formatIssue } from './errors.js';
import { createLogger, flushLogger, type Logger } from './logger.js';
import { createRegistry, type MetricsSource, type Registry } from './metrics.js';
import { unknownVariables } from './unknown-variables.js';

/** Exit codes (DESIGN.md): 0 clean stop, 1 crash or forced stop, 78 bad config (EX_CONFIG from sysexits.h). */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_CONFIG = 78;

/** What an app's factory returns: something that listens and can be drained. */
export interface Service {
  listen(): Promise<void>;
  /** Stop accepting, let in-flight work finish within `timeoutMs`, then cut the rest. */
  close(opts: { timeoutMs: number }): Promise<void>;
  /** Where it listens, for the "ready" log line. */
  address(): AddressInfo | null;
  /** Overrides the registry for /metrics (a cluster primary aggregates its workers). */
  readonly metrics?: MetricsSource;
  /** Extra read-only JSON endpoints on the admin server (udp-listener's `/datagrams`). */
  readonly adminRoutes?: AdminRoutes;
}

export interface ServiceContext<C> {
  config: C;
  logger: Logger;
  registry: Registry;
}

export interface ServiceDefinition<S extends Schema> {
  name: string;
  version: string;
  schema: S;
  /**
   * Prefixes only this app's variables use (`HELLO_`): an unknown variable
   * carrying one gets a warning even when it is not close to a known name.
   */
  envPrefixes?: readonly string[];
  create(ctx: ServiceContext<ConfigOf<S>>): Service | Promise<Service>;
}

/** The slice of `process` the lifecycle uses; main.ts passes the real one. */
export interface ProcessLike {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stderr: { write(text: string): unknown };
  /** Where log lines go instead of stdout (tests read them from here). */
  readonly logDestination?: DestinationStream;
  on(event: 'SIGTERM' | 'SIGINT', listener: (signal: NodeJS.Signals) => void): unknown;
  on(event: 'uncaughtException' | 'unhandledRejection', listener: (err: unknown) => void): unknown;
  exit(code: number): void;
}

export interface Running {
  logger: Logger;
  admin: AdminServer;
  service: Service;
  readiness(): Readiness;
  /** Resolves when the process has been told to exit, with the code. */
  readonly exited: Promise<number>;
}

/**
 * Runs a service the way DESIGN.md's "Lifecycle" says: parse config (exit 78
 * on any bad variable, one line each, no stack), start the admin server,
 * start the service, mark ready; on SIGTERM/SIGINT go unready, drain with a
 * deadline and exit 0; a second signal exits at once; an uncaught error is
 * logged as fatal and exits 1. Resolves with the running pieces (tests use
 * them), or undefined when config was bad.
 */
export async function runService<S extends Schema & ReturnType<typeof commonVars>>(
  def: ServiceDefinition<S>,
  proc: ProcessLike,
): Promise<Running | undefined> {
  const parsed = parseConfig(def.schema, proc.env);
  if (!parsed.ok) {
    for (const issue of parsed.issues) proc.stderr.write(`${formatIssue(issue)}\n`);
    proc.exit(EXIT_CONFIG);
    return undefined;
  }
  const config = parsed.config as ConfigOf<S> & CommonConfig;
  const logger = createLogger({
    service: def.name,
    version: def.version,
    level: config.LOG_LEVEL,
    format: config.LOG_FORMAT,
    destination: proc.logDestination,
  });

  for (const { variable, closest } of unknownVariables(def.schema, proc.env, {
    prefixes: def.envPrefixes,
  })) {
    logger.warn(
      { variable, closest },
      closest === undefined
        ? `unknown variable ${variable}: ignored`
        : `unknown variable ${variable}: ignored (did you mean ${closest}?)`,
    );
  }

  let state: Readiness = 'starting';
  let exiting = false;
  let resolveExited: (code: number) => void = () => {};
  const exited = new Promise<number>((resolve) => {
    resolveExited = resolve;
  });
  const exit = async (code: number) => {
    if (exiting) return;
    exiting = true;
    await flushLogger(logger);
    resolveExited(code);
    proc.exit(code);
  };
  const fatal = (err: unknown, msg: string) => {
    logger.fatal({ err }, msg);
    void exit(EXIT_FAILURE);
  };
  proc.on('uncaughtException', (err) => fatal(err, 'uncaught exception'));
  proc.on('unhandledRejection', (err) => fatal(err, 'unhandled promise rejection'));

  const registry = createRegistry(def.name);
  let service: Service | undefined;
  const admin = createAdminServer({
    logger,
    livenessStallMs: config.LIVENESS_STALL_MS,
    maxConnections: config.ADMIN_MAX_CONNECTIONS,
    registry,
    metrics: {
      contentType: registry.contentType,
      metrics: () => (service?.metrics ?? registry).metrics(),
    },
    routes: () => service?.adminRoutes,
  });

  const setState = (next: Readiness) => {
    state = next;
    admin.setReadiness(next);
  };

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal during shutdown: exiting now');
      void exit(EXIT_FAILURE);
      return;
    }
    stopping = true;
    setState('draining');
    logger.info({ signal, timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutting down: draining');
    try {
      await service?.close({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
      await admin.close();
      logger.info('stopped');
      await exit(EXIT_OK);
    } catch (err) {
      fatal(err, 'shutdown failed');
    }
  };
  proc.on('SIGTERM', stop);
  proc.on('SIGINT', stop);

  // Which listen a failure belongs to, for cannotListen's one line.
  let binding: ListenTarget = {
    variable: 'ADMIN_PORT',
    port: config.ADMIN_PORT,
    host: config.HOST,
  };
  try {
    const adminAddress = await admin.listen(config.ADMIN_PORT, config.HOST);
    service = await def.create({ config, logger, registry });
    if (stopping) return { logger, admin, service, readiness: () => state, exited };
    binding = { variable: 'PORT', port: config.PORT, host: config.HOST };
    await service.listen();
    const address = service.address();
    if (!stopping) setState('ready');
    logger.info(
      { address: address?.address, port: address?.port, adminPort: adminAddress.port },
      `${def.name} ready on port ${address?.port}, admin on port ${adminAddress.port}`,
    );
  } catch (err) {
    const line = cannotListen(def.name, binding, err);
    if (line === undefined) {
      fatal(err, 'failed to start');
    } else {
      // A port in use is the likeliest first failure and the user's to fix,
      // like bad config: one line on stderr, no stack trace. Log collectors
      // (JSON) also get the record, without the stack; a person's terminal
      // (pretty) only the line.
      const code = (err as { code: string }).code;
      if (config.LOG_FORMAT === 'json') {
        logger.fatal(
          { err: { code, message: line }, variable: binding.variable },
          'failed to start',
        );
      }
      proc.stderr.write(`${line}\n`);
      void exit(EXIT_FAILURE);
    }
  }
  return { logger, admin, service: service!, readiness: () => state, exited };
}

interface ListenTarget {
  variable: 'PORT' | 'ADMIN_PORT';
  port: number;
  host: string | undefined;
}

const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: 'is already in use by another process',
  EACCES:
    'needs privileges (ports below 1024 do, unless net.ipv4.ip_unprivileged_port_start allows)',
  EADDRNOTAVAIL: 'cannot be bound: the address is not one of this machine',
};

/** The one line for a listen error a user fixes (a port in use), else undefined. */
export function cannotListen(
  service: string,
  target: ListenTarget,
  err: unknown,
): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !Object.hasOwn(LISTEN_ERRORS, code)) return undefined;
  const where =
    target.host === undefined ? `port ${target.port}` : `${target.host} port ${target.port}`;
  return `${service}: cannot listen: ${where} (${target.variable}) ${LISTEN_ERRORS[code]} (${code})`;
}
