import { bool, int, type Schema } from '@netlab/common';

/**
 * The variables of installHttpGuards and requestProblem's header-count
 * limit, declared once for every server that mounts them (http-hello,
 * https-secure, dns-resolver-api, video-streamer): spread into the app's schema.
 */
export function guardVars() {
  return {
    LINGER_TIMEOUT_MS: int({
      default: 2000,
      min: 0,
      max: 60_000,
      doc: 'Lingering close: after the server closes a connection the client may still be sending on (a refusal, Connection: close), it reads and discards for at most this long once its answer is flushed, so the client sees the answer and an EOF instead of a reset.',
    }),
    LINGER_MAX_BYTES: int({
      default: 16 * 1024 * 1024,
      min: 0,
      max: 1024 * 1024 * 1024,
      doc: 'Lingering close: at most this many bytes are read and discarded before the connection is cut anyway (room for what a fast uploader has in flight when it sees the answer).',
    }),
    MAX_HEADERS_COUNT: int({
      default: 100,
      min: 1,
      max: 10_000,
      doc: 'Most request header lines; more get 431 (Node would otherwise drop those past its own limit without a word).',
    }),
  } satisfies Schema;
}

/**
 * The limits of answer control (answer-control.ts), for the apps that mount
 * createHttpHandler (http-hello, https-secure): spread into the app's schema
 * next to its MAX_DELAY_MS, which bounds the `delay` control.
 */
export function answerVars() {
  return {
    ANSWER_CONTROL: bool(
      true,
      'Answer control (status, delay, size, close, header from the query or X-Netlab-* headers, on /, /whoami, /echo and /ws): false ignores them all, for a server clients must not make fail; /status/{code}, /delay/{ms}, /drip and /sse stay.',
    ),
    MAX_ANSWER_BYTES: int({
      default: 16 * 1024 * 1024,
      min: 0,
      max: 1024 * 1024 * 1024,
      doc: 'Largest body a `size` answer control may ask for (?size=, X-Netlab-Size); above it the answer is 400, not a silent clamp. The body is streamed, so this bounds traffic, not memory.',
    }),
    MAX_STREAM_MS: int({
      default: 60_000,
      min: 0,
      max: 3_600_000,
      doc: 'Longest /drip or /sse stream (count × interval, or duration=); longer gets 400. A drain ends streams early, at their next chunk.',
    }),
    MAX_ANSWER_HEADERS: int({
      default: 16,
      min: 0,
      max: 100,
      doc: 'Most response headers one request may add with answer control (?header=Name:value, X-Netlab-Header); more get 400.',
    }),
  } satisfies Schema;
}

/** The limits of the `/ws` echo (websocket.ts), for http-hello and https-secure. */
export function webSocketVars() {
  return {
    WS_MAX_MESSAGE_BYTES: int({
      default: 1024 * 1024,
      min: 1,
      max: 64 * 1024 * 1024,
      doc: 'Largest WebSocket message (all its fragments together); a bigger one closes the connection with 1009 (message too big).',
    }),
    WS_MAX_FRAGMENTS: int({
      default: 1024,
      min: 1,
      max: 65_536,
      doc: 'Most fragments in one WebSocket message; more close the connection with 1008 (each fragment is a buffer held until the message ends).',
    }),
    WS_MAX_CONNECTIONS: int({
      default: 1000,
      min: 0,
      max: 1_000_000,
      doc: 'Open /ws connections at most (per worker); one more upgrade gets 503 NETLAB_ERR_WS_TOO_MANY_CONNECTIONS. Each also counts against MAX_CONNECTIONS.',
    }),
    WS_IDLE_TIMEOUT_MS: int({
      default: 30_000,
      min: 0,
      max: 86_400_000,
      doc: 'A /ws connection with no message, ping or pong either way for this long is closed with 1001 (0: never; IDLE_TIMEOUT_MS still cuts a silent TCP connection).',
    }),
  } satisfies Schema;
}
