import type { HttpErrorCode } from './errors.js';

/** The code a refusal by Node's HTTP parser ('clientError') is answered with; undefined: nobody to answer. */
export function clientErrorCode(code: string | undefined): HttpErrorCode | undefined {
  switch (code) {
    // The client went away or reset: nobody to answer.
    case 'ECONNRESET':
    case 'EPIPE':
      return undefined;
    case 'HPE_HEADER_OVERFLOW':
      return 'NETLAB_ERR_HEADERS_TOO_LARGE';
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 'NETLAB_ERR_REQUEST_TIMEOUT';
    default:
      return 'NETLAB_ERR_BAD_REQUEST';
  }
}
