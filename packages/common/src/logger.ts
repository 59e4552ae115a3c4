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

/** The public API of sonic-boom (pino.destination) that a clean exit needs. */
interface SonicBoomLike {
  flushSync(): void;
  end(): void;
  once(event: 'close' | 'error', listener: () => void): unknown;
}

function isSonicBoom(stream: unknown): stream is SonicBoomLike {
  const s = stream as Partial<SonicBoomLike> | undefined;
  return typeof s?.flushSync === 'function' && typeof s.end === 'function';
}

/**
 * Writes every buffered line before the process exits, in order: the last
 * call before exit, since the destination is closed (the logger writes
 * nothing after it). netlab's own destinations write synchronously and need
 * nothing; this is for an asynchronous sonic-boom (`pino.destination({ sync:
 * false })`) passed in. Its own flush() does nothing without minLength, and
 * pino's exit hook calls flushSync() even while an asynchronous write is in
 * flight, so the last lines ("stopped") could reach stdout before earlier
 * ones, or not at all. end() is public and does it right: it waits for the
 * write in flight, writes the rest in order, then emits 'close' (fds 1 and
 * 2 stay open). Should that take longer than `timeoutMs`, flushSync() writes
 * what is left.
 */
export async function flushLogger(logger: Logger, timeoutMs = 1000): Promise<void> {
  const stream: unknown = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym];
  if (!isSonicBoom(stream)) return;
  let timer: NodeJS.Timeout | undefined;
  const done = await new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
    stream.once('close', () => resolve(true));
    stream.once('error', () => resolve(false));
    try {
      stream.end();
    } catch {
      resolve(true); // already closed: nothing is left to write
    }
  });
  clearTimeout(timer);
  if (done) return;
  try {
    stream.flushSync();
  } catch {
    // Nothing more can be done for a log line at exit; exiting matters more.
  }
}
