import type { TLSSocket } from 'node:tls';
import type { Logger } from '@netlab/common';
import type { ConnectionOrigin } from '@netlab/proxy-protocol';
import { describeTlsSession } from '@netlab/tls';
import type { ProtocolConfig } from './config.js';
import { ProtocolError } from './errors.js';
import { FrameDecoder } from './frame-codec.js';
import { Output } from './output.js';
import {
  DATA_CHUNK_BYTES,
  decodeU64,
  encodeErrorPayload,
  encodeU64,
  type Frame,
  RequestType,
  ResponseType,
} from './protocol.js';
import type { FrameStats } from './stats.js';
import { sessionInfo } from './tls-info.js';

export type CloseReason =
  | 'end'
  | 'bye'
  | 'idle'
  | 'frame-timeout'
  | 'protocol-error'
  | 'shutdown'
  | 'reset'
  | 'renegotiation'
  | 'error';

/** What the server keeps of one connection: the hooks its lifecycle needs. */
export interface Connection {
  /** Shutdown: refuse new requests, finish in-flight ones, then end. */
  drain(): void;
  /** The idle sweep found no traffic for IDLE_TIMEOUT_MS. */
  idle(): void;
  /** The shutdown deadline passed: record why the socket is about to be destroyed. */
  expire(): void;
  /** Answer bytes waiting for the client to read them (what flow control counts). */
  readonly buffered: number;
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
 * Every DATA frame carries the same bytes (the spec asks for a count, not a
 * content), so all STREAMs of all connections send this one buffer: a
 * STREAM in flight costs nothing until its frames are queued.
 */
const ZEROS = Buffer.alloc(DATA_CHUNK_BYTES);

/**
 * netlab/1 on one TLS connection (docs/tls-protocol.md): decode frames,
 * answer each request by id, stream STREAM data only while the client
 * reads, and end cleanly on BYE, a protocol violation, idleness, a frame
 * that takes too long, or shutdown.
 *
 * Flow control is the point of this file. Answers wait in `output`
 * (output.ts) only up to MAX_BUFFERED_BYTES (plus the one answer that
 * crossed it), counted as what they cost in memory: past that, STREAM
 * producers park until the output has room, requests already read stay
 * undecoded bytes, and the socket stops being read, so a client that sends
 * requests without reading answers stalls itself, not the server's heap.
 * (One read of 16 KiB holds over 1,300 INFO requests, whose answers come to
 * 50 times that.)
 */
export function serveConnection(socket: TLSSocket, deps: ConnectionDeps): Connection {
  const { config, stats, logger } = deps;
  const started = performance.now();
  const remotePort = socket.remotePort;
  // Read now: once the socket has closed, Node no longer reports them.
  const session = describeTlsSession(socket);
  // Client-initiated renegotiation (TLS 1.2 only; 1.3 has none) makes the
  // server redo the expensive half of a handshake on demand: a CPU
  // amplification (CVE-2011-1473) that netlab/1 has no use for. nginx
  // refuses it outright and so do we: Node then reports the attempt as an
  // 'error' (ERR_TLS_RENEGOTIATION_DISABLED) when it starts, and the error
  // handler below closes the connection. Node's own default only complains
  // after 3 in 10 minutes, and leaves the connection open.
  socket.disableRenegotiation();

  // INFO's answer, made once: nothing in it changes on a connection (no
  // renegotiation), and once the socket is closed Node no longer reports it.
  const info = Buffer.from(JSON.stringify(sessionInfo(socket, deps.peerAddress, deps.origin)));
  const decoder = new FrameDecoder({ maxFrameBytes: config.MAX_FRAME_BYTES, side: 'server' });
  const output = new Output(socket, onWritten);
  const parked = new Set<() => void>();
  let inFlight = 0;
  let framesIn = 0;
  let framesOut = 0;
  // No more requests are answered: BYE, a fatal error, idle, a frame timeout.
  let closing = false;
  // The client half-closed: answer what it sent, then end.
  let inputEnded = false;
  let draining = false;
  let reason: CloseReason | undefined;
  let errno: string | undefined;
  // The deadline of the frame being received (FRAME_TIMEOUT_MS from its first byte).
  let frameTimer: NodeJS.Timeout | undefined;
  let timedFrame = -1;
  // When the partial frame being received started (performance.now()), -1: none.
  let frameStarted = -1;

  const room = () => output.buffered < config.MAX_BUFFERED_BYTES;

  function send(type: number, id: number, payload?: Buffer, shared = false): void {
    framesOut++;
    stats.out(type);
    output.frame(type, id, payload, shared);
  }

  function fail(err: ProtocolError): void {
    stats.error(err.errorName);
    send(ResponseType.ERROR, err.id, encodeErrorPayload(err.wire, err.message));
  }

  /** Stops answering requests; ends our side once every in-flight answer is written. */
  function finish(why: CloseReason): void {
    if (!closing) {
      closing = true;
      reason ??= why;
    }
    watchFrame();
    endWhenAnswered();
  }

  function endWhenAnswered(): void {
    if (socket.writableEnded || socket.destroyed || inFlight > 0) return;
    if (!(closing || draining || inputEnded)) return;
    // Requests read before a FIN or a shutdown are still answered.
    if (!closing && decoder.ready) return;
    if (!closing) {
      closing = true;
      reason ??= inputEnded ? 'end' : 'shutdown';
    }
    output.end();
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

  /**
   * Starts, keeps or clears the deadline of the frame being received. Only
   * the client's slowness counts: while whole frames wait for room in the
   * output, no deadline runs.
   *
   * Pipelined requests leave a partial frame at the end of nearly every
   * read (a 16 KiB TLS record holds 15.8 ECHOs of 1 KiB), so a new frame's
   * deadline is only written down here; one timer per connection checks it
   * when it fires and waits again for what is left of a later frame's
   * deadline. A setTimeout and clearTimeout per read was 3% of the server's
   * CPU under pipelined ECHO (profile, README).
   */
  function watchFrame(): void {
    const partial = !closing && !inputEnded && decoder.buffered > 0 && !decoder.ready;
    if (!partial) {
      frameStarted = -1;
      if (closing || inputEnded) {
        clearTimeout(frameTimer);
        frameTimer = undefined;
      }
      return;
    }
    // Still the same frame arriving (no whole one decoded since its deadline started).
    if (frameStarted >= 0 && timedFrame === framesIn) return;
    timedFrame = framesIn;
    frameStarted = performance.now();
    if (frameTimer === undefined) armFrameTimer(config.FRAME_TIMEOUT_MS);
  }

  function armFrameTimer(ms: number): void {
    frameTimer = setTimeout(onFrameTimer, ms);
    frameTimer.unref();
  }

  function onFrameTimer(): void {
    frameTimer = undefined;
    if (closing || socket.destroyed || frameStarted < 0) return;
    const left = frameStarted + config.FRAME_TIMEOUT_MS - performance.now();
    // Timers may fire up to a millisecond early (they round); a deadline
    // within that is reached.
    if (left >= 1) {
      armFrameTimer(left);
      return;
    }
    fail(
      new ProtocolError(
        'FRAME_TIMEOUT',
        `a frame was not complete ${config.FRAME_TIMEOUT_MS} ms after its first byte`,
      ),
    );
    finish('frame-timeout');
    output.flush();
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
        send(ResponseType.PONG, id);
        return;
      case RequestType.ECHO:
        send(ResponseType.ECHO_REPLY, id, payload);
        return;
      case RequestType.INFO:
        if (!empty) break;
        send(ResponseType.INFO_REPLY, id, info);
        return;
      case RequestType.TIME:
        if (!empty) break;
        send(ResponseType.TIME_REPLY, id, Buffer.from(new Date().toISOString()));
        return;
      case RequestType.STREAM: {
        if (payload.length !== 8) break;
        // A u64 of 2^53 or more is a valid count (the spec's answer is
        // STREAM_TOO_LARGE, not BAD_PAYLOAD): it is over any MAX_STREAM_BYTES.
        const bytes = decodeU64(payload) ?? Number.POSITIVE_INFINITY;
        if (bytes > config.MAX_STREAM_BYTES) {
          fail(
            new ProtocolError(
              'STREAM_TOO_LARGE',
              `STREAM of ${payload.readBigUInt64BE()} bytes exceeds the limit of ${config.MAX_STREAM_BYTES}`,
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
        send(ResponseType.BYE_ACK, id);
        finish('bye');
        return;
      default:
        fail(new ProtocolError('UNKNOWN_TYPE', `unknown request type ${frame.type}`, id));
        return;
    }
    fail(new ProtocolError('BAD_PAYLOAD', 'wrong payload for this request type', id));
  }

  /** STREAM: `total` bytes in DATA frames, produced only while the output has room. */
  function stream(id: number, total: number): void {
    inFlight++;
    let remaining = total;
    const pump = (): void => {
      if (socket.destroyed || socket.writableEnded) return;
      while (remaining > 0) {
        if (!room()) {
          parked.add(pump);
          output.flush();
          return;
        }
        const n = Math.min(remaining, DATA_CHUNK_BYTES);
        send(ResponseType.DATA, id, ZEROS.subarray(0, n), true);
        remaining -= n;
      }
      send(ResponseType.STREAM_END, id, encodeU64(total));
      inFlight--;
      output.flush();
      endWhenAnswered();
    };
    pump();
  }

  /** Answers the requests read, in order, while the output has room; stops reading when it has none. */
  function serve(): void {
    while (!closing && room()) {
      const frame = decoder.next();
      if (frame === undefined) {
        if (decoder.error) fatal(decoder.error);
        break;
      }
      handle(frame);
    }
    output.flush();
    watchFrame();
    if (closing) return;
    if (decoder.ready || !room()) {
      socket.pause();
    } else {
      socket.resume();
      endWhenAnswered();
    }
  }

  // A batch of answers has left: answer what is waiting and read requests
  // again (serve), then let parked STREAMs refill the output. Serving first
  // matters: a STREAM refills the output at once, and would otherwise keep
  // the client's next requests (a PING, a BYE) unanswered until it ends.
  function onWritten(): void {
    if (!closing) serve();
    for (const pump of [...parked]) {
      parked.delete(pump);
      pump();
    }
  }

  socket.on('data', (chunk: Buffer) => {
    if (closing || socket.destroyed) return; // lingering: read and discard
    decoder.append(chunk);
    serve();
  });

  // The client half-closed: answer what it asked for, then end (RFC 862's
  // courtesy, and what lets `printf … | openssl s_client` see every answer).
  socket.on('end', () => {
    inputEnded = true;
    // A frame the FIN cut short will never complete: it is dropped, not timed.
    watchFrame();
    endWhenAnswered();
  });

  socket.on('error', (err: NodeJS.ErrnoException) => {
    errno = err.code;
    if (err.code === 'ERR_TLS_RENEGOTIATION_DISABLED' || err.code === 'ERR_TLS_SESSION_ATTACK') {
      // Node reports this and keeps the connection: close it, as nginx does.
      reason = 'renegotiation';
      logger.info(
        { remoteAddress: deps.peerAddress, remotePort, reason, err: err.code },
        'TLS renegotiation refused',
      );
      socket.destroy();
      return;
    }
    reason ??= err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'reset' : 'error';
  });

  socket.once('close', () => {
    parked.clear();
    clearTimeout(frameTimer);
    deps.onClose(reason ?? 'end');
    logger.info(
      {
        remoteAddress: deps.peerAddress,
        remotePort,
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
    get buffered() {
      return output.buffered;
    },
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
      output.flush();
    },
    expire() {
      reason = 'shutdown';
    },
  };
}
