/**
 * Every error a client can get from video-streamer, with its HTTP status.
 * The codes are stable (tests and clients branch on them); the messages are
 * for people and may change. Protocol errors caught before a request exists
 * (bad HTTP, header timeout, oversized head) come from @netlab/http-handlers'
 * `rawErrorResponse` and carry its codes.
 */
export const STREAMER_ERRORS = {
  NETLAB_ERR_NOT_FOUND: { status: 404, message: 'not found' },
  NETLAB_ERR_METHOD_NOT_ALLOWED: { status: 405, message: 'method not allowed' },
  NETLAB_ERR_BAD_PATH: {
    status: 400,
    message: 'malformed path: bad percent-encoding or a NUL byte',
  },
  NETLAB_ERR_BAD_QUERY: {
    status: 400,
    message:
      'bad query: offset and limit are decimal integers, limit 1 to MAX_LISTED_FILES, all is 0 or 1',
  },
  NETLAB_ERR_BAD_RATE: {
    status: 400,
    message: 'rate is a download cap in bytes per second, 1024 to 1073741824',
  },
  NETLAB_ERR_FORBIDDEN_PATH: {
    status: 403,
    message: 'path leaves the media folder (.., an encoded separator or an absolute path)',
  },
  NETLAB_ERR_RANGE_NOT_SATISFIABLE: {
    status: 416,
    message: 'no requested range overlaps the file',
  },
  NETLAB_ERR_TOO_MANY_RANGES: {
    status: 416,
    message: 'more ranges than MAX_RANGES in one Range header',
  },
  NETLAB_ERR_PRECONDITION_FAILED: {
    status: 412,
    message: 'If-Match or If-Unmodified-Since failed',
  },
  NETLAB_ERR_INTERNAL: { status: 500, message: 'internal error (logged)' },
} as const satisfies Record<string, { status: number; message: string }>;

export type StreamerErrorCode = keyof typeof STREAMER_ERRORS;

/** The JSON body every refusal carries. */
export function errorBody(code: StreamerErrorCode): string {
  const { status, message } = STREAMER_ERRORS[code];
  return `${JSON.stringify({ error: message, code, status })}\n`;
}
