import net from 'node:net';
import tls from 'node:tls';

/** One HTTP/2 frame as it goes on the wire (RFC 9113 §4.1). */
export function frame(
  type: number,
  flags: number,
  streamId: number,
  payload: Buffer = Buffer.alloc(0),
) {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

export const HEADERS = 0x1;
export const RST_STREAM = 0x3;
export const SETTINGS = 0x4;
export const PING = 0x6;
export const GOAWAY = 0x7;
export const END_STREAM_END_HEADERS = 0x5;
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
/** HPACK: GET, https, `/` from the static table, :authority `a` (RFC 7541 Appendix A). */
export const GET_SLASH = Buffer.from([0x82, 0x87, 0x84, 0x41, 0x01, 0x61]);

/** HPACK integer with an N-bit prefix (RFC 7541 §5.1). */
function hpackInt(prefix: number, bits: number, value: number): number[] {
  const max = (1 << bits) - 1;
  if (value < max) return [prefix | value];
  const out = [prefix | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return out;
}

/** A header field as an HPACK literal without indexing, new name, no Huffman (RFC 7541 §6.2.2). */
export function literal(name: string, value: string): Buffer {
  return Buffer.concat([
    Buffer.from([0x00, ...hpackInt(0, 7, name.length)]),
    Buffer.from(name, 'latin1'),
    Buffer.from(hpackInt(0, 7, value.length)),
    Buffer.from(value, 'latin1'),
  ]);
}

export function settings(pairs: Array<[number, number]>) {
  const payload = Buffer.alloc(6 * pairs.length);
  pairs.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, 6 * i);
    payload.writeUInt32BE(value, 6 * i + 2);
  });
  return frame(SETTINGS, 0, 0, payload);
}

export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/**
 * A raw HTTP/2 client over TLS: it writes the bytes it is given, when it is
 * given them (no waiting for the server's SETTINGS, no repair), and parses
 * every frame the server sends.
 */
export class RawH2 {
  readonly frames: Frame[] = [];
  readonly closed: Promise<void>;
  #buffer = Buffer.alloc(0);
  #waiters: Array<() => void> = [];
  /** Answer the server's PINGs (default); off, the client plays a dead peer. */
  answerPings = true;
  /** How long the client takes to answer a PING (a slow but live peer). */
  pingDelayMs = 0;

  private constructor(
    readonly socket: tls.TLSSocket,
    private readonly tcp: net.Socket,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      while (this.#buffer.length >= 9) {
        const length = this.#buffer.readUIntBE(0, 3);
        if (this.#buffer.length < 9 + length) break;
        this.frames.push({
          type: this.#buffer[3]!,
          flags: this.#buffer[4]!,
          streamId: this.#buffer.readUInt32BE(5) & 0x7fffffff,
          payload: this.#buffer.subarray(9, 9 + length),
        });
        this.#buffer = this.#buffer.subarray(9 + length);
        const last = this.frames.at(-1)!;
        // Every HTTP/2 client answers a PING (RFC 9113 §6.7); the server closes one that does not.
        if (this.answerPings && last.type === PING && (last.flags & 1) === 0) {
          const ack = frame(PING, 1, 0, last.payload);
          if (this.pingDelayMs === 0) socket.write(ack);
          else setTimeout(() => socket.destroyed || socket.write(ack), this.pingDelayMs);
        }
      }
      for (const wake of this.#waiters.splice(0)) wake();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    this.closed.then(() => {
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  static connect(port: number): Promise<RawH2> {
    return new Promise((resolve, reject) => {
      const tcp = net.connect({ host: '127.0.0.1', port });
      const socket = tls.connect(
        { socket: tcp, rejectUnauthorized: false, ALPNProtocols: ['h2'] },
        () => resolve(new RawH2(socket, tcp)),
      );
      socket.once('error', reject);
    });
  }

  write(...parts: Buffer[]): void {
    this.socket.write(Buffer.concat(parts));
  }

  /** The first frame matching `test`, waiting for it; rejects if the connection closes first. */
  async waitFor(test: (f: Frame) => boolean, what: string): Promise<Frame> {
    for (;;) {
      const found = this.frames.find(test);
      if (found) return found;
      if (this.socket.destroyed) throw new Error(`connection closed before ${what}`);
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Hangs up with a TCP RST, as a client that crashed or a middlebox does. */
  reset(): void {
    this.tcp.resetAndDestroy();
  }
}

/** The error code of a GOAWAY (RFC 9113 §6.8) or RST_STREAM (§6.4) frame. */
export const errorCode = (f: Frame) =>
  f.type === GOAWAY ? f.payload.readUInt32BE(4) : f.payload.readUInt32BE(0);
