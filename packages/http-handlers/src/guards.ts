import type { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import { clientErrorCode } from './client-errors.js';
import type { HttpErrorCode } from './errors.js';
import type { CutReason, Refusal } from './handler.js';
import {
  keepPausedChunk,
  quietLaterEnds,
  replaceDestroySoon,
  takeOverReading,
} from './node-internals.js';
import { type HttpRequest, type HttpResponse, rawErrorResponse } from './respond.js';
import { watchForSimpleRequest } from './simple-request.js';
import { unmapped } from './whoami.js';

export interface HttpGuardOptions {
  /** Counts a request Node's own parser refused ('clientError'), by code. */
  onClientError?: (code: HttpErrorCode) => void;
  /**
   * Lingering close: how long a connection we closed may still be read (and
   * what it sends discarded) so the client sees our answer and an EOF, not a
   * reset. Default 2 s (nginx: `lingering_timeout` 5 s, `lingering_time` 30 s).
   */
  lingerMs?: number;
  /**
   * …and how many bytes at most; past either, the socket is destroyed.
   * Default 16 MiB: more than a fast uploader can have in flight in the two
   * kernels' socket buffers when it sees the answer (a few MiB on loopback).
   */
  lingerBytes?: number;
  /**
   * During a drain, a keep-alive connection is closed once it has been
   * quiet this long; a request arriving before then is answered with
   * `Connection: close`. Default 1 s.
   */
  drainIdleMs?: number;
  /** The methods the server takes: the `Allow` of the 405 a CONNECT gets. Default `GET, HEAD, POST, PUT` (http-hello's). */
  allow?: string;
}

export interface HttpGuards {
  /**
   * Starts a graceful drain: every response from now on says
   * `Connection: close`, and keep-alive connections close (lingering) once
   * idle. The caller still stops the listener and enforces the deadline.
   */
  drain(): void;
  /** Stops the drain's sweep (once the connections are gone). */
  stop(): void;
}

/**
 * What the guards need of the request listener they wrap: createHttpHandler's
 * handler has it all; dns-resolver-api's and video-streamer's handlers
 * implement it around their own routes and logs.
 */
export interface GuardedHandler {
  /** Its header-line limit (see requestProblem): Node's parser is set to keep one more. */
  readonly maxHeadersCount: number;
  /**
   * For the server's 'checkContinue' event: decide the request like any
   * other, and send `100 Continue` (res.writeContinue) only when its body
   * will be read; anything refused is answered without inviting the body.
   */
  checkContinue(req: HttpRequest, res: HttpResponse): void;
  /** For 'checkExpectation' (an `Expect` other than 100-continue): 417, NETLAB_ERR_EXPECTATION_FAILED. */
  checkExpectation(req: HttpRequest, res: HttpResponse): void;
  /**
   * Logs a refusal no request object reached (a parse error, CONNECT) as
   * an access line with its status and code; `counted`: count it as a
   * request too (the parser's refusals are counted by `onClientError`).
   */
  logRefusal(refusal: Refusal, counted: boolean): void;
  /**
   * The server is about to cut `socket` for a parse error mid-request:
   * the request on it may be logged with this code instead of 499.
   */
  noteCut?(socket: object, code: HttpErrorCode, reason: CutReason): void;
  /** From now on every response says `Connection: close`. */
  drain(): void;
}

/** The servers this works on: `http.Server`, `https.Server`, `http2.createSecureServer({ allowHTTP1: true })`. */
export type GuardedServer = EventEmitter & {
  maxHeadersCount?: number | null;
  requireHostHeader?: boolean;
  closeIdleConnections?: () => void;
};

// How often a drain looks for idle connections.
const SWEEP_MS = 100;
// What a connection may hold of bytes its paused parser was handed (see
// onPausedChunk): TLS hands over at most what one read decrypted.
const MAX_PAUSED_BYTES = 1024 * 1024;

/** The HTTP/1 responses under way on each connection, oldest first (see currentResponse). */
const responses = new WeakMap<object, ServerResponse[]>();

function untrack(this: ServerResponse) {
  const socket = this.req.socket;
  const list = responses.get(socket);
  if (list === undefined) return;
  const i = list.indexOf(this);
  if (i === 0) list.shift();
  else if (i > 0) list.splice(i, 1);
  releasePipeline(socket, list);
}

type RequestListener = (req: HttpRequest, res: HttpResponse) => void;

/**
 * Runs `track` after the server's request listener, for every request. When
 * the server has exactly one (the handler), the two become one listener:
 * an event with two listeners costs Node an array copy on every emit, and
 * this is the path of every request.
 */
function trackRequests(server: GuardedServer, track: RequestListener): void {
  const listeners = server.listeners('request') as RequestListener[];
  const handler = listeners[0];
  if (listeners.length !== 1 || handler === undefined) {
    server.on('request', track);
    return;
  }
  server.removeListener('request', handler);
  server.on('request', function (this: unknown, req: HttpRequest, res: HttpResponse) {
    handler.call(this, req, res);
    track(req, res);
  });
}

// Requests a pipelining client may have the server work on at once, per
// connection. Node's http server stops reading a connection only once the
// answers written on it back up, which never happens while the handler is
// still working on them (a file to stat, a name to look up): a client that
// pipelines 20,000 requests at such a route had them all in memory at once
// (video-streamer: +140 MiB). Past this many, reading stops until half are
// answered; what the parser already holds (one read, at most 64 KiB) is
// still served. Go reads the next request only once one is answered.
const MAX_PIPELINED = 32;
const held = new WeakSet<object>();

/** Stops reading `socket` while more than MAX_PIPELINED of its requests are being worked on. */
function holdPipeline(socket: Socket, list: ServerResponse[]): void {
  if (list.length <= MAX_PIPELINED || working(list) <= MAX_PIPELINED) return;
  if (!held.has(socket)) {
    held.add(socket);
    // Node resumes the socket each time it is done with a request (to read
    // the next one): pause it again at once, as Node's own 'resume' listener
    // (which has just run) does while it holds the socket paused itself.
    if (!reholding.has(socket)) {
      reholding.add(socket);
      socket.on('resume', rehold);
    }
  }
  // Node's own pause for a request body nobody reads: socket.pause(), and
  // resume() later, which Node ignores while it holds the socket paused for
  // its own reasons. Never a reason for data to flow under Node's pause.
  socket.pause();
}

const reholding = new WeakSet<object>();

function rehold(this: Socket): void {
  if (held.has(this)) this.pause();
}

function releasePipeline(socket: object, list: ServerResponse[]): void {
  if (!held.has(socket) || working(list) > MAX_PIPELINED / 2) return;
  held.delete(socket);
  (socket as Socket).resume();
}

function working(list: ServerResponse[]): number {
  let n = 0;
  for (const res of list) if (!res.writableEnded) n++;
  return n;
}

/**
 * The response Node's http server is writing on `socket` now, if any: the
 * oldest one not yet handed over in full (a pipelining client's later
 * answers wait behind it). Tracked from the request events, where Node
 * keeps it in a private field.
 */
function currentResponse(socket: object): ServerResponse | undefined {
  return responses.get(socket)?.[0];
}

/**
 * Whether the server is working on a request on `socket`: one has arrived
 * in full and its answer is not complete, while nothing already written
 * waits for the client to read it. An idle sweep leaves such a connection
 * alone, as Go's IdleTimeout does (idle is the time between requests):
 * `GET /delay/2500` with a 2 s idle timeout is answered. A client that
 * stops reading our answer, or stops sending its body, is not being
 * served: idle applies.
 */
export function isServing(socket: Socket): boolean {
  const res = currentResponse(socket);
  return res !== undefined && !res.writableEnded && res.req.complete && socket.writableLength === 0;
}

/**
 * Wires the server-level half of HTTP/1 hardening around a handler: what
 * Node's http server does on its own before (or after) the request listener
 * runs, done here the way nginx and Go do it.
 *
 * - Node's parser refusals ('clientError': bad syntax, headers too large,
 *   request timeout, a bad chunk size mid-body) get our JSON error with
 *   `Connection: close`, an access line with status, code and `reason`,
 *   and a count. A request under way when its connection fails is logged
 *   by the handler with that code, not as 499.
 * - `Expect: 100-continue` and other expectations go to the handler, which
 *   decides the route and limits before inviting a body (417 for others).
 * - CONNECT gets 405 (`NETLAB_ERR_NOT_A_PROXY`) instead of a silent close.
 * - An HTTP/0.9 simple request (`GET /\r\n`), which Node's parser would
 *   hold until the header deadline, gets 400 at once (see watchForSimpleRequest).
 * - Missing Host is answered by the handler (JSON) instead of Node's bare
 *   400; headers past the handler's `maxHeadersCount` get 431 instead of
 *   being dropped by Node's parser without a word.
 * - Lingering close: where Node would close a connection whose client may
 *   still be sending (after `Connection: close`, after a refusal), we shut
 *   down our side, read and discard for a bounded time and size, then close,
 *   so the client reads our answer and an EOF, not a TCP reset.
 * - `drain()`: see HttpGuards.
 *
 * Installs listeners only; the handler must already be the server's request
 * listener, and call requestProblem first (the request-level half).
 */
export function installHttpGuards(
  server: GuardedServer,
  handler: GuardedHandler,
  opts: HttpGuardOptions = {},
): HttpGuards {
  const lingerMs = opts.lingerMs ?? 2000;
  const lingerBytes = opts.lingerBytes ?? 16 * 1024 * 1024;
  const drainIdleMs = opts.drainIdleMs ?? 1000;
  const connectAllow = `Allow: ${opts.allow ?? 'GET, HEAD, POST, PUT'}\r\n`;
  const linger = (socket: Socket) => lingeringClose(socket, lingerMs, lingerBytes);

  server.requireHostHeader = false;
  // One more than the limit, so the handler can tell "too many" from "exactly the limit".
  server.maxHeadersCount = handler.maxHeadersCount + 1;

  // The sockets HTTP/1 is spoken on: the TLS socket on a TLS server, not the TCP one under it.
  const sockets = new Set<Socket>();
  server.on(server instanceof TlsServer ? 'secureConnection' : 'connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    watchForSimpleRequest(socket, (line) => {
      if (!lingering.has(socket) && !refused.has(socket)) {
        refuse(socket, 'NETLAB_ERR_NO_HTTP_VERSION', line, undefined);
      }
    });
    // How Node's http server ends a connection after a `Connection: close`
    // response can reset it: a lingering close instead (node-internals.ts
    // says what it replaces and why).
    replaceDestroySoon(socket, linger);
  });

  // Which responses are under way on each connection, oldest first, from
  // the request events (see currentResponse).
  const track = (req: HttpRequest, res: HttpResponse) => {
    if (req.httpVersionMajor !== 1) return;
    let list = responses.get(req.socket);
    if (list === undefined) {
      list = [];
      responses.set(req.socket, list);
    }
    // HTTP/1: node:http's own response.
    const response = res as unknown as ServerResponse;
    list.push(response);
    // 'close' comes when the response was handed over in full (Node emits
    // it in the same tick queue as 'finish', before any more I/O is read)
    // or when the connection closed first. One plain listener: this runs
    // for every request, and `once` costs a wrapper per call.
    response.on('close', untrack);
    holdPipeline(req.socket as Socket, list);
  };
  trackRequests(server, track);

  const refused = new WeakSet<Socket>();
  /** Answers a request no request object reached (a raw error response), logs and counts it, and closes. */
  const refuse = (
    socket: Socket,
    code: HttpErrorCode,
    line: { method?: string; path?: string },
    err: string | undefined,
  ) => {
    refused.add(socket);
    opts.onClientError?.(code);
    handler.logRefusal(
      {
        code,
        reason: code === 'NETLAB_ERR_REQUEST_TIMEOUT' ? 'timeout' : 'protocol-error',
        ...line,
        detail: {
          err,
          remoteAddress: unmapped(socket.remoteAddress).address,
          remotePort: socket.remotePort,
        },
      },
      false,
    );
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    socket.write(rawErrorResponse(code));
    linger(socket);
  };

  server.on(
    'clientError',
    (err: NodeJS.ErrnoException & { rawPacket?: unknown }, socket: Socket) => {
      // A TLS server reports failed handshakes here too: no HTTP was spoken
      // on such a socket, and the app (which counts handshakes) answers it.
      if (!sockets.has(socket)) return;
      if (err.code === 'HPE_PAUSED') {
        onPausedChunk(socket, err.rawPacket);
        return;
      }
      const code = guardedClientErrorCode(err.code);
      // The client went away or reset: nobody to answer.
      if (code === undefined || socket.destroyed) {
        socket.destroy();
        return;
      }
      // We closed this connection already (a refusal, `Connection: close`):
      // what the parser makes of the bytes still arriving, or of the client
      // leaving mid-body, is nobody's business. A failed parser also fails
      // again on every later chunk: answer once.
      if (lingering.has(socket) || refused.has(socket)) return;
      const current = currentResponse(socket);
      if (current === undefined) {
        refuse(socket, code, requestLine(err.rawPacket), err.code);
        return;
      }
      refused.add(socket);
      // The handler already refused this request (501 for a transfer coding
      // the parser then choked on): just close.
      if (current.writableEnded) {
        linger(socket);
        return;
      }
      opts.onClientError?.(code);
      handler.noteCut?.(
        socket,
        code,
        code === 'NETLAB_ERR_REQUEST_TIMEOUT' ? 'timeout' : 'protocol-error',
      );
      // Node's own default handler makes the same check: a response already
      // under way (an echo mid-body) cannot get a second status line.
      if (current.headersSent || !socket.writable) {
        socket.destroy();
        return;
      }
      socket.write(rawErrorResponse(code));
      linger(socket);
    },
  );

  // Without these listeners Node answers `Expect` itself: 100 Continue to
  // anything (inviting a body it will then refuse), a bare 417 otherwise.
  server.on('checkContinue', (req: HttpRequest, res: HttpResponse) => {
    track(req, res);
    handler.checkContinue(req, res);
  });
  server.on('checkExpectation', (req: HttpRequest, res: HttpResponse) => {
    track(req, res);
    handler.checkExpectation(req, res);
  });

  // Without a listener Node closes a CONNECT without a word.
  server.on('connect', (req: HttpRequest, socketOrRes: Socket | HttpResponse) => {
    // HTTP/2 (https-secure) hands CONNECT over as a request and a response:
    // to the request listener, where it would have gone without this one.
    if (!(socketOrRes instanceof Socket)) {
      server.emit('request', req, socketOrRes);
      return;
    }
    handler.logRefusal({ code: 'NETLAB_ERR_NOT_A_PROXY', method: req.method, path: req.url }, true);
    socketOrRes.write(rawErrorResponse('NETLAB_ERR_NOT_A_PROXY', connectAllow));
    linger(socketOrRes);
  });

  /**
   * HPE_PAUSED is Node's own state, not a client error: its paused parser
   * was handed bytes (TLS records decrypted before it stopped reading) and
   * parsed none of them. They are parsed once Node resumes (keepPausedChunk);
   * answering 400 would fail every request pipelined behind them
   * (`h2load --h1 -m100` got 101 answers of 20,000 over TLS). Only a
   * connection closing anyway, or more than MAX_PAUSED_BYTES held this
   * way, is closed (lingering, with the answers under way).
   */
  const onPausedChunk = (socket: Socket, chunk: unknown) => {
    if (lingering.has(socket) || refused.has(socket)) return;
    if (!Buffer.isBuffer(chunk) || !keepPausedChunk(socket, chunk, MAX_PAUSED_BYTES)) {
      refused.add(socket);
      linger(socket);
    }
  };

  let sweep: NodeJS.Timeout | undefined;
  const guards: HttpGuards = {
    drain() {
      handler.drain();
      if (sweep !== undefined) return;
      // A connection idle right now may carry a request on the wire to us:
      // closing it would fail that request. Closing it once it has been
      // quiet for a while (and answering anything that arrives before with
      // Connection: close) leaves only clients that pause that long exposed,
      // as any keep-alive timeout does.
      const seen = new WeakMap<Socket, { bytes: number; since: number }>();
      const check = () => {
        const now = performance.now();
        for (const socket of sockets) {
          // HTTP/2 sessions end with their own GOAWAY.
          if ((socket as Socket & { alpnProtocol?: string | false }).alpnProtocol === 'h2')
            continue;
          const bytes = socket.bytesRead + socket.bytesWritten;
          const last = seen.get(socket);
          if (last === undefined || last.bytes !== bytes) seen.set(socket, { bytes, since: now });
          else if (now - last.since >= drainIdleMs && currentResponse(socket) === undefined) {
            linger(socket);
          }
        }
      };
      check();
      sweep = setInterval(check, SWEEP_MS);
    },
    stop() {
      clearInterval(sweep);
    },
  };
  // http.Server's close() (Node 19+) starts with closeIdleConnections(),
  // which destroys every keep-alive connection idle at that instant; a
  // request already on its way on one of them then gets a reset. Here a
  // close() drains them instead.
  if (typeof server.closeIdleConnections === 'function') {
    server.closeIdleConnections = () => guards.drain();
  }
  return guards;
}

const lingering = new WeakSet<Socket>();

/**
 * Closes `socket` the way nginx does (`lingering_close`): shut down our
 * side (the client reads everything we sent, then EOF), then keep reading
 * and discarding what the client still sends until it closes its side, or
 * for at most `timeMs` and `maxBytes`. Closing at once would leave unread
 * bytes in the kernel, which then resets the connection, and a reset can
 * destroy our answer in the client's buffers before it is read.
 */
export function lingeringClose(socket: Socket, timeMs: number, maxBytes: number): void {
  if (socket.destroyed || lingering.has(socket)) return;
  lingering.add(socket);
  // What it still sends is discarded, not parsed: no reason to hold it back.
  held.delete(socket);
  socket.end();
  // Node ends it again when the client's FIN comes: make that free.
  quietLaterEnds(socket);
  // Counted as it arrives, so the bound holds however fast the client
  // sends. Reading must go on, or the client's EOF is never seen and what it
  // sends piles up unread (a reset when we close); but never behind Node's
  // back while it holds the socket paused (see takeOverReading).
  let read = 0;
  takeOverReading(socket, (chunk: Buffer) => {
    read += chunk.length;
    if (read > maxBytes) socket.destroy();
  });
  // The clock starts once our side is flushed: a big answer to a slow
  // reader is not cut short (IDLE_TIMEOUT_MS still bounds a reader that stopped).
  const start = () => {
    const timer = setTimeout(() => socket.destroy(), timeMs);
    socket.once('close', () => clearTimeout(timer));
  };
  if (socket.writableFinished) start();
  else socket.once('finish', start);
}

function guardedClientErrorCode(code: string | undefined): HttpErrorCode | undefined {
  // Two Transfer-Encoding lines, or a coding that is not chunked where the
  // parser decides first: 501, as the handler answers the same codings.
  if (code === 'HPE_INVALID_TRANSFER_ENCODING') return 'NETLAB_ERR_UNSUPPORTED_TRANSFER_ENCODING';
  return clientErrorCode(code);
}

const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}) (\S{1,1024})/;

/** Method and target of a request the parser refused, when its bytes start with them. */
function requestLine(packet: unknown): { method?: string; path?: string } {
  if (!Buffer.isBuffer(packet)) return {};
  const m = REQUEST_LINE.exec(packet.subarray(0, 1100).toString('latin1'));
  return m ? { method: m[1]!, path: m[2]! } : {};
}
