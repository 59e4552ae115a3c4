import { close } from 'node:fs';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Logger } from '@netlab/common';
import {
  type AccessOrigin,
  type Cut,
  type CutReason,
  createAccessLog,
  declaresBody,
  type GuardedHandler,
  HTTP_ERRORS,
  type HttpErrorCode,
  errorBody as httpErrorBody,
  isSaneRequestId,
  logCutLine,
  logRefusalLine,
  type Refusal,
  requestIdGenerator,
  requestProblem,
} from '@netlab/http-handlers';
import { evaluatePreconditions, ifRangeMatches, validatorsOf } from './conditional.js';
import { errorBody, STREAMER_ERRORS, type StreamerErrorCode } from './errors.js';
import { type BodyPart, BufferPool, sendFileBody } from './file-body.js';
import type { ListQuery, MediaDir, MediaFile } from './media-dir.js';
import { mediaName } from './media-path.js';
import type { StreamerMetrics } from './metrics.js';
import { byteranges, newBoundary } from './multipart.js';
import { PAGE_CSP, playerPage } from './page.js';
import { PLAYER_SCRIPT } from './player-script.js';
import { parseRange, type RangeResult } from './range.js';
import { pace, readRate } from './rate.js';

export interface StreamerHandlerOptions {
  /** The peer and client for each access line (behind a PROXY protocol gate). */
  accessOrigin?: (req: IncomingMessage) => AccessOrigin | undefined;
  media: MediaDir;
  cacheControl: string;
  chunkBytes: number;
  /** Shared read-ahead memory (see BufferPool). */
  readAheadBytes: number;
  /** Most files one /api/videos page holds (and the default page size); the page lists this many. */
  maxListedFiles: number;
  /** More ranges in one Range header get 416 NETLAB_ERR_TOO_MANY_RANGES. */
  maxRanges: number;
  /** More request header lines get 431 (MAX_HEADERS_COUNT; see requestProblem). */
  maxHeadersCount: number;
  logger: Logger;
  metrics: StreamerMetrics;
  /** Makes request ids; default: a random per-process prefix and a counter. */
  requestId?: () => string;
}

/** A request listener with the hooks installHttpGuards wires around it. */
export interface StreamerHandler extends GuardedHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  /** 'checkContinue': no route reads a body, so this never sends `100 Continue`. */
  checkContinue(req: IncomingMessage, res: ServerResponse): void;
  /**
   * The server is about to cut `socket` (the idle sweep, the shutdown
   * deadline, a parse error): a download on it is logged with this code and
   * reason instead of 499 ("the client left").
   */
  noteCut(socket: object, code: HttpErrorCode, reason: CutReason): void;
  /** Hands pending access log lines to the logger now; call before the process exits. */
  flushLog(): void;
  /** File bodies being sent now. */
  readonly streams: number;
  /** Bytes of read buffers lent to downloads now. */
  readonly bufferBytes: number;
  /** Read buffers kept for the next downloads (BufferPool.idleBytes). */
  readonly idleBufferBytes: number;
}

type Route = '/' | '/player.js' | '/api/videos' | '/videos' | 'unmatched';

/** One request and what the handler has learnt about it, from routing to the access log. */
interface Exchange {
  readonly route: Route;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The raw path of the request target, without the query. */
  readonly path: string;
  readonly query: string;
  readonly start: number;
  readonly requestId: string;
  /** Answer with `Connection: close`: a body was sent (none is ever read), or the request cannot be trusted. */
  close: boolean;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const HTML_TYPE = 'text/html; charset=utf-8';
const SCRIPT_TYPE = 'text/javascript; charset=utf-8';
// nginx's code for "the client went away before the response was complete".
const CLIENT_CLOSED = 499;
/** The access line's code for a body cut because the file could not be read to its end. */
const FILE_READ = 'NETLAB_ERR_FILE_READ';
// absolute-form request targets (RFC 9112 §3.2.2), which a server MUST accept.
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/;
// An `Expect` other than 100-continue (the server's 'checkExpectation').
const UNSUPPORTED_EXPECTATION = true;

/**
 * `/` (the player page), `/api/videos` (the list as JSON) and
 * `/videos/{name}` (a file, with Range and conditional requests). GET and
 * HEAD only. Every response carries `X-Request-Id` and
 * `X-Content-Type-Options: nosniff`, and gets one access log line.
 */
export function createStreamerHandler(opts: StreamerHandlerOptions): StreamerHandler {
  const { media, metrics } = opts;
  const pool = new BufferPool(opts.chunkBytes, opts.readAheadBytes);
  const nextId = opts.requestId ?? requestIdGenerator();
  const accessLog = createAccessLog(opts.logger);
  let draining = false;
  let streams = 0;
  const cuts = new WeakMap<object, Cut>();

  function done(x: Exchange, status: number, bytes: number, code?: string): void {
    metrics.requests.inc({ route: x.route, status: String(status) });
    accessLog?.write({
      method: x.req.method,
      path: x.path,
      status,
      bytes,
      durationMs: Math.round((performance.now() - x.start) * 1000) / 1000,
      requestId: x.requestId,
      code,
      origin: opts.accessOrigin?.(x.req),
    });
  }

  /** Every response's head goes out here, so a drain marks each one `Connection: close`. */
  function writeHead(x: Exchange, status: number, headers: OutgoingHttpHeaders): void {
    headers['x-request-id'] = x.requestId;
    headers['x-content-type-options'] = 'nosniff';
    if (draining || x.close) headers.connection = 'close';
    x.res.writeHead(status, headers);
  }

  /** A whole small body (or none for HEAD) in one write. */
  function send(
    x: Exchange,
    status: number,
    headers: OutgoingHttpHeaders,
    body: string,
    code?: string,
  ): void {
    const length = Buffer.byteLength(body);
    headers['content-length'] = length;
    writeHead(x, status, headers);
    if (x.req.method === 'HEAD') {
      x.res.end();
      done(x, status, 0, code);
    } else {
      x.res.end(body);
      done(x, status, length, code);
    }
  }

  function fail(x: Exchange, code: StreamerErrorCode, extra: OutgoingHttpHeaders = {}): void {
    const headers: OutgoingHttpHeaders = {
      'content-type': JSON_TYPE,
      'cache-control': 'no-store',
      ...extra,
    };
    send(x, STREAMER_ERRORS[code].status, headers, errorBody(code), code);
  }

  async function page(x: Exchange): Promise<void> {
    const chosen = new URLSearchParams(x.query).get('v') ?? undefined;
    const { files } = await media.list({ offset: 0, limit: opts.maxListedFiles, all: false });
    send(
      x,
      200,
      {
        'content-type': HTML_TYPE,
        'cache-control': 'no-cache',
        'content-security-policy': PAGE_CSP,
      },
      playerPage(files, chosen),
    );
  }

  async function list(x: Exchange): Promise<void> {
    const query = listQuery(x.query, opts.maxListedFiles);
    if (query === undefined) return fail(x, 'NETLAB_ERR_BAD_QUERY');
    const { files, total } = await media.list(query);
    const headers: OutgoingHttpHeaders = {
      'content-type': JSON_TYPE,
      'cache-control': 'no-cache',
      'x-total-count': total,
    };
    // Paging as GitHub's API does it: the body stays a plain array, the way
    // on is a Link (RFC 8288), absent on the last page.
    const next = query.offset + query.limit;
    if (next < total) {
      const all = query.all ? '&all=1' : '';
      headers.link = `</api/videos?offset=${next}&limit=${query.limit}${all}>; rel="next"`;
    }
    send(x, 200, headers, `${JSON.stringify(files)}\n`);
  }

  async function file(x: Exchange, raw: string): Promise<void> {
    const checked = mediaName(raw);
    if ('code' in checked) return fail(x, checked.code);
    const f = await media.open(checked.name);
    if (f === undefined) return fail(x, 'NETLAB_ERR_NOT_FOUND');
    let streaming = false;
    try {
      streaming = answerFile(x, f);
    } finally {
      if (!streaming) close(f.fd, () => {});
    }
  }

  /** Answers with `f`; true when its body is being streamed (the stream then owns the fd). */
  function answerFile(x: Exchange, f: MediaFile): boolean {
    const { req } = x;
    const rate = readRate(x.query);
    if (rate === null) {
      fail(x, 'NETLAB_ERR_BAD_RATE');
      return false;
    }
    const v = validatorsOf(f.stat);
    // The validators and caching headers go on 200, 206 and 304 alike (RFC 9110 §15.4.5).
    const headers: OutgoingHttpHeaders = {
      etag: v.etag,
      'last-modified': v.lastModified,
      'cache-control': opts.cacheControl,
    };
    const precondition = evaluatePreconditions(req.headers, v);
    if (precondition === 'failed') {
      fail(x, 'NETLAB_ERR_PRECONDITION_FAILED');
      return false;
    }
    if (precondition === 'not-modified') {
      writeHead(x, 304, headers);
      x.res.end();
      done(x, 304, 0);
      return false;
    }

    headers['accept-ranges'] = 'bytes';
    let range: RangeResult = { type: 'none' };
    const rangeHeader = req.headers.range;
    const ifRange = req.headers['if-range'];
    if (
      rangeHeader !== undefined &&
      (typeof ifRange !== 'string' || ifRangeMatches(ifRange, v, Date.now()))
    ) {
      range = parseRange(rangeHeader, f.size, opts.maxRanges);
    }
    if (range.type === 'unsatisfiable' || range.type === 'too-many') {
      fail(
        x,
        range.type === 'too-many'
          ? 'NETLAB_ERR_TOO_MANY_RANGES'
          : 'NETLAB_ERR_RANGE_NOT_SATISFIABLE',
        { 'content-range': `bytes */${f.size}` },
      );
      return false;
    }
    let status = 200;
    let parts: BodyPart[] = [{ start: 0, end: f.size - 1 }];
    let tail: Buffer | undefined;
    let length = f.size;
    headers['content-type'] = f.type;
    if (range.type === 'range') {
      status = 206;
      const { start, end } = range;
      parts = [{ start, end }];
      length = end - start + 1;
      headers['content-range'] = `bytes ${start}-${end}/${f.size}`;
    } else if (range.type === 'multiple') {
      status = 206;
      const body = byteranges(range.ranges, f.size, f.type, newBoundary());
      ({ tail, length } = body);
      parts = [...body.parts];
      headers['content-type'] = body.contentType;
    }
    headers['content-length'] = length;
    writeHead(x, status, headers);
    if (req.method === 'HEAD' || length === 0) {
      x.res.end();
      done(x, status, 0);
      return false;
    }
    stream(x, f, status, parts, tail, rate);
    return true;
  }

  /** The body; `sendFileBody` owns (and closes) the file from here on. */
  function stream(
    x: Exchange,
    f: MediaFile,
    status: number,
    parts: BodyPart[],
    tail: Buffer | undefined,
    rate?: number,
  ): void {
    streams++;
    const paced = rate === undefined ? undefined : pace(rate);
    sendFileBody(x.res, f.fd, parts, tail, pool, paced, (result) => {
      streams--;
      metrics.bytesSent.inc(result.bytes);
      if (result.error !== undefined) {
        // The file failed or shrank under the download: the status went out,
        // the body was cut here. Not the client's doing, so not 499: the
        // status sent, the bytes that went out, and why.
        opts.logger.warn(
          { err: result.error, path: x.path, requestId: x.requestId, code: FILE_READ },
          'read failed',
        );
        done(x, status, result.bytes, FILE_READ);
      } else if (result.complete) done(x, status, result.bytes);
      else cutShort(x, result.bytes);
    });
  }

  /**
   * A download that ended before its last byte: the server cut it (it said
   * why in noteCut), or the client left (nginx's 499).
   */
  function cutShort(x: Exchange, bytes: number): void {
    const cut = cuts.get(x.req.socket);
    if (cut === undefined) {
      done(x, CLIENT_CLOSED, bytes);
      return;
    }
    metrics.requests.inc({ route: x.route, status: String(HTTP_ERRORS[cut.code].status) });
    if (accessLog !== undefined) {
      logCutLine(
        opts.logger,
        { method: x.req.method, path: x.path, bytes, start: x.start, requestId: x.requestId },
        cut,
      );
    }
  }

  function route(path: string): Route {
    if (path === '/') return '/';
    if (path === '/player.js') return '/player.js';
    if (path === '/api/videos') return '/api/videos';
    if (path.startsWith('/videos/')) return '/videos';
    return 'unmatched';
  }

  const handler = (req: IncomingMessage, res: ServerResponse, expect = false): void => {
    const start = performance.now();
    const sent = req.headers['x-request-id'];
    const requestId = typeof sent === 'string' && isSaneRequestId(sent) ? sent : nextId();
    let target = req.url ?? '/';
    const absolute = ABSOLUTE_FORM.exec(target);
    if (absolute !== null) target = target.slice(absolute[0].length) || '/';
    const q = target.indexOf('?');
    const path = q === -1 ? target : target.slice(0, q);
    const x: Exchange = {
      route: route(path),
      req,
      res,
      path,
      query: q === -1 ? '' : target.slice(q + 1),
      start,
      requestId,
      close: declaresBody(req),
    };
    const problem: HttpErrorCode | undefined =
      requestProblem(req, opts.maxHeadersCount) ??
      (expect === UNSUPPORTED_EXPECTATION ? 'NETLAB_ERR_EXPECTATION_FAILED' : undefined);
    if (problem !== undefined) {
      // Whatever follows a malformed request on the connection cannot be trusted.
      x.close = true;
      send(
        x,
        HTTP_ERRORS[problem].status,
        { 'content-type': JSON_TYPE, 'cache-control': 'no-store' },
        httpErrorBody(problem),
        problem,
      );
      return;
    }
    if (x.route === 'unmatched') {
      fail(x, 'NETLAB_ERR_NOT_FOUND');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      // The body, if any, is not read: the connection cannot carry another request.
      x.close = true;
      fail(x, 'NETLAB_ERR_METHOD_NOT_ALLOWED', { allow: 'GET, HEAD' });
      return;
    }
    if (x.route === '/player.js') {
      send(x, 200, { 'content-type': SCRIPT_TYPE, 'cache-control': 'no-cache' }, PLAYER_SCRIPT);
      return;
    }
    const work =
      x.route === '/'
        ? page(x)
        : x.route === '/api/videos'
          ? list(x)
          : file(x, path.slice('/videos/'.length));
    work.catch((err: unknown) => {
      opts.logger.error({ err, path, requestId }, 'request failed');
      if (res.headersSent) res.destroy();
      else fail(x, 'NETLAB_ERR_INTERNAL', { connection: 'close' });
    });
  };

  return Object.defineProperties(handler, {
    // No route reads a body, so none is invited: the answer comes instead of
    // `100 Continue`, with `Connection: close` (see declaresBody).
    checkContinue: { value: (req: IncomingMessage, res: ServerResponse) => handler(req, res) },
    checkExpectation: {
      value: (req: IncomingMessage, res: ServerResponse) =>
        handler(req, res, UNSUPPORTED_EXPECTATION),
    },
    logRefusal: {
      value(refusal: Refusal, counted: boolean) {
        const status = HTTP_ERRORS[refusal.code].status;
        if (counted) metrics.requests.inc({ route: 'unmatched', status: String(status) });
        if (accessLog !== undefined) logRefusalLine(opts.logger, refusal, nextId());
      },
    },
    maxHeadersCount: { value: opts.maxHeadersCount },
    noteCut: {
      value(socket: object, code: HttpErrorCode, reason: CutReason) {
        cuts.set(socket, { code, reason });
      },
    },
    drain: { value: () => (draining = true) },
    flushLog: { value: () => accessLog?.flush() },
    streams: { get: () => streams },
    bufferBytes: { get: () => pool.lentBytes },
    idleBufferBytes: { get: () => pool.idleBytes },
  }) as StreamerHandler;
}

// Nine digits: an offset past any folder a listing can hold, and no float or exponent.
const COUNT = /^\d{1,9}$/;

/**
 * `?offset=&limit=&all=` of /api/videos; undefined when one is malformed:
 * not a decimal integer, `limit` outside 1..max, `all` other than 0/1/true/false.
 */
export function listQuery(query: string, max: number): ListQuery | undefined {
  const params = new URLSearchParams(query);
  const offset = params.get('offset') ?? '0';
  const limit = params.get('limit') ?? String(max);
  const all = params.get('all') ?? '0';
  if (!COUNT.test(offset) || !COUNT.test(limit)) return undefined;
  if (Number(limit) < 1 || Number(limit) > max) return undefined;
  if (!['0', '1', 'true', 'false'].includes(all)) return undefined;
  return { offset: Number(offset), limit: Number(limit), all: all === '1' || all === 'true' };
}
