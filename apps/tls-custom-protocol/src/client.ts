import { once } from 'node:events';
import tls, { type TLSSocket } from 'node:tls';
import { ClientError, RemoteError } from './errors.js';
import { FrameDecoder } from './frame-codec.js';
import {
  ALPN,
  decodeError,
  decodeU64,
  encodeFrame,
  encodeU64,
  errorName,
  type Frame,
  HEADER_BYTES,
  RequestType,
  ResponseType,
  writeHeader,
} from './protocol.js';
import type { SessionInfo } from './tls-info.js';

export interface ClientOptions {
  host?: string;
  port: number;
  /** CA certificate(s) to trust instead of the system's (PEM). */
  ca?: string | Buffer;
  /** Client certificate and key for mTLS (PEM). */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Skip server certificate verification (self-signed test servers). */
  insecure?: boolean;
  /** SNI name and the name the certificate is checked against; default: host. */
  servername?: string;
  /** A session from a previous connection's `session` event, to resume. */
  session?: Buffer;
  /** Largest frame accepted from the server (default 64 MiB). */
  maxFrameBytes?: number;
}

interface Pending {
  resolve(frame: Frame): void;
  reject(err: Error): void;
  /** STREAM only: each DATA payload as it arrives. */
  onData?: (payload: Buffer) => void;
}

const MAX_ID = 0xffff_ffff;
/** Requests are written into blocks of this size; a larger one gets a buffer of its own. */
const OUT_BLOCK_BYTES = 64 * 1024;

/**
 * A netlab/1 client: each call sends one request and resolves with its
 * answer, so many calls made at once are pipelined on one connection and
 * matched back by request id (docs/tls-protocol.md).
 */
export class NetlabClient {
  readonly socket: TLSSocket;
  readonly #pending = new Map<number, Pending>();
  readonly #decoder: FrameDecoder;
  #nextId = 0;
  /** The block requests are written into; [#outStart, #outEnd) is not handed to the socket yet. */
  #out: Buffer | undefined;
  #outStart = 0;
  #outEnd = 0;
  #flushQueued = false;
  #closed: Error | undefined;
  #session: Buffer | undefined;

  private constructor(socket: TLSSocket, maxFrameBytes: number) {
    this.socket = socket;
    this.#decoder = new FrameDecoder({ maxFrameBytes, side: 'client' });
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.#decoder.push(chunk)) this.#receive(frame);
      if (this.#decoder.error) {
        this.#fail(new ClientError('NETLAB_ERR_PROTOCOL', this.#decoder.error.message));
        socket.destroy();
      }
    });
    // TLS 1.3 tickets arrive after the handshake, often with the first answer.
    socket.on('session', (session: Buffer) => {
      this.#session = session;
    });
    socket.on('error', (err) => this.#fail(err));
    socket.on('close', () =>
      this.#fail(new ClientError('NETLAB_ERR_CONNECTION_CLOSED', 'the connection closed')),
    );
  }

  /** Connects, completes the TLS handshake with ALPN netlab/1, and resolves with a client. */
  static async connect(opts: ClientOptions): Promise<NetlabClient> {
    const host = opts.host ?? '127.0.0.1';
    const options: tls.ConnectionOptions = {
      host,
      port: opts.port,
      ALPNProtocols: [ALPN],
      rejectUnauthorized: !opts.insecure,
    };
    // Node's tls.connect asserts on some options present but undefined.
    if (opts.ca !== undefined) options.ca = opts.ca;
    if (opts.cert !== undefined) options.cert = opts.cert;
    if (opts.key !== undefined) options.key = opts.key;
    if (opts.session !== undefined) options.session = opts.session;
    if (opts.servername !== undefined) {
      options.servername = opts.servername;
      // Check the certificate against the name asked for, even when connecting to an IP.
      options.checkServerIdentity = (_host, cert) =>
        tls.checkServerIdentity(opts.servername!, cert);
    } else if (!isIp(host)) {
      options.servername = host;
    }
    const socket = tls.connect(options);
    socket.setNoDelay(true);
    await Promise.race([
      once(socket, 'secureConnect'),
      once(socket, 'error').then(([err]) => {
        throw err;
      }),
    ]);
    return new NetlabClient(socket, opts.maxFrameBytes ?? 64 * 1024 * 1024);
  }

  /** The latest TLS session ticket, to resume with on the next connection (`session` option). */
  get session(): Buffer | undefined {
    return this.#session;
  }

  async ping(): Promise<void> {
    await this.#request(RequestType.PING);
  }

  async echo(data: Buffer | string): Promise<Buffer> {
    // A Buffer is copied into the outgoing block when the request is made: no copy of our own.
    const payload = typeof data === 'string' ? Buffer.from(data) : data;
    return (await this.#request(RequestType.ECHO, payload)).payload;
  }

  async info(): Promise<SessionInfo> {
    return JSON.parse((await this.#request(RequestType.INFO)).payload.toString('utf8'));
  }

  async time(): Promise<string> {
    return (await this.#request(RequestType.TIME)).payload.toString('utf8');
  }

  /** Asks for `bytes` bytes; `onData` sees each DATA payload; resolves with the total the server reports. */
  async stream(bytes: number, onData?: (payload: Buffer) => void): Promise<number> {
    const end = await this.#request(RequestType.STREAM, encodeU64(bytes), onData);
    return decodeU64(end.payload) ?? 0;
  }

  /** BYE: the server answers, finishes what is in flight and closes. */
  async bye(): Promise<void> {
    await this.#request(RequestType.BYE);
    if (!this.socket.destroyed) await once(this.socket, 'close');
  }

  /** Closes the connection now; unanswered requests reject with NETLAB_ERR_CONNECTION_CLOSED. */
  close(): void {
    this.socket.destroy();
  }

  /** Sends one request and resolves with its final answer frame. */
  #request(type: number, payload?: Buffer, onData?: (p: Buffer) => void): Promise<Frame> {
    if (this.#closed) return Promise.reject(this.#closed);
    // Id 0 is reserved for errors about the whole connection.
    this.#nextId = this.#nextId === MAX_ID ? 1 : this.#nextId + 1;
    const id = this.#nextId;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, onData });
      this.#queue(type, id, payload);
    });
  }

  /**
   * Requests made in the same tick (Promise.all, a bench loop answering a
   * batch of replies) are written one after another into a block and leave
   * in one write at the end of the tick, so TLS seals them together: one
   * allocation and one write per batch, not per request (a pipelined ECHO
   * spent more time in the garbage collector than in TLS before).
   */
  #queue(type: number, id: number, payload: Buffer | undefined): void {
    const length = payload?.length ?? 0;
    const size = HEADER_BYTES + length;
    if (size > OUT_BLOCK_BYTES) {
      this.#flushOut();
      this.socket.write(encodeFrame(type, id, payload));
      return;
    }
    if (this.#out === undefined || this.#outEnd + size > OUT_BLOCK_BYTES) {
      this.#flushOut();
      // Its own memory, not Node's shared pool: the socket may hold what was written.
      this.#out = Buffer.allocUnsafeSlow(OUT_BLOCK_BYTES);
      this.#outStart = 0;
      this.#outEnd = 0;
    }
    const out = this.#out;
    writeHeader(out, type, id, length, this.#outEnd);
    if (payload !== undefined) out.set(payload, this.#outEnd + HEADER_BYTES);
    this.#outEnd += size;
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      process.nextTick(() => {
        this.#flushQueued = false;
        this.#flushOut();
      });
    }
  }

  /** Hands the block's unwritten requests to the socket (those bytes are never rewritten). */
  #flushOut(): void {
    if (this.#out === undefined || this.#outEnd === this.#outStart) return;
    const bytes = this.#out.subarray(this.#outStart, this.#outEnd);
    this.#outStart = this.#outEnd;
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  #receive(frame: Frame): void {
    if (frame.type === ResponseType.ERROR) {
      const { code, message } = decodeError(frame.payload);
      const err = new RemoteError(code, errorName(code), message);
      if (frame.id === 0) {
        this.#fail(err);
        return;
      }
      this.#settle(frame.id)?.reject(err);
      return;
    }
    if (frame.type === ResponseType.DATA) {
      this.#pending.get(frame.id)?.onData?.(frame.payload);
      return;
    }
    this.#settle(frame.id)?.resolve(frame);
  }

  #settle(id: number): Pending | undefined {
    const pending = this.#pending.get(id);
    this.#pending.delete(id);
    return pending;
  }

  #fail(err: Error): void {
    this.#closed ??= err;
    for (const pending of this.#pending.values()) pending.reject(err);
    this.#pending.clear();
  }
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
