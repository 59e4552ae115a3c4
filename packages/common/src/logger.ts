import { type DestinationStream, type Logger, pino } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevel } from './common-config.js';
import { FdDestination } from './fd-destination.js';

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
 * synchronously (an FdDestination), as pino's own default does: a line is on
 * its way before the call returns, so nothing is lost on a crash and lines
 * never overtake each other. An asynchronous destination was measured
 * (http-hello, one access line per request, wrk) at about 10% fewer
 * requests per second: every write is a hand-off to libuv's thread pool and
 * back, on a machine whose other core runs the load generator. Per-request
 * logging batches its own lines (see @netlab/http-handlers' access-log.ts)
 * so a busy server makes one write per event-loop turn, not one per
 * request. The cost of sync: if whoever reads stdout stops reading, the
 * server waits for it; if the reader is gone, logging stops and serving
 * goes on.
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
      : new FdDestination(1));
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

/** The parts of sonic-boom (pino.destination) that a clean exit needs. */
interface AsyncDestination {
  _writing: boolean;
  flushSync(): void;
  once(event: 'write', listener: () => void): unknown;
}

function isAsyncDestination(stream: unknown): stream is AsyncDestination {
  return typeof (stream as AsyncDestination | undefined)?.flushSync === 'function';
}

/**
 * Writes every buffered line before the process exits, in order. sonic-boom's
 * own flush() is a no-op without minLength, and pino's exit hook calls
 * flushSync() even while an asynchronous write is still in flight — so the
 * last lines ("stopped") could reach stdout before earlier ones, or after
 * the process is gone. Waiting for the in-flight write first keeps order.
 */
export async function flushLogger(logger: Logger, timeoutMs = 1000): Promise<void> {
  const stream: unknown = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym];
  if (!isAsyncDestination(stream)) return;
  const deadline = Date.now() + timeoutMs;
  while (stream._writing && Date.now() < deadline) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
      stream.once('write', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  try {
    stream.flushSync();
  } catch {
    // Nothing more can be done for a log line at exit; exiting matters more.
  }
}
