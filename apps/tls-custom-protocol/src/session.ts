import type { TLSSocket } from 'node:tls';
import type { Logger } from '@netlab/common';
import type { ConnectionOrigin } from '@netlab/proxy-protocol';
import { describeTlsSession } from '@netlab/tls';
import type { ProtocolConfig } from './config.js';
import { ProtocolError } from './errors.js';
import { FrameDecoder } from './frame-codec.js';
import {
  DATA_CHUNK_BYTES,
  decodeU64,
  encodeError,
  encodeFrame,
  encodeU64,
  type Frame,
  HEADER_BYTES,
  RequestType,
  ResponseType,
  writeHeader,
} from './protocol.js';
import type { FrameStats } from './stats.js';
import { sessionInfo } from './tls-info.js';

export type CloseReason =
  | 'end'
  | 'bye'
  | 'idle'
  | 'protocol-error'
  | 'shutdown'
  | 'reset'
  | 'error';

/** What the server keeps of one connection: the hooks its lifecycle needs. */
export interface Connection {
  /** Shutdown: refuse new requests, finish in-flight ones, then end. */
  drain(): void;
  /** The idle sweep found no traffic for IDLE_TIMEOUT_MS. */
  idle(): void;
  /** The shutdown deadline passed: record why the socket is about to be destroyed. */
  expire(): void;
}

export interface ConnectionDeps {
  config: ProtocolConfig;
  logger: Logger;
  stats: FrameStats;
  /** The client's address as every netlab app reports it (IPv4 without ::ffff:). */
  peerAddress: string | undefined;
  /** The TCP peer and the client (from a PROXY header, else the peer), for INFO and the close line. */
  origin: ConnectionOrigin;
  /** Called once, when the socket has closed, with why. */
  onClose(reason: CloseReason): void;
}

// After the server ends a connection it keeps reading (and discarding) for
// this long: closing a socket with unread input makes the kernel send RST,
// and an RST can destroy the ERROR frame we just sent before the client
// reads it (nginx's "lingering close" does the same).
const LINGER_MS = 2000;

/**
 * netlab/1 on one TLS connection (docs/tls-protocol.md): decode frames,
 * answer each request by id, stream STREAM data only while the client
 * reads, and end cleanly on BYE, a protocol violation, idleness or shutdown.
 *
 * Flow control is the point of this file. Output waits in the socket's
 * buffer only up to MAX_BUFFERED_BYTES (plus the one answer that crossed
 * it): past that, STREAM producers park until 'drain', the requests left
 * in the current read wait unanswered, and the socket stops being read, so
 * a client that sends requests without reading answers stalls itself, not
 * the server's heap. (One read of 16 KiB holds over 1,300 INFO requests,
 * whose answers come to 50 times that.)
 */
export function serveConnection(socket: TLSSocket, deps: ConnectionDeps): Connection {
  const { config, stats, logger } = deps;
  const started = performance.now();
  // Read now: once the socket has closed, Node no longer reports them.
  const session = describeTlsSession(socket);

  const decoder = new FrameDecoder({ maxFrameBytes: config.MAX_FRAME_BYTES, side: 'server' });
  const parked = new Set<() => void>();
  // Requests read and not yet answered: what is left of a read once the
  // output buffer is full (at most one read's frames), and the framing
  // error that ended it, if any.
  let backlog: Frame[] = [];
  let backlogError: ProtocolError | undefined;
  let inFlight = 0;
  let framesIn = 0;
  let framesOut = 0;
  // No more requests are read: BYE, a fatal error, idle, or the client's FIN.
  let closing = false;
  let draining = false;
  let reason: CloseReason | undefined;
  let errno: string | undefined;

  function send(frame: Buffer, type: number): void {
    framesOut++;
    stats.out(type);
    socket.write(frame);
  }

  function fail(err: ProtocolError): void {
    stats.error(err.errorName);
    send(encodeError(err.id, err.wire, err.message), ResponseType.ERROR);
  }

  /** Stops reading requests; ends our side once every in-flight answer is written. */
  function finish(why: CloseReason): void {
    if (!closing) {
      closing = true;
      reason ??= why;
    }
    // BYE, a fatal error, idleness: what was read after it is not answered.
    // (A client's FIN comes after everything it sent, so it never finds a backlog.)
    if (why !== 'end') backlog = [];
    endWhenAnswered();
  }

  function endWhenAnswered(): void {
    if (inFlight > 0 || backlog.length > 0 || socket.writableEnded || !(closing || draining)) {
      return;
    }
    if (!closing) {
      closing = true;
      reason ??= 'shutdown';
    }
    socket.end();
    // Keep reading so unread input does not turn our close into an RST.
    socket.resume();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  }

  /** A framing error: the rest of the stream cannot be trusted. */
  function fatal(err: ProtocolError): void {
    fail(err);
    parked.clear();
    inFlight = 0;
    finish('protocol-error');
  }

  function handle(frame: Frame): void {
    framesIn++;
    stats.in(frame.type);
    const { id, payload } = frame;
    if (draining) {
      fail(new ProtocolError('SHUTTING_DOWN', 'the server is shutting down', id));
      return;
    }
    if (inFlight >= config.MAX_IN_FLIGHT) {
      fail(
        new ProtocolError(
          'TOO_MANY_IN_FLIGHT',
          `more than ${config.MAX_IN_FLIGHT} requests in flight`,
          id,
        ),
      );
      return;
    }
    const empty = payload.length === 0;
    switch (frame.type) {
      case RequestType.PING:
        if (!empty) break;
        send(encodeFrame(ResponseType.PONG, id), ResponseType.PONG);
        return;
      case RequestType.ECHO:
        send(encodeFrame(ResponseType.ECHO_REPLY, id, payload), ResponseType.ECHO_REPLY);
        return;
      case RequestType.INFO:
        if (!empty) break;
        send(
          encodeFrame(
            ResponseType.INFO_REPLY,
            id,
            Buffer.from(JSON.stringify(sessionInfo(socket, deps.peerAddress, deps.origin))),
          ),
          ResponseType.INFO_REPLY,
        );
        return;
      case RequestType.TIME:
        if (!empty) break;
        send(
          encodeFrame(ResponseType.TIME_REPLY, id, Buffer.from(new Date().toISOString())),
          ResponseType.TIME_REPLY,
        );
        return;
      case RequestType.STREAM: {
        const bytes = decodeU64(payload);
        if (bytes === undefined) break;
        if (bytes > config.MAX_STREAM_BYTES) {
          fail(
            new ProtocolError(
              'STREAM_TOO_LARGE',
              `STREAM of ${bytes} bytes exceeds the limit of ${config.MAX_STREAM_BYTES}`,
              id,
            ),
          );
          return;
        }
        stream(id, bytes);
        return;
      }
      case RequestType.BYE:
        if (!empty) break;
        send(encodeFrame(ResponseType.BYE_ACK, id), ResponseType.BYE_ACK);
        finish('bye');
        return;
      default:
        fail(new ProtocolError('UNKNOWN_TYPE', `unknown request type ${frame.type}`, id));
        return;
    }
    fail(new ProtocolError('BAD_PAYLOAD', 'wrong payload for this request type', id));
  }

  /** STREAM: `total` bytes in DATA frames, written only while the client keeps up. */
  function stream(id: number, total: number): void {
    inFlight++;
    // Every full DATA frame of this stream is the same bytes (same id, same
    // length), so one buffer is written again and again: no copy per frame.
    const full = Buffer.alloc(HEADER_BYTES + DATA_CHUNK_BYTES);
    writeHeader(full, ResponseType.DATA, id, DATA_CHUNK_BYTES);
    let remaining = total;
    const pump = (): void => {
      if (socket.destroyed || socket.writableEnded) return;
      while (remaining > 0) {
        if (socket.writableLength >= config.MAX_BUFFERED_BYTES) {
          parked.add(pump);
          return;
        }
        if (remaining >= DATA_CHUNK_BYTES) {
          send(full, ResponseType.DATA);
          remaining -= DATA_CHUNK_BYTES;
        } else {
          const last = full.subarray(HEADER_BYTES, HEADER_BYTES + remaining);
          send(encodeFrame(ResponseType.DATA, id, last), ResponseType.DATA);
          remaining = 0;
        }
      }
      send(encodeFrame(ResponseType.STREAM_END, id, encodeU64(total)), ResponseType.STREAM_END);
      inFlight--;
      endWhenAnswered();
    };
    pump();
  }

  /** Answers the backlog in order while the output buffer has room; stops reading when it has none. */
  function serve(): void {
    // One read often holds many pipelined requests. Corked, their answers
    // leave as one write, so TLS seals them into a few records instead of
    // one record (and one syscall) per answer.
    socket.cork();
    try {
      let next = 0;
      while (next < backlog.length && socket.writableLength < config.MAX_BUFFERED_BYTES) {
        handle(backlog[next++]!);
        // BYE or a fatal error: finish() dropped the rest.
        if (closing) return;
      }
      backlog = next === backlog.length ? [] : backlog.slice(next);
      if (backlog.length === 0 && backlogError !== undefined) {
        fatal(backlogError);
        return;
      }
    } finally {
      socket.uncork();
    }
    if (backlog.length > 0 || socket.writableLength >= config.MAX_BUFFERED_BYTES) {
      socket.pause();
    } else {
      endWhenAnswered();
    }
  }

  socket.on('data', (chunk: Buffer) => {
    if (closing) return; // lingering: read and discard
    const frames = decoder.push(chunk);
    backlog = backlog.length === 0 ? frames : backlog.concat(frames);
    backlogError ??= decoder.error;
    serve();
  });

  // 'drain' means the client has read everything we wrote: answer what is
  // waiting, read its requests again, and let parked STREAMs refill the
  // buffer. Reading first matters: a STREAM refills the buffer at once, and
  // would otherwise keep the client's next requests (a PING, a BYE) unread
  // until it ends.
  socket.on('drain', () => {
    if (!closing) {
      serve();
      if (!closing && backlog.length === 0 && socket.writableLength < config.MAX_BUFFERED_BYTES) {
        socket.resume();
      }
    }
    for (const pump of [...parked]) {
      parked.delete(pump);
      pump();
    }
  });

  // The client half-closed: answer what it asked for, then end (RFC 862's
  // courtesy, and what lets `printf … | openssl s_client` see every answer).
  socket.on('end', () => finish('end'));

  socket.on('error', (err: NodeJS.ErrnoException) => {
    errno = err.code;
    reason ??= err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'reset' : 'error';
  });

  socket.once('close', () => {
    parked.clear();
    deps.onClose(reason ?? 'end');
    logger.info(
      {
        remoteAddress: deps.peerAddress,
        remotePort: socket.remotePort,
        clientAddress: deps.origin.client.address,
        clientPort: deps.origin.client.port,
        ...(deps.origin.proxy === null
          ? {}
          : {
              proxy: {
                version: deps.origin.proxy.version,
                command: deps.origin.proxy.command,
                protocol: deps.origin.proxy.protocol,
                tlvs: deps.origin.proxy.tlvs,
              },
            }),
        tlsVersion: session.version,
        cipher: session.cipher,
        alpn: session.alpnProtocol,
        clientCert: session.clientCertificate?.subject ?? null,
        framesIn,
        framesOut,
        bytesIn: socket.bytesRead,
        bytesOut: socket.bytesWritten,
        durationMs: Math.round(performance.now() - started),
        reason: reason ?? 'end',
        ...(errno === undefined ? {} : { errno }),
      },
      'connection closed',
    );
  });

  return {
    drain() {
      draining = true;
      endWhenAnswered();
    },
    idle() {
      if (closing) {
        socket.destroy();
        return;
      }
      fail(new ProtocolError('IDLE_TIMEOUT', `no traffic for ${config.IDLE_TIMEOUT_MS} ms`));
      finish('idle');
    },
    expire() {
      reason = 'shutdown';
    },
  };
}
