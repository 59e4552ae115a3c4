import { type ConfigOf, commonVars, int, string, workerVars } from '@netlab/common';
import { answerVars, guardVars, webSocketVars } from '@netlab/http-handlers';
import { proxyProtocolVars } from '@netlab/proxy-protocol';

/** Every variable http-hello reads; the README table is generated from this. */
export const schema = {
  ...commonVars({ port: 8080, adminPort: 9001 }),
  HELLO_MESSAGE: string({
    default: 'Hello HTTP',
    maxLength: 1024,
    doc: 'Body of GET / (as text, or {"message": …} for Accept: application/json).',
  }),
  MAX_BODY_BYTES: int({
    default: 64 * 1024 * 1024,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    doc: 'Largest /echo body; a bigger declared body gets 413 before it is read, a bigger chunked one is cut. Echo streams, so this bounds traffic, not memory.',
  }),
  MAX_DELAY_MS: int({
    default: 30_000,
    min: 0,
    max: 3_600_000,
    doc: 'Longest /delay/{ms}; above it the answer is 400, not a silent clamp.',
  }),
  MAX_CONNECTIONS: int({
    default: 10_000,
    min: 1,
    max: 1_000_000,
    doc: 'Open connections at most (per worker); one more is closed at once.',
  }),
  HEADERS_TIMEOUT_MS: int({
    default: 10_000,
    min: 1,
    max: 600_000,
    doc: 'A client must send its complete request headers within this time, or gets 408 and is closed (slowloris). Capped at REQUEST_TIMEOUT_MS.',
  }),
  REQUEST_TIMEOUT_MS: int({
    default: 120_000,
    min: 0,
    max: 3_600_000,
    doc: 'A client must send its complete request, body included, within this time, or gets 408 and is closed (0: no limit).',
  }),
  KEEP_ALIVE_TIMEOUT_MS: int({
    default: 5_000,
    min: 0,
    max: 600_000,
    doc: 'An idle keep-alive connection is closed after this long without a new request (0: no limit but IDLE_TIMEOUT_MS).',
  }),
  IDLE_TIMEOUT_MS: int({
    default: 60_000,
    min: 0,
    max: 86_400_000,
    doc: 'A connection with no traffic either way for this long is closed, e.g. a client that stops reading its response (0: never).',
  }),
  MAX_HEADER_SIZE: int({
    default: 16_384,
    min: 1024,
    max: 1_048_576,
    doc: 'Largest request head (request line and headers) in bytes; above it the answer is 431.',
  }),
  ...answerVars(),
  ...webSocketVars(),
  ...guardVars(),
  ...proxyProtocolVars(),
  ...workerVars(),
};

export type HelloConfig = ConfigOf<typeof schema>;
