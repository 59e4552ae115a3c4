import { type ConfigOf, commonVars, int, string, workerVars } from '@netlab/common';
import { answerVars, guardVars, webSocketVars } from '@netlab/http-handlers';
import { proxyProtocolVars } from '@netlab/proxy-protocol';
import { tlsVars } from '@netlab/tls';

/** Every variable https-secure reads; the README table is generated from this. */
export const schema = {
  ...commonVars({ port: 8443, adminPort: 9002 }),
  ...tlsVars(),
  ...workerVars(),
  HSTS_MAX_AGE_S: int({
    default: 300,
    min: 0,
    max: 63_072_000,
    doc: 'max-age of the Strict-Transport-Security header on every response. Short by default because browsers apply it to the whole host name, every port: a year on localhost would force http-hello on :8080 to HTTPS too. 31536000 in production.',
  }),
  HTTP_REDIRECT_PORT: int({
    default: undefined,
    min: 0,
    max: 65535,
    doc: 'Also listen for plain HTTP on this port and answer every request with 308 to the same URL over https. Unset: off.',
  }),
  HELLO_MESSAGE: string({
    default: 'Hello HTTPS',
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
    doc: 'Open connections at most; one more is closed at once, before its handshake.',
  }),
  H2_MAX_CONCURRENT_STREAMS: int({
    default: 100,
    min: 1,
    max: 10_000,
    doc: 'HTTP/2 requests in flight at once on one connection (SETTINGS_MAX_CONCURRENT_STREAMS); the client is told, and a stream over it is refused.',
  }),
  H2_MAX_STREAM_RESETS: int({
    default: 200,
    min: 1,
    max: 100_000,
    doc: 'HTTP/2 streams one connection may reset (RST_STREAM) in a burst, earned back over 10 s; more (a rapid-reset attack) gets GOAWAY ENHANCE_YOUR_CALM and the connection closed.',
  }),
  H2_MAX_OPEN_STREAMS: int({
    default: 20_000,
    min: 1,
    max: 10_000_000,
    doc: 'HTTP/2 streams open at once in the whole process (each costs memory until it ends, whether or not its client reads); a stream over it is refused with REFUSED_STREAM, which clients retry.',
  }),
  H2_PING_TIMEOUT_MS: int({
    default: 5000,
    min: 100,
    max: 600_000,
    doc: "An HTTP/2 connection that sent something is sent a PING; one that does not answer within this time is closed (this is how a session Node's HTTP/2 library ended with GOAWAY is noticed).",
  }),
  HEADERS_TIMEOUT_MS: int({
    default: 10_000,
    min: 1,
    max: 600_000,
    doc: 'HTTP/1.1: a client must send its complete request headers within this time, or gets 408 and is closed (slowloris). Capped at REQUEST_TIMEOUT_MS.',
  }),
  REQUEST_TIMEOUT_MS: int({
    default: 120_000,
    min: 0,
    max: 3_600_000,
    doc: 'HTTP/1.1: a client must send its complete request, body included, within this time, or gets 408 and is closed (0: no limit).',
  }),
  KEEP_ALIVE_TIMEOUT_MS: int({
    default: 5_000,
    min: 0,
    max: 600_000,
    doc: 'HTTP/1.1: an idle keep-alive connection is closed after this long without a new request (0: no limit but IDLE_TIMEOUT_MS).',
  }),
  IDLE_TIMEOUT_MS: int({
    default: 60_000,
    min: 0,
    max: 86_400_000,
    doc: 'A connection (HTTP/1.1 or HTTP/2) with no traffic either way for this long is closed (0: never).',
  }),
  MAX_HEADER_SIZE: int({
    default: 16_384,
    min: 1024,
    max: 1_048_576,
    doc: 'Largest request head in bytes: 431 over HTTP/1.1; over HTTP/2 the limit is announced (SETTINGS_MAX_HEADER_LIST_SIZE), a bigger header list (name + value + 32 per field) sent before the client acknowledged it gets 431, and one sent after is reset by Node (ENHANCE_YOUR_CALM).',
  }),
  ...answerVars(),
  ...webSocketVars(),
  ...guardVars(),
  ...proxyProtocolVars(),
};

export type HttpsConfig = ConfigOf<typeof schema>;
