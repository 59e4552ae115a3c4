import { type DestinationStream, type Logger, pino } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevel } from './common-config.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  service: string;
  version: string;
  level?: LogLevel;
  format?: 'json' | 'pretty';
  /** Where lines go. Default: stdout (fd 1). Tests pass an in-memory stream. */
  destination?: DestinationStream;
}

/**
 * pino with `service` and `version` on every line. JSON goes to stdout
 * through an asynchronous sonic-boom: lines written while a write is in
 * flight are coalesced into one syscall, which is what keeps a per-request
 * access log cheap. The price is that lines can sit in memory, so whoever
 * exits the process must flush first (see lifecycle.ts).
 */
export function createLogger(opts: LoggerOptions): Logger {
  const destination =
    opts.destination ??
    (opts.format === 'pretty'
      ? // One line per event; colour follows the terminal (FORCE_COLOR / NO_COLOR).
        pretty({
          sync: true,
          singleLine: true,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname,service,version',
        })
      : pino.destination({ dest: 1, sync: false }));
  // pino's default base (pid, hostname) tells replicas and cluster workers
  // apart; the child adds service and version, serialised once, not per line.
  const root = pino(
    {
      level: opts.level ?? 'info',
      timestamp: pino.stdTimeFunctions.isoTime,
      // Log shippers (Loki, Elasticsearch) read "level":"info" without a lookup
      // table; pino-pretty wants the numbers, so only JSON gets labels.
      ...(opts.format === 'pretty' ? {} : { formatters: { level: (label) => ({ level: label }) } }),
    },
    destination,
  );
  return root.child({ service: opts.service, version: opts.version });
}

/** Resolves once every buffered line has reached the destination (or after `timeoutMs`). */
export function flushLogger(logger: Logger, timeoutMs = 1000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    timer.unref();
    try {
      logger.flush(() => {
        clearTimeout(timer);
        resolve();
      });
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}
