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
  NETLAB_ERR_BODY_TOO_LARGE: { status: 413, message: 'request body is over MAX_BODY_BYTES' },
  NETLAB_ERR_HEADERS_TOO_LARGE: {
    status: 431,
    message: 'request headers are over MAX_HEADER_SIZE',
  },
  NETLAB_ERR_REQUEST_TIMEOUT: { status: 408, message: 'request not received in time' },
  NETLAB_ERR_BAD_REQUEST: { status: 400, message: 'malformed HTTP request' },
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
