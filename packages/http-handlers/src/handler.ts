import { STATUS_CODES } from 'node:http';
import { constants as http2 } from 'node:http2';
import { Socket } from 'node:net';
import type { Logger } from '@netlab/common';
import { prefersJson } from './accept.js';
import { type AccessOrigin, createAccessLog } from './access-log.js';
import {
  type AnswerControl,
  type ControlRefusal,
  filler,
  fillerText,
  isRefusal,
  mayControl,
  readControl,
} from './answer-control.js';
import { HTTP_ERRORS, type HttpErrorCode } from './errors.js';
import { closeLikeServer } from './node-internals.js';
import { headProblem } from './request-checks.js';
import { isSaneRequestId, requestIdGenerator } from './request-id.js';
import {
  errorBody,
  type Headers,
  type HttpRequest,
  type HttpResponse,
  JSON_TYPE,
  TEXT_TYPE,
} from './respond.js';
import { RequestStats } from './stats.js';
import { readStreamParams, runStream, type StreamKind, streamHeaders } from './streaming.js';
import { type Identity, originForm, whoami } from './whoami.js';

export interface HttpHandlerOptions extends Identity {
  /** The body of `GET /`. */
  helloMessage: string;
  /** `POST|PUT /echo` bodies over this get 413. */
  maxBodyBytes: number;
  /** `GET /delay/{ms}` and a `delay` control over this get 400. */
  maxDelayMs: number;
  /**
   * Answer control (ANSWER_CONTROL): false ignores the query's and the
   * X-Netlab-* headers' controls, and answers as if there were none. Default true.
   */
  answerControl?: boolean;
  /** A `size` control over this gets 400 (MAX_ANSWER_BYTES); default 16 MiB. */
  maxAnswerBytes?: number;
  /** More `header` controls than this get 400 (MAX_ANSWER_HEADERS); default 16. */
  maxAnswerHeaders?: number;
  /** A `/drip` or `/sse` lasting longer than this gets 400 (MAX_STREAM_MS); default 60 s. */
  maxStreamMs?: number;
  /**
   * Requests with more header lines than this get 431. Node's parser keeps
   * only `server.maxHeadersCount` of them (2,000 by default) and drops the
   * rest without a word, so installHttpGuards sets that to one more than
   * this, and the handler sees whether there were too many. Default 100 (as
   * Apache's LimitRequestFields).
   */
  maxHeadersCount?: number;
  logger: Logger;
  /** Makes request ids; default: a random per-process prefix and a counter. */
  requestId?: () => string;
  /** Other processes share this one's stdout (cluster workers): see AccessLogOptions. */
  sharedLogOutput?: boolean;
  /** The peer and client for each access line (set behind a PROXY protocol gate). */
  accessOrigin?: (req: HttpRequest) => AccessOrigin | undefined;
  /** More fields for /whoami (https-secure adds the TLS session). */
  whoamiExtra?: (req: HttpRequest) => Record<string, unknown>;
  /**
   * Headers every response of the handler carries, refusals and the answer
   * to `Expect: 100-continue` included (https-secure: Strict-Transport-Security).
   */
  responseHeaders?: Readonly<Headers>;
}

/** A `(req, res)` request listener, plus the hooks a server wires up around it. */
export interface HttpHandler {
  (req: HttpRequest, res: HttpResponse): void;
  /**
   * For the server's 'checkContinue' event: decides the request like any
   * other, and sends `100 Continue` only to an echo it will read. Everything
   * it would refuse (413, 405, 404, a bad Host) is answered without inviting
   * the body.
   */
  checkContinue(req: HttpRequest, res: HttpResponse): void;
  /** For the server's 'checkExpectation' event (an `Expect` other than 100-continue): 417. */
  checkExpectation(req: HttpRequest, res: HttpResponse): void;
  /**
   * The server is about to cut `socket` (idle, shutdown deadline, a parse
   * error): the request on it, if any, is logged with this code and reason
   * instead of 499 ("the client left").
   */
  noteCut(socket: object, code: HttpErrorCode, reason: CutReason): void;
  /**
   * Logs a refusal no request object reached (a parse error, CONNECT): an
   * access line with its status and code. `counted` also counts it as a
   * request (route `unmatched`).
   */
  logRefusal(refusal: Refusal, counted: boolean): void;
  /** From now on every HTTP/1 response carries `Connection: close` (graceful drain). */
  drain(): void;
  /** Hands pending access log lines to the logger now; call before the process exits. */
  flushLog(): void;
  readonly stats: RequestStats;
  /** The `maxHeadersCount` option, for the server's parser (see installHttpGuards). */
  readonly maxHeadersCount: number;
}

/** Why the server, not the client, ended a connection. */
export type CutReason = 'idle' | 'shutdown' | 'protocol-error' | 'timeout';

export interface Refusal {
  code: HttpErrorCode;
  method?: string | undefined;
  path?: string | undefined;
  reason?: CutReason | undefined;
  /** More fields for the log line: the parser's error, the peer. */
  detail?: Record<string, unknown>;
}

// Route indexes into stats.ROUTES.
const HELLO = 0;
const WHOAMI = 1;
const ECHO = 2;
const STATUS = 3;
const DELAY = 4;
const UNMATCHED = 5;
const DRIP = 6;
const SSE = 7;

/**
 * One request and what the handler has learnt about it: passed whole from
 * routing to answering to the access log, instead of six loose arguments.
 */
interface Exchange {
  /** An index into stats.ROUTES. */
  readonly route: number;
  readonly req: HttpRequest;
  readonly res: HttpResponse;
  /** The request target's path, without the query. */
  readonly path: string;
  /** performance.now() when the request arrived (0 when the access log is off). */
  readonly start: number;
  readonly requestId: string;
  /** Answer with `Connection: close` (HTTP/1): the request's body will not be read. */
  close: boolean;
  /** What answer control drew for this request (answer-control.ts). */
  control?: AnswerControl;
}

function routeOf(path: string): number {
  switch (path) {
    case '/':
      return HELLO;
    case '/whoami':
      return WHOAMI;
    case '/echo':
      return ECHO;
    case '/drip':
      return DRIP;
    case '/sse':
      return SSE;
  }
  if (path.startsWith('/status/')) return STATUS;
  if (path.startsWith('/delay/')) return DELAY;
  return UNMATCHED;
}

const GET_HEAD = 'GET, HEAD';
const POST_PUT = 'POST, PUT';
const DIGITS = /^\d{1,15}$/;
// What handle() was called for: a plain request, `Expect: 100-continue`, or another expectation.
const PLAIN = 0;
const CONTINUE = 1;
const UNSUPPORTED_EXPECTATION = 2;
// nginx's code for "the client went away before we answered": a response
// was never sent, and the access log should say so rather than invent one.
const CLIENT_CLOSED = 499;

/**
 * The handler behind http-hello (and https-secure): `/`, `/whoami`, `/echo`,
 * `/status/{code}`, `/delay/{ms}`. Every response carries `X-Request-Id` and
 * gets one access log line at info.
 *
 * `GET /` is the hot path and is written for it: no URL object, no header
 * object (Node builds `req.headers` lazily, so we scan `rawHeaders` for the
 * two headers we need), no per-request closure or child logger, its bodies
 * built once at startup, and its access log line written by hand (see
 * access-log.ts).
 */
export function createHttpHandler(opts: HttpHandlerOptions): HttpHandler {
  const { logger, maxBodyBytes, maxDelayMs, responseHeaders } = opts;
  const identity: Identity = { hostname: opts.hostname, pid: opts.pid, version: opts.version };
  const nextId = opts.requestId ?? requestIdGenerator();
  const stats = new RequestStats();
  // Undefined below info: the level is fixed for the life of the process,
  // so checking once saves building a log entry per request for nothing.
  const accessLog = createAccessLog(logger, { sharedOutput: opts.sharedLogOutput ?? false });
  // Bodies are strings, not Buffers, on purpose: Node copies a string body
  // into the same write as the headers, while a Buffer body costs a second
  // chunk (a writev) per response.
  const helloText = `${opts.helloMessage}\n`;
  const helloTextLength = Buffer.byteLength(helloText);
  const helloJson = `${JSON.stringify({ message: opts.helloMessage })}\n`;
  const helloJsonLength = Buffer.byteLength(helloJson);
  let draining = false;
  const maxHeadersCount = opts.maxHeadersCount ?? 100;
  const cuts = new WeakMap<object, Cut>();
  // Connections an answer has said `Connection: close` on.
  const closing = new WeakSet<object>();
  const logRequests = accessLog !== undefined;
  const answerControl = opts.answerControl ?? true;
  const answerLimits = {
    maxDelayMs,
    maxAnswerBytes: opts.maxAnswerBytes ?? 16 * 1024 * 1024,
    maxAnswerHeaders: opts.maxAnswerHeaders ?? 16,
  };

  /** Answered (or abandoned): count it, and log it when the access log is on. */
  function done(x: Exchange, status: number, bytes: number, code?: string): void {
    // The route's 200 became the status answer control drew.
    if (status === 200 && x.control?.status !== undefined) status = x.res.statusCode;
    stats.count(x.route, status);
    if (accessLog === undefined) return;
    const durationMs = Math.round((performance.now() - x.start) * 1000) / 1000;
    accessLog.write({
      method: x.req.method,
      path: x.path,
      status,
      bytes,
      durationMs,
      requestId: x.requestId,
      code,
      faults: x.control?.faults || undefined,
      origin: opts.accessOrigin?.(x.req),
    });
  }

  /**
   * The connection closed before the answer was complete. The server may
   * have cut it (it said why in noteCut); otherwise the client left: 499.
   */
  function closed(x: Exchange, bytes: number): void {
    const cut = cuts.get(x.req.socket);
    if (cut === undefined) {
      done(x, CLIENT_CLOSED, bytes);
      return;
    }
    stats.count(x.route, HTTP_ERRORS[cut.code].status);
    if (logRequests) {
      logCutLine(
        logger,
        { method: x.req.method, path: x.path, bytes, start: x.start, requestId: x.requestId },
        cut,
      );
    }
  }

  /**
   * Every response's head goes out here, so a drain (or a body left unread)
   * marks each one `Connection: close`.
   */
  function writeHead(x: Exchange, status: number, headers: Headers): void {
    if (responseHeaders !== undefined) Object.assign(headers, responseHeaders);
    // Answer control changes the route's own answer, never a refusal.
    if (x.control !== undefined && status === 200) status = controlHead(x, x.control, headers);
    if ((draining || x.close) && x.req.httpVersionMajor === 1) {
      headers.connection = 'close';
      closing.add(x.req.socket);
    }
    x.res.writeHead(status, headers);
  }

  function send(
    x: Exchange,
    status: number,
    headers: Headers,
    body: string | undefined,
    length: number,
    code?: string,
  ): void {
    if (x.control?.size !== undefined && status === 200) {
      sized(x, headers, x.control.size);
      return;
    }
    writeHead(x, status, headers);
    if (body === undefined || x.req.method === 'HEAD' || NO_CONTENT.has(x.res.statusCode)) {
      x.res.end();
      done(x, status, 0, code);
    } else {
      x.res.end(body);
      done(x, status, length, code);
    }
  }

  function fail(x: Exchange, code: HttpErrorCode, extra?: Headers, refusal?: ControlRefusal): void {
    const body =
      refusal === undefined
        ? errorBody(code)
        : errorBody(code, refusal.message, { parameter: refusal.parameter });
    const length = Buffer.byteLength(body);
    const headers: Headers = {
      'content-type': JSON_TYPE,
      'content-length': length,
      'x-request-id': x.requestId,
      ...extra,
    };
    send(x, HTTP_ERRORS[code].status, headers, body, length, code);
  }

  function json(x: Exchange, status: number, value: unknown, pretty = false): void {
    const body = `${pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value)}\n`;
    const length = Buffer.byteLength(body);
    const headers: Headers = {
      'content-type': JSON_TYPE,
      'content-length': length,
      'cache-control': 'no-store',
      'x-request-id': x.requestId,
    };
    send(x, status, headers, body, length);
  }

  function hello(x: Exchange, accept: string | undefined): void {
    const asJson = prefersJson(accept);
    const length = asJson ? helloJsonLength : helloTextLength;
    const headers: Headers = {
      'content-type': asJson ? JSON_TYPE : TEXT_TYPE,
      'content-length': length,
      vary: 'Accept',
      'x-request-id': x.requestId,
    };
    send(x, 200, headers, asJson ? helloJson : helloText, length);
  }

  function echo(x: Exchange, declared: string | undefined, expectContinue: boolean): void {
    const { req, res } = x;
    // Refuse before reading a byte when the client says up front it is too big.
    if (declared !== undefined && Number(declared) > maxBodyBytes) {
      refuseTooLarge(x);
      return;
    }
    // This route reads the body, so the connection can carry the next request.
    x.close = false;
    const headers: Headers = {
      'content-type': headerOf(req, 'content-type') ?? 'application/octet-stream',
      'cache-control': 'no-store',
      'x-request-id': x.requestId,
    };
    // Same length back, so the client sees a plain sized body, not chunks.
    if (declared !== undefined) headers['content-length'] = declared;
    // The 200 goes out with the body's first byte, not before: a body whose
    // framing turns out broken before then (a bad chunk size) can still be
    // answered 400 (see installHttpGuards), instead of a 200 cut short.
    let headed = false;
    const head = () => {
      if (headed) return;
      headed = true;
      writeHead(x, 200, headers);
    };

    let bytes = 0;
    let tooLarge = false;
    // Only a chunked body can get here and still grow past the limit. Our 200
    // is already on the wire (we stream, we do not buffer), so the only honest
    // answer left is to cut the response: the client sees a truncated chunked
    // body, never a clean 200.
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      head();
      bytes += chunk.length;
      if (bytes > maxBodyBytes) {
        tooLarge = true;
        req.unpipe(res);
        cut(req, res);
      }
    });
    // A client that resets mid-body: without a listener the 'error' would be uncaught.
    req.on('error', () => res.destroy());
    // Before pipe()'s own 'end' listener, which ends the response.
    req.once('end', head);
    res.once('close', () => {
      if (tooLarge) done(x, 413, bytes, 'NETLAB_ERR_BODY_TOO_LARGE');
      else if (res.writableFinished) done(x, 200, bytes);
      else closed(x, bytes);
    });
    // Only now that the body is wanted (RFC 9110 §10.1.1).
    if (expectContinue) res.writeContinue?.();
    // pipe() stops reading the request while the response's buffer is full,
    // so a client that sends without reading cannot grow our heap.
    req.pipe(res);
  }

  /**
   * Ends a response that cannot be finished. HTTP/1: our side ends after
   * what is already sent, with no last chunk, the way the server closes a
   * connection (closeLikeServer: the guards' lingering close): destroying
   * the socket with the client's body still arriving would reset the
   * connection, and a reset can
   * take the part the client was sent away from it. HTTP/2: RST_STREAM
   * with CANCEL; destroy() would send NO_ERROR, which a client may take
   * for "response complete, stop sending" (RFC 9113 §8.1).
   */
  function cut(req: HttpRequest, res: HttpResponse): void {
    const socket: unknown = req.socket;
    const stream = (res as { stream?: { close(code: number): void } }).stream;
    if (req.httpVersionMajor === 1 && socket instanceof Socket) closeLikeServer(socket);
    else if (stream !== undefined) stream.close(http2.NGHTTP2_CANCEL);
    else res.destroy();
  }

  function refuseTooLarge(x: Exchange): void {
    // We will not read the body, so the connection cannot be reused: the
    // next request would start somewhere in the middle of it.
    x.close = true;
    fail(x, 'NETLAB_ERR_BODY_TOO_LARGE');
  }

  function status(x: Exchange): void {
    const text = x.path.slice('/status/'.length);
    const code = DIGITS.test(text) ? Number(text) : 0;
    if (code < 200 || code > 599) {
      fail(x, 'NETLAB_ERR_BAD_STATUS');
      return;
    }
    // RFC 9110 §6.4.1, §15.3.6: 204, 205 and 304 never carry content.
    if (code === 204 || code === 205 || code === 304) {
      const headers: Headers = { 'x-request-id': x.requestId };
      if (code === 205) headers['content-length'] = 0;
      send(x, code, headers, undefined, 0);
      return;
    }
    const reason = STATUS_CODES[code];
    json(x, code, reason ? { status: code, reason } : { status: code });
  }

  function delay(x: Exchange): void {
    const text = x.path.slice('/delay/'.length);
    if (!DIGITS.test(text)) {
      fail(x, 'NETLAB_ERR_BAD_DELAY');
      return;
    }
    const ms = Number(text);
    if (ms > maxDelayMs) {
      fail(x, 'NETLAB_ERR_DELAY_TOO_LONG');
      return;
    }
    let answered = false;
    const timer = setTimeout(() => {
      answered = true;
      json(x, 200, { delayMs: ms });
    }, ms);
    // A client that gives up must not keep a timer (and its closure) alive.
    x.res.once('close', () => {
      if (answered) return;
      clearTimeout(timer);
      closed(x, 0);
    });
  }

  function handle(req: HttpRequest, res: HttpResponse, expect = PLAIN): void {
    // A request pipelined behind one answered with `Connection: close`, or
    // arriving on a connection the server is closing (a drain): Node parses
    // it anyway, but our side of the connection is shut, so its answer could
    // never be sent. It is neither answered nor logged as if it were
    // (RFC 9112 §9.6: a server MUST NOT process further requests after
    // sending close).
    const socket = req.socket;
    if (closing.has(socket) || (req.httpVersionMajor === 1 && socket.writableEnded === true)) {
      return;
    }
    // Only the access log reads it: without one, no clock per request.
    const start = logRequests ? performance.now() : 0;
    stats.start();
    const method = req.method;
    let url = req.url ?? '/';
    // Absolute-form targets (`GET http://host/path`) arrive when a client
    // treats us as a forward proxy; route them by their path.
    if (url.charCodeAt(0) !== 47 /* / */) url = originForm(url);
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);

    // One pass over rawHeaders, choosing by name length before comparing
    // names, for the few headers that decide the answer.
    let requestId: string | undefined;
    let accept: string | undefined;
    let hosts = 0;
    let host: string | undefined;
    let contentLength: string | undefined;
    let codings: string | undefined;
    let codingLines = 0;
    const raw = req.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!;
      switch (name.length) {
        case 4:
          if (name === 'Host' || name.toLowerCase() === 'host') {
            hosts++;
            host = raw[i + 1];
          }
          break;
        case 6:
          if (accept === undefined && name.toLowerCase() === 'accept') accept = raw[i + 1];
          break;
        case 12:
          if (requestId === undefined && name.toLowerCase() === 'x-request-id') {
            const value = raw[i + 1]!;
            if (isSaneRequestId(value)) requestId = value;
          }
          break;
        case 14:
          if (name.toLowerCase() === 'content-length') contentLength = raw[i + 1];
          break;
        case 17:
          if (name.toLowerCase() === 'transfer-encoding') {
            codings = raw[i + 1];
            codingLines++;
          }
          break;
      }
    }
    if (requestId === undefined) requestId = nextId();

    // A body on a route that takes none is not read: Node would otherwise
    // read and discard it to reuse the connection, however big it is (a
    // 500 MB `POST /`). The answer closes the connection instead, and the
    // guards' lingering close bounds what is still read after it.
    const close = codingLines > 0 || (contentLength !== undefined && contentLength !== '0');
    const x: Exchange = { route: routeOf(path), req, res, path, start, requestId, close };

    const problem = headProblem(req, maxHeadersCount, hosts, codings, codingLines, host);
    if (problem !== undefined || expect === UNSUPPORTED_EXPECTATION) {
      // A malformed request: whatever follows it on the connection cannot be trusted.
      x.close = true;
      fail(x, problem ?? 'NETLAB_ERR_EXPECTATION_FAILED');
      return;
    }

    // Answer control: the cheap test first, so a plain `GET /` parses nothing.
    if (
      answerControl &&
      x.route <= ECHO &&
      mayControl(q === -1 ? '' : url.slice(q), raw) &&
      fits(method, x.route)
    ) {
      const control = readControl(q === -1 ? '' : url.slice(q), raw, answerLimits, identity);
      if (isRefusal(control)) {
        fail(x, control.code, undefined, control);
        return;
      }
      if (control !== undefined) {
        x.control = control;
        stats.countFaults(control.faults);
        if (control.delayMs > 0) {
          later(x, control.delayMs, () => answer(x, accept, contentLength, expect));
          return;
        }
      }
    }
    answer(x, accept, contentLength, expect);
  }

  /** Answers by route, once the request passed its checks (and any delay it asked for). */
  function answer(
    x: Exchange,
    accept: string | undefined,
    contentLength: string | undefined,
    expect: number,
  ): void {
    const { method } = x.req;
    const requestId = x.requestId;
    const req = x.req;
    const readOnly = method === 'GET' || method === 'HEAD';
    switch (x.route) {
      case HELLO:
        if (!readOnly) break;
        hello(x, accept);
        return;
      case WHOAMI:
        if (!readOnly) break;
        json(x, 200, { ...whoami(req, requestId, identity), ...opts.whoamiExtra?.(req) }, true);
        return;
      case ECHO:
        if (method !== 'POST' && method !== 'PUT') break;
        // An answer control that replaces the body: the echo is not read.
        if (x.control?.size !== undefined || NO_CONTENT.has(x.control?.status ?? 200)) {
          send(x, 200, { 'x-request-id': requestId }, undefined, 0);
          return;
        }
        echo(x, contentLength, expect === CONTINUE);
        return;
      case STATUS:
        if (!readOnly) break;
        status(x);
        return;
      case DELAY:
        if (!readOnly) break;
        delay(x);
        return;
      case DRIP:
      case SSE:
        if (!readOnly) break;
        stream(x, x.route === DRIP ? 'drip' : 'sse');
        return;
      default:
        fail(x, 'NETLAB_ERR_NOT_FOUND');
        return;
    }
    // A known path with a method it does not take.
    fail(x, 'NETLAB_ERR_METHOD_NOT_ALLOWED', x.route === ECHO ? ALLOW_POST : ALLOW_GET);
  }

  /** `/drip` and `/sse` (streaming.ts): chunks or events, one per interval. */
  function stream(x: Exchange, kind: StreamKind): void {
    const url = x.req.url ?? '';
    const q = url.indexOf('?');
    const params = readStreamParams(q === -1 ? '' : url.slice(q), kind, {
      maxStreamMs: opts.maxStreamMs ?? 60_000,
      maxAnswerBytes: answerLimits.maxAnswerBytes,
    });
    if (isRefusal(params)) {
      fail(x, params.code, undefined, params);
      return;
    }
    writeHead(x, 200, { ...streamHeaders(kind), 'x-request-id': x.requestId });
    if (x.req.method === 'HEAD') {
      x.res.end();
      done(x, 200, 0);
      return;
    }
    runStream(x.res, kind, params, {
      draining: () => draining,
      ended: (bytes, complete) => (complete ? done(x, 200, bytes) : closed(x, bytes)),
    });
  }

  /** Runs `then` after `ms`, unless the client leaves first (then it is logged as gone). */
  function later(x: Exchange, ms: number, then: () => void): void {
    let answered = false;
    const timer = setTimeout(() => {
      answered = true;
      then();
    }, ms);
    x.res.once('close', () => {
      if (answered) return;
      clearTimeout(timer);
      closed(x, 0);
    });
  }

  /**
   * A `size` control's answer: that many bytes of filler, streamed when
   * large, so a client asking for MAX_ANSWER_BYTES costs no memory.
   */
  function sized(x: Exchange, headers: Headers, size: number): void {
    headers['content-type'] = TEXT_TYPE;
    headers['content-length'] = size;
    writeHead(x, 200, headers);
    if (x.req.method === 'HEAD' || NO_CONTENT.has(x.res.statusCode)) {
      x.res.end();
      done(x, x.res.statusCode, 0);
    } else if (size <= INLINE_FILLER) {
      x.res.end(fillerText(size));
      done(x, x.res.statusCode, size);
    } else {
      x.res.once('close', () => {
        if (x.res.writableFinished) done(x, x.res.statusCode, size);
        else closed(x, 0);
      });
      filler(size).pipe(x.res);
    }
  }

  /**
   * Applies a control to the head of the route's 200: its status, its added
   * headers, and closing the connection after it. Returns the status.
   */
  function controlHead(x: Exchange, c: AnswerControl, headers: Headers): number {
    for (const [name, value] of c.headers) headers[name] = value;
    const status = c.status ?? 200;
    // RFC 9110 §6.4.1, §15.3.6: 204, 205 and 304 carry no content.
    if (NO_CONTENT.has(status)) {
      delete headers['content-type'];
      delete headers.vary;
      if (status === 205) headers['content-length'] = 0;
      else delete headers['content-length'];
    }
    if (c.close) {
      x.close = true;
      // HTTP/2 has no Connection header: a graceful GOAWAY now, which lets
      // this stream (and any in flight) finish and refuses new ones.
      const stream = (x.req as { stream?: { session?: { close(): void } } }).stream;
      if (x.req.httpVersionMajor === 2) stream?.session?.close();
    }
    return status;
  }

  function logRefusal(refusal: Refusal, counted: boolean): void {
    if (counted) {
      stats.start();
      stats.count(UNMATCHED, HTTP_ERRORS[refusal.code].status);
    }
    if (logRequests) logRefusalLine(logger, refusal, nextId());
  }

  return Object.assign(handle, {
    checkContinue: (req: HttpRequest, res: HttpResponse) => handle(req, res, CONTINUE),
    checkExpectation: (req: HttpRequest, res: HttpResponse) =>
      handle(req, res, UNSUPPORTED_EXPECTATION),
    noteCut(socket: object, code: HttpErrorCode, reason: CutReason) {
      cuts.set(socket, { code, reason });
    },
    logRefusal,
    drain() {
      draining = true;
    },
    flushLog() {
      accessLog?.flush();
    },
    stats,
    maxHeadersCount,
  });
}

/** Why the server cut a connection, as noteCut records it. */
export interface Cut {
  code: HttpErrorCode;
  reason: CutReason;
}

/**
 * The access line of a request the server cut before it was answered in
 * full (its status is the cut's, and it says why). Rare, so through pino
 * itself: the access log's fast line has no reason field. At info: callers
 * skip it when their access log is off.
 */
export function logCutLine(
  logger: Logger,
  request: {
    method: string | undefined;
    path: string;
    bytes: number;
    /** performance.now() when the request arrived. */
    start: number;
    requestId: string;
  },
  cut: Cut,
): void {
  logger.info(
    {
      method: request.method,
      path: request.path,
      status: HTTP_ERRORS[cut.code].status,
      bytes: request.bytes,
      durationMs: Math.round((performance.now() - request.start) * 1000) / 1000,
      requestId: request.requestId,
      code: cut.code,
      reason: cut.reason,
    },
    'request',
  );
}

/**
 * The access line of a refusal no request object reached (see
 * GuardedHandler.logRefusal), shaped as every other access line, at info:
 * callers skip it when their access log is off.
 */
export function logRefusalLine(logger: Logger, refusal: Refusal, requestId: string): void {
  logger.info(
    {
      method: refusal.method,
      path: refusal.path,
      status: HTTP_ERRORS[refusal.code].status,
      bytes: 0,
      durationMs: 0,
      requestId,
      code: refusal.code,
      reason: refusal.reason,
      ...refusal.detail,
    },
    'request',
  );
}

const ALLOW_GET: Headers = { allow: GET_HEAD };
// Statuses that never carry content.
const NO_CONTENT = new Set([204, 205, 304]);
// A `size` answer up to this goes out in one write; above, it is streamed.
const INLINE_FILLER = 64 * 1024;

/** Whether `method` is one `route` answers (answer control applies only then). */
function fits(method: string | undefined, route: number): boolean {
  return route === ECHO
    ? method === 'POST' || method === 'PUT'
    : method === 'GET' || method === 'HEAD';
}
const ALLOW_POST: Headers = { allow: POST_PUT };

function headerOf(req: HttpRequest, lowerName: string): string | undefined {
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.length === lowerName.length && raw[i]!.toLowerCase() === lowerName)
      return raw[i + 1];
  }
  return undefined;
}
