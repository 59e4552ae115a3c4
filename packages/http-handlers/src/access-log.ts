import type { Logger } from '@netlab/common';
import { pino } from 'pino';
import { type BatchDestination, LineBatch } from './line-batch.js';

export interface AccessEntry {
  method: string | undefined;
  path: string;
  status: number;
  bytes: number;
  durationMs: number;
  requestId: string;
  /** The error code, when the handler refused the request. */
  code?: string | undefined;
  /** The faults answer control injected (`status,delay`), when it did. */
  faults?: string | undefined;
  /** Behind a PROXY protocol balancer: the TCP peer and the client from the header. */
  origin?: AccessOrigin | undefined;
}

/** The TCP peer (the balancer) and the real client, as the PROXY header said. */
export interface AccessOrigin {
  peer: string | null;
  client: string | null;
  clientPort: number | null;
}

export interface AccessLog {
  /** Logs one request at info. */
  write(entry: AccessEntry): void;
  /** Hands every pending line to the logger's destination now (before a drain ends). */
  flush(): void;
}

export interface AccessLogOptions {
  /**
   * Other processes write to the same stdout (cluster workers sharing the
   * primary's pipe): keep every write under PIPE_BUF so lines never
   * interleave. Otherwise a batch may hold a whole busy turn's lines.
   */
  sharedOutput?: boolean;
}

/**
 * The access log: one line per request at info, the same JSON a
 * `logger.info({ method, path, … }, 'request')` call would write.
 *
 * Going through `logger.info` costs more per request than the rest of
 * serving `GET /` together (measured: about half of bare Node's throughput).
 * Two things dominate: pino formats a fresh ISO timestamp per line, and every
 * write to its sonic-boom destination is a syscall plus a byte count and a
 * full copy of the string. Here the line is built from the logger's own
 * parts (its level label, bindings, time function and message key, which
 * pino exposes through `pino.symbols` for exactly this kind of integration),
 * the timestamp is formatted at most once per millisecond, and the lines of
 * one event-loop turn reach the destination as one write.
 *
 * The logger must not use hooks, mixins, redaction or a custom `formatters.log`
 * (netlab's does not): those are skipped here. A logger whose internals do not
 * look like pino's gets plain `logger.info` calls instead.
 */
export function createAccessLog(
  logger: Logger,
  opts: AccessLogOptions = {},
): AccessLog | undefined {
  if (!logger.isLevelEnabled('info')) return undefined;
  const fast = fastParts(logger);
  if (fast === undefined) {
    return {
      write: (e) => {
        const { code, faults, path, origin, ...rest } = e;
        const cut = path.length > MAX_LOGGED_PATH;
        logger.info(
          {
            ...rest,
            path: cut ? truncatedPath(path) : path,
            ...(cut ? { pathLength: path.length } : {}),
            ...(code === undefined ? {} : { code }),
            ...(faults === undefined ? {} : { faults }),
            ...origin,
          },
          'request',
        );
      },
      flush: () => {},
    };
  }
  const { head, bindings, tail, time } = fast;
  const batch = new LineBatch(fast.stream, opts.sharedOutput ? PIPE_BUF : BATCH_BYTES);
  let lastMs = -1;
  // Everything before the method: level, time, bindings. Only the time
  // changes, so it is rebuilt (and encoded) at most once per millisecond.
  let prefix = Buffer.alloc(0);
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    batch.flush();
  };
  return {
    write(e) {
      const now = Date.now();
      if (now !== lastMs) {
        lastMs = now;
        prefix = Buffer.from(`${head}${time()}${bindings},"method":"`);
      }
      // method is an HTTP token (Node's parser allows nothing else), requestId
      // passed isSaneRequestId or is ours, code is a constant: none can need
      // JSON escaping. The path is the client's and always gets it.
      const path =
        e.path.length > MAX_LOGGED_PATH
          ? `${JSON.stringify(truncatedPath(e.path))},"pathLength":${e.path.length}`
          : JSON.stringify(e.path);
      batch.add(
        prefix,
        `${e.method}","path":${path},"status":${e.status},` +
          `"bytes":${e.bytes},"durationMs":${e.durationMs},"requestId":"${e.requestId}"` +
          `${e.code === undefined ? '' : `,"code":"${e.code}"`}` +
          // FAULT_KINDS joined by commas: nothing to escape.
          `${e.faults === undefined ? '' : `,"faults":"${e.faults}"`}` +
          // Addresses are Node's or parsed from a PROXY header (digits, hex, dots, colons): stringify anyway.
          `${e.origin === undefined ? '' : `,"peer":${JSON.stringify(e.origin.peer)},"client":${JSON.stringify(e.origin.client)},"clientPort":${e.origin.clientPort}`}${tail}`,
      );
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}

// The longest request target logged whole. A client chooses its URL (up to
// MAX_HEADER_SIZE), and a line must fit in one write of at most PIPE_BUF to
// stay whole next to other workers' lines: a longer path is cut here, ends
// in "…", and the line says how long it was (`pathLength`). Node's strict
// parser lets only printable ASCII through in a URL (a control character or
// a byte over 0x7F gets 400), at most 2 bytes each in JSON (`\"`, `\\`): the
// path takes at most 2 KiB of the line.
export const MAX_LOGGED_PATH = 1024;

function truncatedPath(path: string): string {
  return `${path.slice(0, MAX_LOGGED_PATH)}…`;
}

// Cluster workers write to the same stdout. A pipe keeps a write of at most
// PIPE_BUF bytes (4096 on Linux) in one piece, so their batches stay under it
// and lines of different workers never interleave.
const PIPE_BUF = 4096;
// Room for a busy turn's lines (wrk's 64 connections: about 16 KiB). Cutting
// batches at 2 KiB (8 lines) cost about 2% of GET / throughput.
const BATCH_BYTES = 64 * 1024;

interface FastParts {
  /** `{"level":"info"` (or `{"level":30`, as the logger's formatter has it). */
  head: string;
  /** `,"pid":…,"hostname":…,"service":…,"version":…` */
  bindings: string;
  /** `,"msg":"request"}\n` */
  tail: string;
  /** The logger's time function: `,"time":"…"`. */
  time: () => string;
  stream: BatchDestination;
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
