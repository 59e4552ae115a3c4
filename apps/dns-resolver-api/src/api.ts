import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@netlab/common';
import {
  type AccessOrigin,
  type Cut,
  type CutReason,
  createAccessLog,
  declaresBody,
  errorBody,
  type GuardedHandler,
  HTTP_ERRORS,
  type HttpErrorCode,
  isSaneRequestId,
  logCutLine,
  logRefusalLine,
  type Refusal,
  requestIdGenerator,
  requestProblem,
} from '@netlab/http-handlers';
import { DnsApiError, type DnsApiErrorCode } from './errors.js';
import type { Lookups } from './lookup.js';
import { checkName } from './name.js';
import { checkType, type RecordType } from './record-type.js';
import { errorJson, failureJson, renderAnswer } from './render.js';
import type { Resolution, Resolved } from './resolution.js';
import { reverseName } from './reverse-name.js';

export interface ApiOptions {
  /** The peer and client for each access line (behind a PROXY protocol gate). */
  accessOrigin?: (req: IncomingMessage) => AccessOrigin | undefined;
  resolution: Resolution;
  lookups: Lookups;
  logger: Logger;
  /** POST /resolve: more queries than this get 413 (BATCH_MAX_QUERIES). */
  batchMaxQueries: number;
  /** POST /resolve: a bigger body gets 413 (MAX_BODY_BYTES). */
  maxBodyBytes: number;
  /** More request header lines get 431 (MAX_HEADERS_COUNT; see requestProblem). */
  maxHeadersCount: number;
  requestId?: () => string;
}

/** A request listener with the hooks installHttpGuards wires around it. */
export interface ApiHandler extends GuardedHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  /** 'checkContinue': `100 Continue` only to a POST /resolve whose body will be read. */
  checkContinue(req: IncomingMessage, res: ServerResponse): void;
  /**
   * The server is about to cut `socket` (the idle sweep, the shutdown
   * deadline, a parse error): a request still on it is logged with this code
   * and reason instead of 499 ("the client left").
   */
  noteCut(socket: object, code: HttpErrorCode, reason: CutReason): void;
  flushLog(): void;
  readonly stats: RouteStats;
}

/** The routes requests are counted by; `unmatched` is every 404. */
export const ROUTES = [
  '/',
  '/resolve',
  'POST /resolve',
  '/lookup',
  '/reverse',
  'unmatched',
] as const;
const INDEX = 0;
const RESOLVE = 1;
const BATCH = 2;
const LOOKUP = 3;
const REVERSE = 4;
const UNMATCHED = 5;

/** Requests by route and status as plain numbers, read by /metrics at scrape time. */
export class RouteStats {
  readonly #counts = new Float64Array(ROUTES.length * 600);
  started = 0;
  finished = 0;

  count(route: number, status: number): void {
    this.finished++;
    if (status >= 0 && status < 600) this.#counts[route * 600 + status]!++;
  }

  get inFlight(): number {
    return this.started - this.finished;
  }

  *entries(): IterableIterator<{ route: string; status: number; count: number }> {
    for (let i = 0; i < this.#counts.length; i++) {
      const count = this.#counts[i]!;
      if (count > 0) yield { route: ROUTES[Math.floor(i / 600)]!, status: i % 600, count };
    }
  }
}

function routeOf(path: string, method: string | undefined): number {
  switch (path) {
    case '/':
      return INDEX;
    case '/resolve':
      return method === 'POST' ? BATCH : RESOLVE;
    case '/lookup':
      return LOOKUP;
    case '/reverse':
      return REVERSE;
    default:
      return UNMATCHED;
  }
}

/**
 * The client's X-Request-Id, found in `rawHeaders`: reading `req.headers`
 * would make Node build the whole header object, on every cached answer.
 */
function requestIdOf(raw: string[]): string | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 12 && name.toLowerCase() === 'x-request-id') return raw[i + 1];
  }
  return undefined;
}

/** One request on its way through the handler. */
interface Exchange {
  route: number;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The request target, query included: the access log shows which name was asked. */
  readonly target: string;
  readonly start: number;
  readonly requestId: string;
  /** Answer with `Connection: close`: the request's body will not be read, or cannot be trusted. */
  close: boolean;
}

const JSON_TYPE = 'application/json; charset=utf-8';
// nginx's code for a client that left before it was answered.
const CLIENT_CLOSED = 499;
const ALLOW_GET = 'GET, HEAD';
const ALLOW_RESOLVE = 'GET, HEAD, POST';
const FAMILIES: Record<string, 0 | 4 | 6> = { '0': 0, '4': 4, '6': 6 };
const BOOLS: Record<string, boolean> = { true: true, '1': true, false: false, '0': false };
// What handle() was called for: a plain request, `Expect: 100-continue`, or another expectation.
const PLAIN = 0;
const CONTINUE = 1;
const UNSUPPORTED_EXPECTATION = 2;

const INDEX_BODY = `${JSON.stringify({
  service: 'dns-resolver-api',
  endpoints: [
    'GET /resolve?name=&type=',
    'POST /resolve [{"name","type"}, …]',
    'GET /lookup?name=&family=0|4|6&all=true',
    'GET /reverse?ip=',
  ],
})}\n`;

/**
 * The API: `/resolve` (src/wire.ts, dns-json answers, cached), `POST /resolve`
 * (a batch), `/lookup` (getaddrinfo, bounded), `/reverse` (PTR). Every
 * parameter is checked before any query is sent; every refusal is a JSON
 * `{ error, code, status, detail }`. Each response carries `X-Request-Id`
 * and gets one access log line.
 */
export function createApiHandler(opts: ApiOptions): ApiHandler {
  const { resolution, lookups, logger, maxHeadersCount } = opts;
  const nextId = opts.requestId ?? requestIdGenerator();
  const accessLog = createAccessLog(logger);
  const stats = new RouteStats();
  let draining = false;
  const cuts = new WeakMap<object, Cut>();

  function done(x: Exchange, status: number, bytes: number, code?: string): void {
    stats.count(x.route, status);
    if (accessLog === undefined) return;
    accessLog.write({
      method: x.req.method,
      path: x.target,
      status,
      bytes,
      durationMs: Math.round((performance.now() - x.start) * 1000) / 1000,
      requestId: x.requestId,
      code,
      origin: opts.accessOrigin?.(x.req),
    });
  }

  /**
   * The request's connection closed before it was answered: the server cut
   * it (it said why in noteCut), or the client left (nginx's 499).
   */
  function gone(x: Exchange, code?: string): void {
    const cut = cuts.get(x.req.socket);
    if (cut === undefined) {
      done(x, CLIENT_CLOSED, 0, code);
      return;
    }
    stats.count(x.route, HTTP_ERRORS[cut.code].status);
    if (accessLog !== undefined) {
      logCutLine(
        logger,
        { method: x.req.method, path: x.target, bytes: 0, start: x.start, requestId: x.requestId },
        cut,
      );
    }
  }

  function send(
    x: Exchange,
    status: number,
    body: string,
    cacheControl: string,
    code?: string,
    extra?: Record<string, string>,
  ): void {
    // The connection closed while the query was out (the client left, or
    // the server cut it: the shutdown deadline, the idle sweep): nobody to answer.
    if (x.res.destroyed) {
      gone(x, code);
      return;
    }
    const length = Buffer.byteLength(body);
    const headers: Record<string, string | number> = {
      'content-type': JSON_TYPE,
      'content-length': length,
      'cache-control': cacheControl,
      'x-request-id': x.requestId,
      ...extra,
    };
    if (draining || x.close) headers.connection = 'close';
    x.res.writeHead(status, headers);
    if (x.req.method === 'HEAD') x.res.end();
    else x.res.end(body);
    done(x, status, x.req.method === 'HEAD' ? 0 : length, code);
  }

  function fail(x: Exchange, error: DnsApiError, extra?: Record<string, string>): void {
    send(x, error.status, `${JSON.stringify(errorJson(error))}\n`, 'no-store', error.code, extra);
  }

  const refuse = (x: Exchange, code: DnsApiErrorCode, detail?: string) =>
    fail(x, new DnsApiError(code, detail));

  /** An HTTP-level refusal (see requestProblem): the same `{ error, code, status }` body. */
  function refuseRequest(x: Exchange, code: HttpErrorCode): void {
    // Whatever follows a malformed request on the connection cannot be trusted.
    x.close = true;
    send(x, HTTP_ERRORS[code].status, errorBody(code), 'no-store', code);
  }

  function sendResolved(x: Exchange, r: Resolved): void {
    if (r.kind === 'answer') {
      const { body, maxAgeS } = renderAnswer(r.entry, r.cached, resolution.now());
      send(x, 200, body, `max-age=${maxAgeS}`);
    } else {
      const body = `${JSON.stringify(failureJson(r, resolution.upstream))}\n`;
      const busy = r.error.status === 503 ? { 'retry-after': '1' } : undefined;
      send(x, r.error.status, body, 'no-store', r.error.code, busy);
    }
  }

  /** GET /resolve and GET /reverse: one question, answered from the cache when it can be. */
  function answer(x: Exchange, name: string, type: RecordType): void {
    const hit = resolution.cached(name, type);
    if (hit !== undefined) {
      sendResolved(x, hit);
      return;
    }
    whenSettled(x, resolution.resolve(name, type), (r) => sendResolved(x, r));
  }

  /**
   * Answers with `pending`'s value once it settles, unless the connection
   * closed first (the shutdown deadline, the idle sweep, the client
   * leaving): that is logged when it closes, not when an answer nobody
   * waits for comes back. At shutdown the queries still out are cancelled
   * only after the last log flush, and the process may be gone before
   * they settle: the cut's 503 line was lost that way (issue 21).
   */
  function whenSettled<T>(x: Exchange, pending: Promise<T>, answer: (value: T) => void): void {
    let logged = false;
    const onClose = () => {
      if (x.res.writableEnded) return;
      logged = true;
      gone(x);
    };
    x.res.once('close', onClose);
    pending.then(
      (value) => {
        x.res.off('close', onClose);
        if (!logged) answer(value);
      },
      (err: unknown) => {
        x.res.off('close', onClose);
        if (!logged) internalError(x, err);
      },
    );
  }

  // The three GET endpoints check every parameter first and return the
  // refusal, if any; past the checks they answer on their own.

  function resolveGet(x: Exchange, params: URLSearchParams): DnsApiError | undefined {
    const name = checkName(params.get('name') ?? '');
    if (!name.ok) return new DnsApiError('NETLAB_ERR_BAD_NAME', name.detail);
    const type = checkType(params.get('type') ?? undefined);
    if (!type.ok) return new DnsApiError('NETLAB_ERR_BAD_TYPE', type.detail);
    answer(x, name.name, type.type);
    return undefined;
  }

  function reverse(x: Exchange, params: URLSearchParams): DnsApiError | undefined {
    const ip = params.get('ip') ?? '';
    const name = reverseName(ip);
    if (name === undefined) {
      const shown = ip.length > 60 ? `${ip.slice(0, 57)}...` : ip;
      return new DnsApiError('NETLAB_ERR_BAD_IP', `Invalid IP address \`${shown}\``);
    }
    answer(x, name, 'PTR');
    return undefined;
  }

  function lookup(x: Exchange, params: URLSearchParams): DnsApiError | undefined {
    const name = checkName(params.get('name') ?? '');
    if (!name.ok) return new DnsApiError('NETLAB_ERR_BAD_NAME', name.detail);
    const family = FAMILIES[params.get('family') ?? '0'];
    if (family === undefined) return new DnsApiError('NETLAB_ERR_BAD_FAMILY');
    const all = BOOLS[params.get('all') ?? 'false'];
    if (all === undefined) {
      return new DnsApiError('NETLAB_ERR_BAD_PARAMETER', 'all: expected true, false, 1 or 0');
    }
    // A client that leaves while queued gives its place up (see Limiter).
    const left = new AbortController();
    const onClose = () => left.abort();
    x.res.once('close', onClose);
    lookups.lookup(name.name, family, left.signal).then(
      (addresses) => {
        x.res.off('close', onClose);
        const list = (all ? addresses : addresses.slice(0, 1)).map((a) => ({
          address: a.address,
          family: a.family,
        }));
        const body = `${JSON.stringify({ name: name.name, addresses: list, source: 'getaddrinfo' })}\n`;
        send(x, 200, body, 'no-store');
      },
      (err: NodeJS.ErrnoException) => {
        x.res.off('close', onClose);
        if (err.code === 'ABORT_ERR') gone(x);
        else if (err instanceof DnsApiError) {
          fail(x, err, err.status === 503 ? { 'retry-after': '1' } : undefined);
        } else internalError(x, err);
      },
    );
    return undefined;
  }

  function batch(x: Exchange, expectContinue: boolean): void {
    readBody(x, opts.maxBodyBytes, expectContinue).then(
      (body) => {
        if (body === undefined) return; // already answered, or nobody to answer
        let items: unknown;
        try {
          items = JSON.parse(body.toString('utf8'));
        } catch {
          return refuse(x, 'NETLAB_ERR_BAD_BODY', 'expected a JSON array of {"name", "type"}');
        }
        if (!Array.isArray(items)) {
          return refuse(x, 'NETLAB_ERR_BAD_BODY', 'expected a JSON array of {"name", "type"}');
        }
        if (items.length > opts.batchMaxQueries) {
          return refuse(
            x,
            'NETLAB_ERR_BATCH_TOO_LARGE',
            `${items.length} queries; at most ${opts.batchMaxQueries} (BATCH_MAX_QUERIES)`,
          );
        }
        whenSettled(x, Promise.all(items.map(batchItem)), (parts) =>
          send(x, 200, `[${parts.join(',')}]\n`, 'no-store'),
        );
      },
      (err: unknown) => internalError(x, err),
    );
  }

  /** One query of a batch, as JSON text: its answer, or why it was refused or failed. */
  async function batchItem(item: unknown): Promise<string> {
    const q = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const name = checkName(typeof q.name === 'string' ? q.name : '');
    if (!name.ok) {
      return JSON.stringify(errorJson(new DnsApiError('NETLAB_ERR_BAD_NAME', name.detail)));
    }
    const rawType = q.type === undefined ? undefined : String(q.type);
    const type = checkType(rawType);
    if (!type.ok) {
      return JSON.stringify(errorJson(new DnsApiError('NETLAB_ERR_BAD_TYPE', type.detail)));
    }
    const r: Resolved =
      resolution.cached(name.name, type.type) ?? (await resolution.resolve(name.name, type.type));
    if (r.kind === 'failure') return JSON.stringify(failureJson(r, resolution.upstream));
    return renderAnswer(r.entry, r.cached, resolution.now()).body.trimEnd();
  }

  /**
   * The whole body, at most `max` bytes. Over it, the client gets 413 and
   * the connection closes (the rest of the body is never read, so the
   * connection could not carry another request). Undefined when refused or
   * when the client left first.
   */
  function readBody(
    x: Exchange,
    max: number,
    expectContinue: boolean,
  ): Promise<Buffer | undefined> {
    const declared = x.req.headers['content-length'];
    if (declared !== undefined && Number(declared) > max) {
      refuseTooLarge(x, max);
      return Promise.resolve(undefined);
    }
    // Only now that the body is wanted (RFC 9110 §10.1.1).
    if (expectContinue) x.res.writeContinue();
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      let settled = false;
      x.req.on('data', (chunk: Buffer) => {
        if (settled) return;
        bytes += chunk.length;
        if (bytes > max) {
          settled = true;
          chunks.length = 0;
          refuseTooLarge(x, max);
          resolve(undefined);
          return;
        }
        chunks.push(chunk);
      });
      x.req.on('end', () => {
        if (!settled) resolve(Buffer.concat(chunks));
      });
      // The client went away (or REQUEST_TIMEOUT_MS cut it) before its body
      // was complete: nobody to answer, and nothing went wrong here.
      x.req.on('error', () => {
        if (settled) return;
        settled = true;
        gone(x);
        resolve(undefined);
      });
    });
  }

  function refuseTooLarge(x: Exchange, max: number): void {
    fail(x, new DnsApiError('NETLAB_ERR_BODY_TOO_LARGE', `at most ${max} bytes (MAX_BODY_BYTES)`), {
      connection: 'close',
    });
  }

  function internalError(x: Exchange, err: unknown): void {
    logger.error({ err, requestId: x.requestId }, 'request failed');
    if (!x.res.headersSent) {
      const body = `${JSON.stringify({ error: 'internal error', code: 'NETLAB_ERR_INTERNAL', status: 500 })}\n`;
      send(x, 500, body, 'no-store', 'NETLAB_ERR_INTERNAL');
    } else {
      x.res.destroy();
      done(x, 500, 0, 'NETLAB_ERR_INTERNAL');
    }
  }

  function handle(req: IncomingMessage, res: ServerResponse, expect = PLAIN): void {
    const start = performance.now();
    stats.started++;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const sent = requestIdOf(req.rawHeaders);
    const requestId = sent !== undefined && isSaneRequestId(sent) ? sent : nextId();
    const method = req.method;
    const route = routeOf(path, method);
    // Only POST /resolve reads a body; anywhere else one is left unread.
    const close = route !== BATCH && declaresBody(req);
    const x: Exchange = { route, req, res, target: url, start, requestId, close };
    const params = () => new URLSearchParams(q === -1 ? '' : url.slice(q + 1));

    const problem =
      requestProblem(req, maxHeadersCount) ??
      (expect === UNSUPPORTED_EXPECTATION ? 'NETLAB_ERR_EXPECTATION_FAILED' : undefined);
    if (problem !== undefined) {
      refuseRequest(x, problem);
      return;
    }
    if (x.route === UNMATCHED) {
      refuse(x, 'NETLAB_ERR_NOT_FOUND');
      return;
    }
    const allow = x.route === RESOLVE || x.route === BATCH ? ALLOW_RESOLVE : ALLOW_GET;
    if (!(method === 'GET' || method === 'HEAD' || (method === 'POST' && x.route === BATCH))) {
      fail(x, new DnsApiError('NETLAB_ERR_METHOD_NOT_ALLOWED'), { allow });
      return;
    }
    let refusal: DnsApiError | undefined;
    switch (x.route) {
      case INDEX:
        send(x, 200, INDEX_BODY, 'no-store');
        break;
      case RESOLVE:
        refusal = resolveGet(x, params());
        break;
      case BATCH:
        batch(x, expect === CONTINUE);
        break;
      case LOOKUP:
        refusal = lookup(x, params());
        break;
      case REVERSE:
        refusal = reverse(x, params());
        break;
    }
    if (refusal !== undefined) fail(x, refusal);
  }

  return Object.assign(handle, {
    checkContinue: (req: IncomingMessage, res: ServerResponse) => handle(req, res, CONTINUE),
    checkExpectation: (req: IncomingMessage, res: ServerResponse) =>
      handle(req, res, UNSUPPORTED_EXPECTATION),
    logRefusal(refusal: Refusal, counted: boolean) {
      if (counted) {
        stats.started++;
        stats.count(UNMATCHED, HTTP_ERRORS[refusal.code].status);
      }
      if (accessLog !== undefined) logRefusalLine(logger, refusal, nextId());
    },
    maxHeadersCount,
    noteCut(socket: object, code: HttpErrorCode, reason: CutReason) {
      cuts.set(socket, { code, reason });
    },
    drain() {
      draining = true;
    },
    flushLog() {
      accessLog?.flush();
    },
    stats,
  });
}
