import { NetlabError } from '@netlab/common';

/**
 * Every error a client can get from the handlers, with its HTTP status. The
 * codes are stable (tests and clients branch on them); the messages are for
 * people and may change.
 */
export const HTTP_ERRORS = {
  NETLAB_ERR_NOT_FOUND: { status: 404, message: 'not found' },
  NETLAB_ERR_METHOD_NOT_ALLOWED: { status: 405, message: 'method not allowed' },
  NETLAB_ERR_BAD_STATUS: { status: 400, message: 'expected a status code 200-599' },
  NETLAB_ERR_BAD_DELAY: { status: 400, message: 'expected a delay in whole milliseconds' },
  NETLAB_ERR_DELAY_TOO_LONG: { status: 400, message: 'delay is over MAX_DELAY_MS' },
  // Answer control (answer-control.ts): the message names the parameter.
  NETLAB_ERR_BAD_CONTROL: { status: 400, message: 'malformed answer control' },
  NETLAB_ERR_CONTROL_OUT_OF_RANGE: {
    status: 400,
    message: "answer control out of the app's limits",
  },
  NETLAB_ERR_BODY_TOO_LARGE: { status: 413, message: 'request body is over MAX_BODY_BYTES' },
  NETLAB_ERR_HEADERS_TOO_LARGE: {
    status: 431,
    message: 'request headers are over MAX_HEADER_SIZE',
  },
  NETLAB_ERR_REQUEST_TIMEOUT: { status: 408, message: 'request not received in time' },
  NETLAB_ERR_BAD_REQUEST: { status: 400, message: 'malformed HTTP request' },
  // RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without
  // a Host, and to any request with more than one.
  NETLAB_ERR_MISSING_HOST: { status: 400, message: 'an HTTP/1.1 request needs a Host header' },
  NETLAB_ERR_DUPLICATE_HOST: { status: 400, message: 'more than one Host header' },
  // RFC 9112 §3.2: a Host that is not a valid host[:port] (RFC 3986 §3.2.2) is a 400.
  NETLAB_ERR_BAD_HOST: {
    status: 400,
    message: 'the Host header is not a valid host[:port] (RFC 3986)',
  },
  NETLAB_ERR_TOO_MANY_HEADERS: {
    status: 431,
    message: 'more request headers than MAX_HEADERS_COUNT',
  },
  // RFC 9110 §10.1.1: 100-continue is the only expectation there is.
  NETLAB_ERR_EXPECTATION_FAILED: {
    status: 417,
    message: 'the only expectation supported is 100-continue',
  },
  // RFC 9112 §6.1: a transfer coding the server does not understand is a 501,
  // as nginx and Go answer it.
  NETLAB_ERR_UNSUPPORTED_TRANSFER_ENCODING: {
    status: 501,
    message: 'the only Transfer-Encoding supported is chunked',
  },
  NETLAB_ERR_HTTP_VERSION: { status: 505, message: 'HTTP version not supported' },
  // `GET /\r\n`, HTTP/0.9's simple request: Go answers 400 at once.
  NETLAB_ERR_NO_HTTP_VERSION: {
    status: 400,
    message: 'the request line has no HTTP version (HTTP/0.9 is not supported)',
  },
  NETLAB_ERR_WS_TOO_MANY_CONNECTIONS: {
    status: 503,
    message: 'WS_MAX_CONNECTIONS WebSocket connections are open',
  },
  NETLAB_ERR_WS_BAD_HANDSHAKE: {
    status: 400,
    message: 'a WebSocket handshake needs GET and a Sec-WebSocket-Key of 16 bytes in base64',
  },
  NETLAB_ERR_WS_VERSION: { status: 426, message: 'the only WebSocket version spoken is 13' },
  NETLAB_ERR_WS_SHUTTING_DOWN: { status: 503, message: 'the server is shutting down' },
  NETLAB_ERR_NOT_A_PROXY: { status: 405, message: 'this server is not a proxy: CONNECT refused' },
  // Cuts the server makes on its own: logged with these, and answered with
  // them when the connection can still carry an answer.
  NETLAB_ERR_IDLE_TIMEOUT: { status: 408, message: 'no traffic for IDLE_TIMEOUT_MS' },
  NETLAB_ERR_SHUTTING_DOWN: {
    status: 503,
    message: 'not finished within SHUTDOWN_TIMEOUT_MS of shutdown',
  },
} as const satisfies Record<string, { status: number; message: string }>;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/** A request the handlers refuse, as the `{ error, code, status }` body the client gets. */
export class HttpError extends NetlabError {
  readonly status: number;

  constructor(code: HttpErrorCode, message: string = HTTP_ERRORS[code].message) {
    super(code, message);
    this.name = 'HttpError';
    this.status = HTTP_ERRORS[code].status;
  }

  toJSON(): { error: string; code: string; status: number } {
    return { error: this.message, code: this.code, status: this.status };
  }
}
