import type { ControlRefusal } from './answer-control.js';
import type { HttpResponse } from './respond.js';

/**
 * Streaming answers that show whether a proxy buffers: `/drip` (a body in
 * `count` chunks, `interval` apart, as go-httpbin's) and `/sse` (server-sent
 * events, one per interval, ending after `count` events or `duration`). Each
 * chunk and event carries its send time and its offset from the first, so a
 * client that receives them all at once knows something on the path held
 * them back (buffering), and one that receives them late but spaced knows it
 * was latency.
 */

export type StreamKind = 'drip' | 'sse';

export interface StreamLimits {
  /** The longest a stream may last, count × interval (MAX_STREAM_MS). */
  maxStreamMs: number;
  /** The most bytes a stream may send, padding included (MAX_ANSWER_BYTES). */
  maxAnswerBytes: number;
}

export interface StreamParams {
  count: number;
  intervalMs: number;
  /** Padding bytes per chunk (drip only). */
  size: number;
}

// Fixed bounds, documented in the READMEs: at most this many chunks or
// events, at least this long between them (a 0 interval would be a flood,
// not a stream), and at most this much padding in one chunk.
export const MAX_STREAM_COUNT = 10_000;
export const MIN_STREAM_INTERVAL_MS = 10;
export const MAX_CHUNK_PADDING = 64 * 1024;
const DEFAULT_COUNT = 10;
const DEFAULT_INTERVAL_MS = { drip: 100, sse: 1000 } as const;

const DURATION = /^(\d{1,10}(?:\.\d{1,6})?)(ms|s|m)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };
const INTEGER = /^\d{1,10}$/;

/** Reads `count`, `interval`, `duration` (sse) and `size` (drip) from a query string (with its `?`). */
export function readStreamParams(
  query: string,
  kind: StreamKind,
  limits: StreamLimits,
): StreamParams | ControlRefusal {
  const params = new URLSearchParams(query.length > 1 ? query.slice(1) : '');
  const countText = params.get('count');
  const intervalText = params.get('interval');
  const durationText = kind === 'sse' ? params.get('duration') : null;
  const sizeText = kind === 'drip' ? params.get('size') : null;

  let intervalMs: number = DEFAULT_INTERVAL_MS[kind];
  if (intervalText !== null) {
    const ms = duration(intervalText);
    if (ms === undefined)
      return bad('interval', `expected a duration like 100ms or 1s, got "${clip(intervalText)}"`);
    if (ms < MIN_STREAM_INTERVAL_MS) {
      return outOfRange('interval', `${intervalText} is under ${MIN_STREAM_INTERVAL_MS}ms`);
    }
    intervalMs = ms;
  }
  let count = DEFAULT_COUNT;
  if (countText !== null) {
    if (!INTEGER.test(countText) || Number(countText) < 1) {
      return bad(
        'count',
        `expected a whole number 1-${MAX_STREAM_COUNT}, got "${clip(countText)}"`,
      );
    }
    count = Number(countText);
    if (count > MAX_STREAM_COUNT)
      return outOfRange('count', `${count} is over ${MAX_STREAM_COUNT}`);
  }
  if (durationText !== null) {
    const ms = duration(durationText);
    if (ms === undefined)
      return bad('duration', `expected a duration like 5s, got "${clip(durationText)}"`);
    if (ms > limits.maxStreamMs) {
      return outOfRange(
        'duration',
        `${durationText} is over MAX_STREAM_MS (${limits.maxStreamMs} ms)`,
      );
    }
    // Events go out at 0, interval, 2 × interval, …: those within the duration.
    const within = Math.floor(ms / intervalMs) + 1;
    if (countText === null || within < count) count = within;
  }
  let size = 0;
  if (sizeText !== null) {
    if (!INTEGER.test(sizeText))
      return bad('size', `expected padding bytes per chunk, got "${clip(sizeText)}"`);
    size = Number(sizeText);
    if (size > MAX_CHUNK_PADDING)
      return outOfRange('size', `${size} is over ${MAX_CHUNK_PADDING} per chunk`);
    if (size * count > limits.maxAnswerBytes) {
      return outOfRange(
        'size',
        `${size} × ${count} chunks is over MAX_ANSWER_BYTES (${limits.maxAnswerBytes})`,
      );
    }
  }
  const lasts = (count - 1) * intervalMs;
  if (lasts > limits.maxStreamMs) {
    return outOfRange(
      intervalText !== null && countText === null ? 'interval' : 'count',
      `${count} × ${intervalMs} ms lasts over MAX_STREAM_MS (${limits.maxStreamMs} ms)`,
    );
  }
  return { count, intervalMs, size };
}

export interface StreamHooks {
  /** The server is draining: end the stream at the next tick instead of holding the shutdown. */
  draining(): boolean;
  /** The stream ended: `complete` when every chunk went out and the response ended. */
  ended(bytes: number, complete: boolean): void;
}

/** The head of a streaming answer (without Content-Length: chunked on HTTP/1.1). */
export function streamHeaders(kind: StreamKind): Record<string, string> {
  return kind === 'sse'
    ? { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' }
    : { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' };
}

/**
 * Writes the chunks (or events) of a stream whose head is already written,
 * one per interval. A client that does not read holds the next chunk back
 * (backpressure), and one that leaves stops the timer.
 */
export function runStream(
  res: HttpResponse,
  kind: StreamKind,
  p: StreamParams,
  hooks: StreamHooks,
): void {
  const started = Date.now();
  const padding = p.size > 0 ? 'x'.repeat(p.size) : '';
  let seq = 0;
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  let finished = false;

  const finish = (complete: boolean) => {
    if (finished) return;
    finished = true;
    if (timer !== undefined) clearTimeout(timer);
    hooks.ended(bytes, complete);
  };

  const tick = () => {
    timer = undefined;
    const last = seq + 1 >= p.count || hooks.draining();
    seq++;
    const now = Date.now();
    const fields = `"seq":${seq},"count":${p.count},"sentAt":"${new Date(now).toISOString()}","elapsedMs":${now - started}`;
    const text =
      kind === 'sse'
        ? `id: ${seq}\nevent: tick\ndata: {${fields}}\n\n`
        : `{${fields}${padding === '' ? '' : `,"pad":"${padding}"`}}\n`;
    bytes += Buffer.byteLength(text);
    if (last) {
      res.end(text);
      return;
    }
    const next = () => {
      if (!finished)
        timer = setTimeout(tick, Math.max(0, started + seq * p.intervalMs - Date.now()));
    };
    // Backpressure: the next chunk waits until this one left the buffer.
    if (res.write(text)) next();
    else res.once('drain', next);
  };

  res.once('close', () => finish(res.writableFinished));
  tick();
}

function duration(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (match === null) return undefined;
  return Math.round(Number(match[1]) * UNIT_MS[match[2] ?? 'ms']!);
}

function bad(parameter: string, message: string): ControlRefusal {
  return { code: 'NETLAB_ERR_BAD_CONTROL', parameter, message: `${parameter}: ${message}` };
}

function outOfRange(parameter: string, message: string): ControlRefusal {
  return {
    code: 'NETLAB_ERR_CONTROL_OUT_OF_RANGE',
    parameter,
    message: `${parameter}: ${message}`,
  };
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
