import type { EventEmitter } from 'node:events';
import { type IncomingMessage, ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { Counter, Gauge, type Logger, peerAddress, type Registry } from '@netlab/common';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { HTTP_ERRORS, type HttpErrorCode } from './errors.js';
import { errorBody, JSON_TYPE } from './respond.js';

/**
 * WebSocket echo at `/ws` (RFC 6455), on the `ws` library: text comes back
 * as text, binary as binary; pings are answered with pongs (ws does it, as
 * RFC 6455 §5.5.2 requires); a close is answered with the same code. The
 * protocol errors a hostile client can make are ws's to detect and answer as
 * §7.4.1 says: an unmasked client frame or a fragmented control frame or a
 * reserved close code → 1002, invalid UTF-8 in a text message → 1007, a
 * message over `maxPayload` → 1009.
 *
 * Answer control per connection, from the upgrade's query string:
 * `delay=` before each echo, `close_after=N` messages then a close with
 * `close_code=` (default 1000).
 *
 * Node hands an HTTP/1.1 request with `Connection: Upgrade` to the server's
 * 'upgrade' listeners, once one exists, instead of the request listener:
 * so this listener sends everything that is not a WebSocket upgrade to
 * `/ws` back to the request listener (an `Upgrade: h2c` from
 * `curl --http2` is answered as a plain HTTP/1.1 request, RFC 9110 §7.8).
 */

export interface WebSocketOptions {
  logger: Logger;
  registry: Registry;
  /** WS_MAX_MESSAGE_BYTES: a bigger message (all its fragments) closes with 1009. */
  maxMessageBytes: number;
  /** WS_MAX_FRAGMENTS: a message in more fragments closes with 1008 (policy violation). */
  maxFragments: number;
  /** WS_MAX_CONNECTIONS: one more upgrade gets 503. */
  maxConnections: number;
  /** WS_IDLE_TIMEOUT_MS: no message or ping either way for this long closes with 1001 (0: never). */
  idleTimeoutMs: number;
  /** MAX_DELAY_MS: the longest `delay=`. */
  maxDelayMs: number;
  /** ANSWER_CONTROL: false ignores `delay=`, `close_after=` and `close_code=`. Default true. */
  answerControl?: boolean;
  /** Headers every HTTP answer carries (https-secure: Strict-Transport-Security). */
  responseHeaders?: Readonly<Record<string, string>>;
}

export interface WebSocketEcho {
  /** Open WebSocket connections. */
  readonly size: number;
  /** Shutdown: every connection is closed with 1001 (going away), new upgrades get 503. */
  drain(): void;
}

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

// Messages held by `delay=` before the socket stops being read: a client
// that sends faster than the delay lets out is paused (TCP backpressure)
// instead of growing our heap.
const MAX_PENDING = 16;
// A client that does not read its echoes: stop reading from it past this.
const MAX_BUFFERED = 1024 * 1024;

/**
 * Installs the `/ws` echo on `server` (a node:http server, or an HTTP/2
 * server with allowHTTP1): its 'upgrade' listener, its metrics, its drain.
 * `requestListener` answers every other upgrade request.
 */
export function installWebSocketEcho(
  server: EventEmitter,
  requestListener: RequestListener,
  opts: WebSocketOptions,
): WebSocketEcho {
  const { logger } = opts;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: opts.maxMessageBytes,
    // Compression is off: a small compressed message can inflate to
    // maxPayload, and an echo server gains nothing from it.
    perMessageDeflate: false,
    clientTracking: false,
    // 1-byte fragments would otherwise let maxPayload bytes become a million
    // buffers held until the message ends.
    maxFragments: opts.maxFragments,
  });
  const open = new Set<WebSocket>();
  let draining = false;
  const metrics = wsMetrics(opts.registry, () => open.size);

  function refuse(socket: Duplex, code: HttpErrorCode, message?: string, parameter?: string) {
    metrics.rejected.inc({ code });
    const { status } = HTTP_ERRORS[code];
    const body = errorBody(code, message, parameter === undefined ? undefined : { parameter });
    // RFC 6455 §4.4: a version we do not speak is answered with the one we do.
    let extra = status === 426 ? 'Sec-WebSocket-Version: 13\r\n' : '';
    for (const [name, value] of Object.entries(opts.responseHeaders ?? {})) {
      extra += `${name}: ${value}\r\n`;
    }
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        `Content-Type: ${JSON_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `${extra}Connection: close\r\n\r\n${body}`,
    );
    logger.info(
      { method: 'GET', path: '/ws', status, code, remoteAddress: peerAddress(socketPeer(socket)) },
      'websocket refused',
    );
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // A socket error after the upgrade (a reset) must not be uncaught.
    socket.on('error', () => socket.destroy());
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const upgrade = req.headers.upgrade;
    if (path !== '/ws' || upgrade === undefined || upgrade.toLowerCase() !== 'websocket') {
      answerPlainly(req, socket, head, requestListener);
      return;
    }
    if (draining) {
      refuse(socket, 'NETLAB_ERR_WS_SHUTTING_DOWN');
      return;
    }
    if (open.size >= opts.maxConnections) {
      refuse(socket, 'NETLAB_ERR_WS_TOO_MANY_CONNECTIONS');
      return;
    }
    // The handshake's checks (RFC 6455 §4.2.1), made here so a refusal gets
    // our JSON error, a log line and a count (ws would answer bare text).
    const key = req.headers['sec-websocket-key'];
    if (req.method !== 'GET' || key === undefined || !WS_KEY.test(key)) {
      refuse(socket, 'NETLAB_ERR_WS_BAD_HANDSHAKE');
      return;
    }
    if (req.headers['sec-websocket-version'] !== '13') {
      refuse(socket, 'NETLAB_ERR_WS_VERSION');
      return;
    }
    const control =
      opts.answerControl === false
        ? NO_WS_CONTROL
        : readWsControl(q === -1 ? '' : url.slice(q + 1), opts.maxDelayMs);
    if ('parameter' in control) {
      refuse(socket, control.code, control.message, control.parameter);
      return;
    }
    // ws checks the handshake itself (method, Sec-WebSocket-Key and -Version)
    // and answers a bad one with 400 or 426.
    wss.handleUpgrade(req, socket, head, (ws) => {
      echo(ws, req, control);
    });
  });

  function echo(ws: WebSocket, req: IncomingMessage, control: WsControl): void {
    open.add(ws);
    metrics.connections.inc();
    const started = performance.now();
    const remoteAddress = peerAddress(req.socket.remoteAddress);
    let messagesIn = 0;
    let messagesOut = 0;
    let bytesIn = 0;
    let bytesOut = 0;
    let pending = 0;
    let idle: NodeJS.Timeout | undefined;
    let error: string | undefined;
    // The code we closed with on a protocol error (the peer then sends none).
    let errorCode: number | undefined;

    const touch = () => {
      if (opts.idleTimeoutMs <= 0) return;
      if (idle === undefined) {
        idle = setTimeout(() => {
          ws.close(1001, 'idle');
          // A peer that never answers the close is cut after a grace period.
          setTimeout(() => ws.terminate(), 2000).unref();
        }, opts.idleTimeoutMs);
      } else {
        idle.refresh();
      }
    };
    touch();

    const send = (data: RawData, isBinary: boolean) => {
      pending--;
      if (ws.readyState !== WebSocket.OPEN) return;
      const size = byteLength(data);
      ws.send(data, { binary: isBinary });
      messagesOut++;
      bytesOut += size;
      metrics.messages.inc({ direction: 'out' });
      if (control.closeAfter !== undefined && messagesOut >= control.closeAfter) {
        ws.close(control.closeCode, 'close_after');
        return;
      }
      if (pending < MAX_PENDING && ws.bufferedAmount < MAX_BUFFERED) ws.resume();
    };

    ws.on('message', (data, isBinary) => {
      touch();
      messagesIn++;
      bytesIn += byteLength(data);
      metrics.messages.inc({ direction: 'in' });
      if (control.closeAfter !== undefined && messagesIn > control.closeAfter) return;
      pending++;
      if (pending >= MAX_PENDING || ws.bufferedAmount >= MAX_BUFFERED) ws.pause();
      if (control.delayMs > 0) setTimeout(send, control.delayMs, data, isBinary);
      else send(data, isBinary);
    });
    ws.on('ping', touch);
    ws.on('pong', touch);
    // Protocol errors (ws closes with their code) and socket errors: the
    // close event below logs them; without a listener they would be uncaught.
    ws.on('error', (err: Error & { code?: string }) => {
      error = err.code ?? err.message;
      errorCode = closeCodeOfError(error);
    });
    ws.on('close', (code, reason) => {
      if (idle !== undefined) clearTimeout(idle);
      open.delete(ws);
      const closeCode = errorCode ?? code;
      metrics.closes.inc({ code: String(closeCode) });
      logger.info(
        {
          method: 'GET',
          path: '/ws',
          status: 101,
          remoteAddress,
          durationMs: Math.round((performance.now() - started) * 1000) / 1000,
          messagesIn,
          messagesOut,
          bytesIn,
          bytesOut,
          closeCode,
          ...(reason.length > 0 ? { closeReason: reason.toString('utf8').slice(0, 123) } : {}),
          ...(error === undefined ? {} : { error }),
        },
        'websocket',
      );
    });
  }

  return {
    get size() {
      return open.size;
    },
    drain() {
      draining = true;
      for (const ws of open) {
        // RFC 6455 §7.4.1: 1001, the server is going away.
        ws.close(1001, 'server shutting down');
        setTimeout(() => ws.terminate(), 2000).unref();
      }
    },
  };
}

/**
 * An upgrade request that is not for `/ws`: answered by the request
 * listener as a plain HTTP/1.1 request (the Upgrade ignored, RFC 9110 §7.8),
 * then the connection is closed, since Node's parser has let go of it.
 */
function answerPlainly(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  requestListener: RequestListener,
): void {
  // Bytes after the request head (a body, a pipelined request) are not
  // read: the answer says `Connection: close`.
  void head;
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as Parameters<ServerResponse['assignSocket']>[0]);
  res.once('finish', () => {
    res.detachSocket(socket as Parameters<ServerResponse['detachSocket']>[0]);
    socket.end();
  });
  res.once('close', () => {
    if (!res.writableFinished) socket.destroy();
  });
  requestListener(req, res);
  // The request has no body stream left to read: end it for the handler.
  req.push(null);
}

export interface WsControl {
  delayMs: number;
  closeAfter: number | undefined;
  closeCode: number;
}

interface WsRefusal {
  code: HttpErrorCode;
  parameter: string;
  message: string;
}

const DURATION = /^(\d{1,10}(?:\.\d{1,6})?)(ms|s)?$/;
// RFC 6455 §4.1: the key is 16 random bytes in base64.
const WS_KEY = /^[+/0-9A-Za-z]{21}[AQgw]==$/;

// ANSWER_CONTROL=false: every connection a plain echo.
const NO_WS_CONTROL: WsControl = { delayMs: 0, closeAfter: undefined, closeCode: 1000 };

/** `delay=`, `close_after=` and `close_code=` from the upgrade's query (without `?`). */
export function readWsControl(query: string, maxDelayMs: number): WsControl | WsRefusal {
  const params = new URLSearchParams(query);
  const control: WsControl = { delayMs: 0, closeAfter: undefined, closeCode: 1000 };
  const delay = params.get('delay');
  if (delay !== null) {
    const match = DURATION.exec(delay);
    if (match === null) return bad('delay', `expected a duration like 50ms, got "${clip(delay)}"`);
    control.delayMs = Math.round(Number(match[1]) * (match[2] === 's' ? 1000 : 1));
    if (control.delayMs > maxDelayMs) {
      return {
        code: 'NETLAB_ERR_CONTROL_OUT_OF_RANGE',
        parameter: 'delay',
        message: `delay: ${delay} is over MAX_DELAY_MS (${maxDelayMs} ms)`,
      };
    }
  }
  const after = params.get('close_after');
  if (after !== null) {
    if (!/^\d{1,9}$/.test(after)) {
      return bad('close_after', `expected a number of messages, got "${clip(after)}"`);
    }
    control.closeAfter = Number(after);
  }
  const code = params.get('close_code');
  if (code !== null) {
    const n = /^\d{4}$/.test(code) ? Number(code) : 0;
    // RFC 6455 §7.4: codes an endpoint may send: 1000-1003, 1007-1014 and 3000-4999.
    const valid =
      (n >= 1000 && n <= 1014 && ![1004, 1005, 1006].includes(n)) || (n >= 3000 && n <= 4999);
    if (!valid) {
      return bad(
        'close_code',
        `expected a close code 1000-1003, 1007-1014 or 3000-4999, got "${clip(code)}"`,
      );
    }
    control.closeCode = n;
  }
  return control;
}

/**
 * The close code ws sent for one of its errors (RFC 6455 §7.4.1), for the
 * access line: ws closes with it but reports only the error's code.
 */
function closeCodeOfError(code: string): number | undefined {
  if (code === 'WS_ERR_INVALID_UTF8') return 1007;
  if (code === 'WS_ERR_TOO_MANY_BUFFERED_PARTS') return 1008;
  if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return 1009;
  if (code === 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH') return 1009;
  if (code.startsWith('WS_ERR_')) return 1002;
  return undefined;
}

function bad(parameter: string, message: string): WsRefusal {
  return { code: 'NETLAB_ERR_BAD_CONTROL', parameter, message: `${parameter}: ${message}` };
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}

function socketPeer(socket: Duplex): string | undefined {
  return (socket as { remoteAddress?: string }).remoteAddress;
}

function wsMetrics(registry: Registry, openCount: () => number) {
  new Gauge({
    name: 'netlab_ws_connections_active',
    help: 'WebSocket connections open now (/ws)',
    registers: [registry],
    collect() {
      this.set(openCount());
    },
  });
  return {
    connections: new Counter({
      name: 'netlab_ws_connections_total',
      help: 'WebSocket connections upgraded (/ws)',
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'netlab_ws_upgrades_rejected_total',
      help: 'WebSocket upgrades refused before the handshake, by code',
      labelNames: ['code'],
      registers: [registry],
    }),
    messages: new Counter({
      name: 'netlab_ws_messages_total',
      help: 'WebSocket messages, by direction (in: from clients, out: echoed)',
      labelNames: ['direction'],
      registers: [registry],
    }),
    closes: new Counter({
      name: 'netlab_ws_closes_total',
      help: 'WebSocket connections closed, by close code (1006: no close frame)',
      labelNames: ['code'],
      registers: [registry],
    }),
  };
}
