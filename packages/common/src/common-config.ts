import { int, oneOf, port, type Schema, string } from './config.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The variables every app has (DESIGN.md, "Config"). An app spreads these
 * into its own schema with its default ports, then adds its own prefixed
 * variables.
 */
export function commonVars(defaults: { port: number; adminPort: number }) {
  return {
    HOST: string({
      default: undefined,
      doc: 'Address to listen on. Unset: every interface, IPv4 and IPv6 where the OS has it.',
      maxLength: 255,
    }),
    PORT: port(defaults.port, 'Port of the service itself (0 picks a free one).'),
    ADMIN_PORT: port(
      defaults.adminPort,
      'Port of the admin server: /livez, /healthz, /readyz, /metrics (0 picks a free one).',
    ),
    ADMIN_MAX_CONNECTIONS: int({
      default: 64,
      min: 1,
      max: 10_000,
      doc: 'Open admin connections at most; one more is closed on arrival, counted in netlab_admin_connections_rejected_total and logged. Keeps idle admin clients from using up the file descriptors the service port needs.',
    }),
    LOG_LEVEL: oneOf(LOG_LEVELS, 'info', 'Lowest level written to the log.'),
    LOG_FORMAT: oneOf(
      ['json', 'pretty'] as const,
      'json',
      'json: one pino JSON line per event; pretty: coloured lines for people.',
    ),
    SHUTDOWN_TIMEOUT_MS: int({
      default: 10_000,
      min: 0,
      max: 600_000,
      doc: 'On SIGTERM/SIGINT, how long in-flight work may take before it is cut off.',
    }),
    LIVENESS_STALL_MS: int({
      default: 10_000,
      min: 0,
      max: 600_000,
      doc: 'GET /livez answers 503 once the main event loop has not turned for this long (stuck, not merely busy: probes are served from their own thread). 0: never.',
    }),
  } satisfies Schema;
}

export type CommonConfig = {
  readonly HOST: string | undefined;
  readonly PORT: number;
  readonly ADMIN_PORT: number;
  readonly ADMIN_MAX_CONNECTIONS: number;
  readonly LOG_LEVEL: LogLevel;
  readonly LOG_FORMAT: 'json' | 'pretty';
  readonly SHUTDOWN_TIMEOUT_MS: number;
  readonly LIVENESS_STALL_MS: number;
};
