import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket, { type DecodedPacket, type RecordType as PacketType } from 'dns-packet';

/** One DNS server: where to send, and how DNS_SERVERS spells it. */
export interface ServerAddress {
  host: string;
  port: number;
  family: 4 | 6;
  /** `127.0.0.1:53`, `[::1]:5353`: how answers name it in `upstream`. */
  text: string;
}

/** What one query to the servers came to. */
export type Exchange =
  | { kind: 'response'; packet: DecodedPacket; server: string }
  /** Every try of every server went unanswered. */
  | { kind: 'timeout' }
  /** The last server could not be reached (ICMP port unreachable, TCP refused). */
  | { kind: 'unreachable'; detail: string }
  /** DNS_MAX_IN_FLIGHT queries are already out: this one was not sent. */
  | { kind: 'busy' }
  /** cancel() ended it (shutdown). */
  | { kind: 'cancelled' };

export interface WireOptions {
  timeoutMs: number;
  tries: number;
  /** Distinct queries out at once at most (DNS_MAX_IN_FLIGHT); each holds one socket. */
  maxInFlight: number;
}

// RFC 1035 §4.1.1 header bits and RCODE mask.
const RD = dnsPacket.RECURSION_DESIRED;
const TC = dnsPacket.TRUNCATED_RESPONSE;
const RCODE_MASK = 0x000f;
/** A TCP answer is a 2-byte length and at most 65,535 bytes (RFC 1035 §4.2.2): never buffer more. */
const TCP_MAX = 2 + 65_535;

/** The RCODE of a decoded response (dns-packet's types leave it out). */
export function rcodeOf(packet: DecodedPacket): number {
  return (packet.flags ?? 0) & RCODE_MASK;
}

/**
 * A stub resolver's transport: a query goes to each server in turn, over UDP
 * with a fresh socket on a random port and a random ID (RFC 5452 §9: the
 * port and the ID are the 32 bits a spoofer must guess), and over TCP when
 * the UDP answer comes back truncated (TC=1, RFC 7766 §5). An answer is
 * accepted only from the server asked (a connected UDP socket drops the
 * rest), with the query's ID and the same question (RFC 5452 §9.1); any
 * other datagram is ignored and the wait goes on, so a forged answer can
 * neither be taken nor cut the query short.
 *
 * Each try of each server waits `timeoutMs`: a query that nobody answers
 * ends after timeoutMs × tries × servers. At most `maxInFlight` queries are
 * out at once (one socket each); one more is refused at once (`busy`), so a
 * flood of distinct names cannot open a socket each.
 */
export class DnsClient {
  readonly #opts: WireOptions;
  readonly #cancels = new Set<() => void>();
  #inFlight = 0;
  #generation = 0;
  /** Datagrams dropped because they did not answer the question asked (ID, question): spoofing or late answers. */
  mismatched = 0;

  constructor(opts: WireOptions) {
    this.#opts = opts;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  async query(servers: readonly ServerAddress[], name: string, type: string): Promise<Exchange> {
    if (this.#inFlight >= this.#opts.maxInFlight) return { kind: 'busy' };
    this.#inFlight++;
    const generation = this.#generation;
    try {
      let last: Exchange = { kind: 'timeout' };
      for (let t = 0; t < this.#opts.tries; t++) {
        let failedAnswer: Exchange | undefined;
        for (const server of servers) {
          if (generation !== this.#generation) return { kind: 'cancelled' };
          let got = await this.#attempt(udp, server, name, type);
          if (got.kind === 'response' && (got.packet.flags ?? 0) & TC) {
            got = await this.#attempt(tcp, server, name, type);
          }
          if (got.kind === 'cancelled') return got;
          if (got.kind === 'response') {
            const rcode = rcodeOf(got.packet);
            // NOERROR and NXDOMAIN are answers; SERVFAIL, REFUSED and the
            // like say this server could not answer: the next one may.
            if (rcode === 0 || rcode === 3) return got;
            failedAnswer = got;
          } else if (got.kind === 'unreachable') {
            last = got;
          }
        }
        // Every server answered, some with a failure: asking them again would get the same.
        if (failedAnswer !== undefined) return failedAnswer;
      }
      return last;
    } finally {
      this.#inFlight--;
    }
  }

  /** Ends every query out (shutdown): each comes back `cancelled`. */
  cancel(): void {
    this.#generation++;
    for (const cancel of [...this.#cancels]) cancel();
  }

  #attempt(transport: Transport, server: ServerAddress, name: string, type: string) {
    return new Promise<Exchange>((resolve) => {
      const id = randomInt(0, 65_536);
      let done = false;
      const finish = (result: Exchange) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.#cancels.delete(cancel);
        stop();
        resolve(result);
      };
      const cancel = () => finish({ kind: 'cancelled' });
      const accept = (buf: Buffer): boolean => {
        const packet = answers(buf, id, name, type);
        if (packet === undefined) {
          this.mismatched++;
          return false;
        }
        finish({ kind: 'response', packet, server: server.text });
        return true;
      };
      this.#cancels.add(cancel);
      const timer = setTimeout(() => finish({ kind: 'timeout' }), this.#opts.timeoutMs);
      const stop = transport(server, encodeQuery(id, name, type), accept, finish);
    });
  }
}

/** Sends `query`, hands each reply to `accept`, ends with `finish` on a transport failure; returns how to close it. */
type Transport = (
  server: ServerAddress,
  query: Buffer,
  accept: (reply: Buffer) => boolean,
  finish: (result: Exchange) => void,
) => () => void;

const udp: Transport = (server, query, accept, finish) => {
  const socket = dgram.createSocket(server.family === 6 ? 'udp6' : 'udp4');
  socket.on('message', (msg) => accept(msg));
  // ECONNREFUSED: the ICMP port unreachable a connected UDP socket reports.
  socket.on('error', (err: NodeJS.ErrnoException) =>
    finish({ kind: 'unreachable', detail: `${err.code ?? 'error'} from ${server.text}` }),
  );
  socket.connect(server.port, server.host, () => socket.send(query));
  return () => {
    // A socket that failed to bind (EMFILE) is not running: close() would throw.
    try {
      socket.close();
    } catch {}
  };
};

const tcp: Transport = (server, query, accept, finish) => {
  const socket = net.connect({ host: server.host, port: server.port });
  let buffered = Buffer.alloc(0);
  socket.on('connect', () => {
    const framed = Buffer.alloc(2 + query.length);
    framed.writeUInt16BE(query.length, 0);
    query.copy(framed, 2);
    socket.write(framed);
  });
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    if (buffered.length > TCP_MAX) buffered = buffered.subarray(0, TCP_MAX);
    if (buffered.length < 2) return;
    const length = buffered.readUInt16BE(0);
    if (buffered.length < 2 + length) return;
    // One query, one answer on this connection: anything else is a broken server.
    if (!accept(buffered.subarray(2, 2 + length))) {
      finish({ kind: 'unreachable', detail: `a TCP answer from ${server.text} did not match` });
    }
  });
  socket.on('error', (err: NodeJS.ErrnoException) =>
    finish({ kind: 'unreachable', detail: `${err.code ?? 'error'} from ${server.text} (TCP)` }),
  );
  socket.on('close', () =>
    finish({ kind: 'unreachable', detail: `${server.text} closed the TCP connection` }),
  );
  return () => socket.destroy();
};

function encodeQuery(id: number, name: string, type: string): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id,
    flags: RD,
    questions: [{ type: type as PacketType, class: 'IN', name }],
  });
}

/** The decoded reply when it answers our question (ID, QR, the one question), else undefined. */
function answers(buf: Buffer, id: number, name: string, type: string): DecodedPacket | undefined {
  let packet: DecodedPacket;
  try {
    packet = dnsPacket.decode(buf);
  } catch {
    return undefined;
  }
  if (packet.id !== id || packet.type !== 'response') return undefined;
  const q = packet.questions?.[0];
  if (packet.questions?.length !== 1 || q === undefined) return undefined;
  if (q.type !== type || (q.class !== undefined && q.class !== 'IN')) return undefined;
  return sameName(q.name, name) ? packet : undefined;
}

/** DNS names compare without case (RFC 4343), the root spelt `.` or empty. */
export function sameName(a: string, b: string): boolean {
  return canonical(a) === canonical(b);
}

export function canonical(name: string): string {
  const n = name.toLowerCase().replace(/\.$/, '');
  return n === '' ? '.' : n;
}

/** A server as parseServer normalised it (`1.2.3.4:53`, `[::1]:53`). */
export function serverAddress(text: string): ServerAddress {
  const v6 = /^\[(.+)\]:(\d+)$/.exec(text);
  if (v6) return { host: v6[1]!, port: Number(v6[2]), family: 6, text };
  const cut = text.lastIndexOf(':');
  return { host: text.slice(0, cut), port: Number(text.slice(cut + 1)), family: 4, text };
}
