import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { HTTPS_ERRORS } from './errors.js';
import { interpose } from './interpose.js';

/** The first byte of every TLS connection: a handshake record (RFC 8446 §5.1, ContentType 22). */
const TLS_HANDSHAKE = 0x16;

/** What a client that spoke plain HTTP to the TLS port is told, as nginx does (its 400 "plain HTTP request was sent to HTTPS port"). */
export const PLAINTEXT_BODY = `${JSON.stringify({ error: 'this port speaks HTTPS: plain HTTP (or h2c) was sent to it', code: HTTPS_ERRORS.NETLAB_ERR_HTTPS_EXPECTED, status: 400 })}\n`;

const PLAINTEXT_RESPONSE = [
  'HTTP/1.1 400 Bad Request',
  'Content-Type: application/json; charset=utf-8',
  `Content-Length: ${Buffer.byteLength(PLAINTEXT_BODY)}`,
  'Connection: close',
  '',
  PLAINTEXT_BODY,
].join('\r\n');

export interface PlaintextOptions {
  /** How long a client may stay silent before its first byte (TLS_HANDSHAKE_TIMEOUT_MS). */
  timeoutMs: number;
  /** A connection whose first byte is not a TLS handshake: it gets a plaintext 400. */
  onPlaintext(socket: Socket, firstBytes: Buffer): void;
  /**
   * A connection that sent nothing: `timeout`, or `reset` (it hung up first,
   * as TCP health checks do). `peer` is the client as it connected: a socket
   * reset by its peer no longer knows its remote address.
   */
  onSilent(
    socket: Socket,
    code: 'ERR_TLS_HANDSHAKE_TIMEOUT' | 'ECONNRESET',
    peer: { remoteAddress: string | undefined; remotePort: number | undefined },
  ): void;
}

/**
 * Looks at the first bytes of every connection to a TLS server before TLS
 * takes it. A TLS client starts with a handshake record (0x16); anything
 * else is someone speaking plain HTTP or h2c to the TLS port (a proxy or a
 * load balancer pointed at the wrong scheme, the very users of this
 * project). OpenSSL would fail those with a bare close; here they get a
 * plaintext `400` saying HTTPS is expected, which curl, a browser and a
 * proxy's error log all show.
 *
 * The bytes read are put back with `socket.unshift()` and the socket goes
 * on to node:tls's own 'connection' listener, which reads them first
 * (public API; see interpose.ts). The TLS handshake deadline starts there,
 * so a client silent from the start is timed out here, with the same
 * deadline.
 */
export function refusePlaintext(server: EventEmitter, opts: PlaintextOptions): void {
  interpose(server, 'connection', (pass, socket: Socket) => {
    const peer = { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort };
    const timer = setTimeout(() => {
      cleanup();
      opts.onSilent(socket, 'ERR_TLS_HANDSHAKE_TIMEOUT', peer);
      socket.destroy();
    }, opts.timeoutMs);
    const onReadable = () => {
      const chunk = socket.read() as Buffer | null;
      if (chunk === null) return;
      cleanup();
      if (chunk[0] === TLS_HANDSHAKE) {
        socket.unshift(chunk);
        pass();
        return;
      }
      opts.onPlaintext(socket, chunk.subarray(0, 64));
      // Our answer, then close; what the client still sends is ignored (no
      // lingering: nothing it sends here is worth reading).
      socket.on('error', () => {});
      socket.end(PLAINTEXT_RESPONSE);
      socket.resume();
    };
    const onEnd = () => {
      cleanup();
      opts.onSilent(socket, 'ECONNRESET', peer);
      socket.destroy();
    };
    const onError = () => onEnd();
    function cleanup() {
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      socket.off('error', onError);
    }
    socket.on('readable', onReadable);
    socket.once('end', onEnd);
    socket.once('error', onError);
  });
}
