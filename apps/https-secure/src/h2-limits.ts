import http2 from 'node:http2';
import type { Logger } from '@netlab/common';
import { peerAddress } from '@netlab/common';
import type { HttpRequest, HttpResponse } from '@netlab/http-handlers';
import { HTTPS_ERRORS } from './errors.js';

const { NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_NO_ERROR, NGHTTP2_REFUSED_STREAM } = http2.constants;

// A session may reset H2_MAX_STREAM_RESETS streams at once, and earns them
// back over this window (a token bucket): a browser cancelling a page's
// requests on navigation stays far below it, a rapid-reset client does not.
const RESET_WINDOW_MS = 10_000;
// Warnings about refused streams at most this often (as MAX_CONNECTIONS' are).
const REFUSAL_LOG_INTERVAL_MS = 5000;

export interface H2LimitOptions {
  maxStreamResets: number;
  maxOpenStreams: number;
  maxHeaderSize: number;
  pingTimeoutMs: number;
  /** Refused streams after the first are logged in one line this often (default 5 s). */
  refusalLogIntervalMs?: number;
  logger: Logger;
  onReset(): void;
  onSessionClosed(reason: 'resets' | 'dead'): void;
  onRefused(): void;
  /** Answers an h2 request whose header block is over maxHeaderSize (431). */
  refuseHeaders(req: HttpRequest, res: HttpResponse): void;
}

export interface H2Limits {
  /**
   * Runs in front of the request handler: `next` is called for an HTTP/1
   * request at once, for an HTTP/2 one on the next turn of the event loop
   * unless the stream is gone by then or is refused here.
   */
  gate(req: HttpRequest, res: HttpResponse, next: () => void): void;
  /** HTTP/2 streams open now, process-wide. */
  readonly openStreams: number;
  stop(): void;
}

interface SessionState {
  readonly opened: number;
  streams: number;
  resets: number;
  tokens: number;
  refilled: number;
  bytesRead: number;
  pingSince: number | undefined;
  closing: boolean;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
}

/**
 * What node:http2 leaves to the application, for a server facing hostile
 * clients (issue 19):
 *
 * - **Rapid reset** (CVE-2023-44487): a client opens streams and resets
 *   them at once, making the server start work it never finishes. nghttp2
 *   (Node 20/24) answers only after ~1,000 in a burst, with a GOAWAY that
 *   leaves the TCP connection open. Here the resets of each session are
 *   counted (a metric, and one log line per session instead of an access
 *   line per stream: a stream reset before the handler's turn never reaches
 *   it), and over H2_MAX_STREAM_RESETS in 10 s the session gets GOAWAY
 *   ENHANCE_YOUR_CALM and its connection is closed (RFC 9113 §5.4.1).
 * - **A session the HTTP/2 library ended**: on a connection error (a frame
 *   over the maximum size, a flood) nghttp2 sends GOAWAY and then ignores
 *   the connection, but Node is not told and the socket stays open. A
 *   session whose client sent something is sent a PING (clients must answer
 *   it, RFC 9113 §6.7); one that gets no answer within H2_PING_TIMEOUT_MS is
 *   closed. (Go's server has the same health check: ReadIdleTimeout and
 *   PingTimeout.)
 * - **Memory**: every open stream costs its objects whether or not the
 *   client ever opens its flow-control window; H2_MAX_OPEN_STREAMS bounds
 *   them process-wide, and a stream over it is refused with REFUSED_STREAM
 *   (RFC 9113 §8.7: nothing was done, the client may retry).
 * - **Header size before SETTINGS are acknowledged**: Node applies
 *   SETTINGS_MAX_HEADER_LIST_SIZE only once the client has acknowledged our
 *   SETTINGS; a client sending its request in its first flight (curl does)
 *   could send 64 KB of headers. The handler's side checks the size the way
 *   Node and nghttp2 count it (name + value + 32 per field, RFC 9113 §6.5.2)
 *   and answers 431, as HTTP/1.1 does.
 */
export function limitHttp2(server: http2.Http2SecureServer, opts: H2LimitOptions): H2Limits {
  const { logger } = opts;
  const refusalLogIntervalMs = opts.refusalLogIntervalMs ?? REFUSAL_LOG_INTERVAL_MS;
  const sessions = new Map<http2.Http2Session, SessionState>();
  // Streams this side reset: not the client's doing.
  const ours = new WeakSet<http2.ServerHttp2Stream>();
  let openStreams = 0;
  let refusedSince = 0;
  let refusalQuiet: NodeJS.Timeout | undefined;

  server.on('session', (session: http2.ServerHttp2Session) => {
    const now = performance.now();
    const state: SessionState = {
      opened: now,
      streams: 0,
      resets: 0,
      tokens: opts.maxStreamResets,
      refilled: now,
      bytesRead: 0,
      pingSince: undefined,
      closing: false,
      remoteAddress: peerAddress(session.socket?.remoteAddress),
      remotePort: session.socket?.remotePort,
    };
    sessions.set(session, state);
    session.once('close', () => {
      sessions.delete(session);
      if (state.resets === 0) return;
      logger.info(
        {
          remoteAddress: state.remoteAddress,
          remotePort: state.remotePort,
          streams: state.streams,
          resets: state.resets,
          durationMs: Math.round(performance.now() - state.opened),
        },
        'HTTP/2 session closed, streams reset by the client',
      );
    });
  });

  // Counted in the gate, which every stream passes: Node hands each one to
  // the server's 'request' listener, or to 'checkContinue',
  // 'checkExpectation' and 'connect', which the guards route to the same
  // gate (h2-limits.test.ts resets CONNECT and Expect streams to show it).
  const tracked = new WeakSet<http2.ServerHttp2Stream>();
  function track(stream: http2.ServerHttp2Stream, state: SessionState) {
    if (tracked.has(stream)) return;
    tracked.add(stream);
    state.streams++;
    openStreams++;
    const { session } = stream;
    stream.once('close', () => {
      openStreams--;
      if (stream.rstCode === undefined || stream.rstCode === NGHTTP2_NO_ERROR) return;
      if (ours.has(stream)) return;
      // A connection closing ends its open streams with a code too: not a reset.
      if (session === undefined || session.destroyed || session.closed) return;
      state.resets++;
      opts.onReset();
      if (!takeResetToken(state) || state.closing) return;
      state.closing = true;
      opts.onSessionClosed('resets');
      logger.warn(
        {
          remoteAddress: state.remoteAddress,
          remotePort: state.remotePort,
          streams: state.streams,
          resets: state.resets,
          limit: opts.maxStreamResets,
          code: HTTPS_ERRORS.NETLAB_ERR_H2_TOO_MANY_RESETS,
        },
        'HTTP/2 session closed: too many stream resets (GOAWAY ENHANCE_YOUR_CALM)',
      );
      // GOAWAY with this code, then the connection is closed. (Node's
      // session.destroy(undefined, code) sends NO_ERROR once the client
      // has streams in flight: say why first.)
      session.goaway(NGHTTP2_ENHANCE_YOUR_CALM);
      setImmediate(() => session.destroy());
    });
  }

  /** Spends one reset; false while the session is within its budget. */
  function takeResetToken(state: SessionState): boolean {
    const now = performance.now();
    const earned = ((now - state.refilled) * opts.maxStreamResets) / RESET_WINDOW_MS;
    state.tokens = Math.min(opts.maxStreamResets, state.tokens + earned);
    state.refilled = now;
    state.tokens -= 1;
    return state.tokens < 0;
  }

  const probe = setInterval(
    () => {
      const now = performance.now();
      for (const [session, state] of sessions) {
        if (session.destroyed || session.socket === undefined) continue;
        if (state.pingSince !== undefined) {
          if (now - state.pingSince < opts.pingTimeoutMs) continue;
          opts.onSessionClosed('dead');
          logger.info(
            {
              remoteAddress: peerAddress(session.socket.remoteAddress),
              remotePort: session.socket.remotePort,
              pingTimeoutMs: opts.pingTimeoutMs,
              code: HTTPS_ERRORS.NETLAB_ERR_H2_SESSION_DEAD,
            },
            'HTTP/2 session closed: no answer to PING (the session had ended on a protocol error)',
          );
          session.destroy();
          continue;
        }
        const read = session.socket.bytesRead;
        if (read === state.bytesRead) continue;
        state.bytesRead = read;
        state.pingSince = now;
        try {
          session.ping(() => {
            state.pingSince = undefined;
            // The answer is not the client's doing: an idle session is asked
            // once, not every interval (its answers would look like traffic
            // to IDLE_TIMEOUT_MS's sweep too, and keep it open for ever).
            if (session.socket !== undefined) state.bytesRead = session.socket.bytesRead;
          });
        } catch {
          // A session closing right now takes no ping; its close ends it anyway.
          state.pingSince = undefined;
        }
      }
    },
    Math.max(50, Math.min(1000, Math.floor(opts.pingTimeoutMs / 2))),
  );
  probe.unref();

  function refuseStream(stream: http2.ServerHttp2Stream) {
    ours.add(stream);
    opts.onRefused();
    stream.close(NGHTTP2_REFUSED_STREAM);
    if (refusalQuiet !== undefined) {
      refusedSince++;
      return;
    }
    logger.warn(
      { limit: opts.maxOpenStreams, code: HTTPS_ERRORS.NETLAB_ERR_H2_STREAMS_EXHAUSTED },
      'HTTP/2 stream refused: H2_MAX_OPEN_STREAMS reached',
    );
    const report = () => {
      if (refusedSince === 0) {
        refusalQuiet = undefined;
        return;
      }
      logger.warn(
        {
          refused: refusedSince,
          limit: opts.maxOpenStreams,
          intervalMs: refusalLogIntervalMs,
          code: HTTPS_ERRORS.NETLAB_ERR_H2_STREAMS_EXHAUSTED,
        },
        'HTTP/2 streams refused: H2_MAX_OPEN_STREAMS reached',
      );
      refusedSince = 0;
      refusalQuiet = setTimeout(report, refusalLogIntervalMs).unref();
    };
    refusalQuiet = setTimeout(report, refusalLogIntervalMs).unref();
  }

  return {
    gate(req, res, next) {
      const stream = (req as HttpRequest & { stream?: http2.ServerHttp2Stream }).stream;
      if (stream === undefined) {
        next();
        return;
      }
      const state = stream.session && sessions.get(stream.session);
      if (state) track(stream, state);
      if (openStreams > opts.maxOpenStreams) {
        refuseStream(stream);
        return;
      }
      if (headerListSize(req.rawHeaders) > opts.maxHeaderSize) {
        opts.refuseHeaders(req, res);
        return;
      }
      // A rapid-reset client's RST_STREAM comes in the same read as its
      // HEADERS: by the next turn the stream is closed and costs nothing more.
      setImmediate(() => {
        if (!stream.closed && !stream.destroyed) next();
      });
    },
    get openStreams() {
      return openStreams;
    },
    stop() {
      clearInterval(probe);
      clearTimeout(refusalQuiet);
    },
  };
}

/** A header section's size as SETTINGS_MAX_HEADER_LIST_SIZE counts it: name + value + 32 per field (RFC 9113 §6.5.2). */
export function headerListSize(rawHeaders: readonly string[]): number {
  let size = 0;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    size += Buffer.byteLength(rawHeaders[i]!) + Buffer.byteLength(rawHeaders[i + 1]!) + 32;
  }
  return size;
}
