import type { Logger } from '@netlab/common';
import { pino } from 'pino';

export interface AccessEntry {
  method: string | undefined;
  path: string;
  status: number;
  bytes: number;
  durationMs: number;
  requestId: string;
  /** The error code, when the handler refused the request. */
  code?: string | undefined;
}

export interface AccessLog {
  /** Logs one request at info. */
  write(entry: AccessEntry): void;
  /** Hands every pending line to the logger's destination now (before a drain ends). */
  flush(): void;
}

/**
 * The access log: one line per request at info, the same JSON a
 * `logger.info({ method, path, … }, 'request')` call would write.
 *
 * Going through `logger.info` costs more per request than the rest of
 * serving `GET /` together (measured: about half of bare Node's throughput).
 * Two things dominate: pino formats a fresh ISO timestamp per line, and the
 * async sonic-boom destination measures the byte length of its whole pending
 * buffer on every write, so under load each line pays for all the lines
 * queued before it. Here the line is built from the logger's own parts (its
 * level label, bindings, time function and message key, which pino exposes
 * through `pino.symbols` for exactly this kind of integration), the
 * timestamp is formatted at most once per millisecond, and lines collected
 * during one event-loop turn reach the destination as one write.
 *
 * The logger must not use hooks, mixins, redaction or a custom `formatters.log`
 * (netlab's does not): those are skipped here. A logger whose internals do not
 * look like pino's gets plain `logger.info` calls instead.
 */
export function createAccessLog(logger: Logger): AccessLog | undefined {
  if (!logger.isLevelEnabled('info')) return undefined;
  const fast = fastParts(logger);
  if (fast === undefined) {
    return {
      write: (e) => {
        if (e.code === undefined) {
          const { code: _, ...rest } = e;
          logger.info(rest, 'request');
        } else logger.info(e, 'request');
      },
      flush: () => {},
    };
  }
  const { head, tail, stream, time } = fast;
  let lastMs = -1;
  let lastTime = '';
  let pending = '';
  let scheduled = false;
  const writeOut = () => {
    if (pending === '') return;
    const lines = pending;
    pending = '';
    stream.write(lines);
  };
  const flush = () => {
    scheduled = false;
    writeOut();
  };
  return {
    write(e) {
      const now = Date.now();
      if (now !== lastMs) {
        lastMs = now;
        lastTime = time();
      }
      // method is an HTTP token (Node's parser allows nothing else), requestId
      // passed isSaneRequestId or is ours, code is a constant: none can need
      // JSON escaping. The path is the client's and always gets it.
      const line =
        `${head}${lastTime}${fast.bindings},"method":"${e.method}",` +
        `"path":${JSON.stringify(e.path)},"status":${e.status},"bytes":${e.bytes},` +
        `"durationMs":${e.durationMs},"requestId":"${e.requestId}"` +
        `${e.code === undefined ? '' : `,"code":"${e.code}"`}${tail}`;
      if (pending.length + line.length > MAX_BATCH_CHARS) writeOut();
      pending += line;
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}

// With WORKERS > 1 every worker writes to the same stdout. A pipe keeps a
// write of at most PIPE_BUF bytes (4096 on Linux) in one piece, so batches
// stay under it and lines of different workers never interleave. Request
// text is latin1 as Node's parser hands it over: at most 2 UTF-8 bytes a
// character.
const MAX_BATCH_CHARS = 2048;

interface FastParts {
  /** `{"level":"info"` (or `{"level":30`, as the logger's formatter has it). */
  head: string;
  /** `,"pid":…,"hostname":…,"service":…,"version":…` */
  bindings: string;
  /** `,"msg":"request"}\n` */
  tail: string;
  /** The logger's time function: `,"time":"…"`. */
  time: () => string;
  stream: { write(line: string): unknown };
}

type PinoInternals = Record<symbol, unknown>;

function fastParts(logger: Logger): FastParts | undefined {
  const s = pino.symbols;
  const internals = logger as unknown as PinoInternals;
  const stream = internals[s.streamSym] as { write?: unknown } | undefined;
  const time = internals[s.timeSym];
  const bindings = internals[s.chindingsSym];
  const messageKey = internals[s.messageKeySym];
  const formatters = internals[s.formattersSym] as
    | { level?: (label: string, value: number) => object }
    | undefined;
  if (
    typeof stream?.write !== 'function' ||
    typeof time !== 'function' ||
    typeof bindings !== 'string' ||
    typeof messageKey !== 'string' ||
    typeof formatters?.level !== 'function'
  ) {
    return undefined;
  }
  const level = JSON.stringify(formatters.level('info', logger.levels.values.info ?? 30));
  return {
    head: level.slice(0, -1),
    bindings,
    tail: `,${JSON.stringify(messageKey)}:"request"}\n`,
    time: time as () => string,
    stream: stream as FastParts['stream'],
  };
}
