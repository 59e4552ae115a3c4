import { NetlabError } from '@netlab/common';

/**
 * Every error a client can get, with its HTTP status: the one table the
 * README's "HTTP status mapping" documents. The codes are stable (tests and
 * clients branch on them); the messages are for people and may change.
 *
 * DNS answers that are answers (NXDOMAIN, NODATA) are not errors on
 * /resolve: they come back 200 with their `Status`, as in dns-json. Only a
 * resolver that could not answer (SERVFAIL, REFUSED, no reply) is one.
 */
export const DNS_API_ERRORS = {
  // The request itself is wrong: 4xx, and no query is sent.
  NETLAB_ERR_BAD_NAME: { status: 400, message: 'invalid name' },
  NETLAB_ERR_BAD_TYPE: { status: 400, message: 'invalid type' },
  NETLAB_ERR_BAD_IP: { status: 400, message: 'invalid IP address' },
  NETLAB_ERR_BAD_FAMILY: { status: 400, message: 'invalid family: expected 0, 4 or 6' },
  NETLAB_ERR_BAD_PARAMETER: { status: 400, message: 'invalid query parameter' },
  NETLAB_ERR_BAD_BODY: { status: 400, message: 'invalid request body' },
  NETLAB_ERR_BODY_TOO_LARGE: { status: 413, message: 'request body is over MAX_BODY_BYTES' },
  NETLAB_ERR_BATCH_TOO_LARGE: {
    status: 413,
    message: 'more queries in the batch than BATCH_MAX_QUERIES',
  },
  NETLAB_ERR_NOT_FOUND: { status: 404, message: 'not found' },
  NETLAB_ERR_METHOD_NOT_ALLOWED: { status: 405, message: 'method not allowed' },
  // /lookup: getaddrinfo found no address. (On /resolve, NXDOMAIN is an answer: 200, Status 3.)
  NETLAB_ERR_NAME_NOT_FOUND: { status: 404, message: 'name not found' },
  // The resolver could not give an answer.
  NETLAB_ERR_DNS_SERVFAIL: { status: 502, message: 'upstream DNS server failed (SERVFAIL)' },
  NETLAB_ERR_DNS_REFUSED: { status: 502, message: 'upstream DNS server refused the query' },
  NETLAB_ERR_DNS_FAILURE: { status: 502, message: 'DNS resolution failed' },
  NETLAB_ERR_DNS_TIMEOUT: { status: 504, message: 'no answer from the DNS servers in time' },
  NETLAB_ERR_DNS_BUSY: {
    status: 503,
    message: 'too many queries out to the DNS servers (DNS_MAX_IN_FLIGHT)',
  },
  NETLAB_ERR_LOOKUP_BUSY: {
    status: 503,
    message: 'too many lookups waiting (LOOKUP_CONCURRENCY, LOOKUP_QUEUE_SIZE)',
  },
} as const satisfies Record<string, { status: number; message: string }>;

export type DnsApiErrorCode = keyof typeof DNS_API_ERRORS;

/** A refused request or a failed resolution, as the `{ error, code, status, detail }` a client gets. */
export class DnsApiError extends NetlabError {
  readonly status: number;
  readonly detail: string | undefined;

  constructor(code: DnsApiErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(code, DNS_API_ERRORS[code].message, options);
    this.name = 'DnsApiError';
    this.status = DNS_API_ERRORS[code].status;
    this.detail = detail;
  }

  toJSON(): { error: string; code: string; status: number; detail?: string } {
    const body: { error: string; code: string; status: number; detail?: string } = {
      error: this.message,
      code: this.code,
      status: this.status,
    };
    if (this.detail !== undefined) body.detail = this.detail;
    return body;
  }
}
