import type { Server, Socket } from 'node:net';
import { Counter, type Logger, peerAddress, type Registry } from '@netlab/common';
import type { ProxyProtocolConfig } from './config.js';
import { ProxyProtocolError } from './errors.js';
import type { ProxyHeader } from './header.js';
import { detect, ProxyHeaderParser } from './parser.js';

/** Who is on the other end of a connection, as a server should report it. */
export interface ConnectionOrigin {
  /** The TCP peer: the balancer when a header was read, else the client itself. */
  peer: { address: string | null; port: number | null };
  /** The real client: from the header, or the TCP peer when there is none (LOCAL, UNKNOWN, plain). */
  client: { address: string | null; port: number | null };
  /** The header as read, or null when the connection had none. */
  proxy: ProxyHeader | null;
}

// Keyed by the connection's 4-tuple, which is unique among open connections
// and is the same on the raw socket and on the TLSSocket a tls/https server
// wraps around it, so https-secure can find it without Node internals.
// Entries of closed sockets are swept when the map has doubled, not by a
// 'close' listener per socket: tcp-echo's pipe already puts ten on each, and
// an eleventh trips Node's MaxListenersExceededWarning. A WeakRef, so a
// closed socket is not kept alive until the sweep.
const origins = new Map<string, { origin: ConnectionOrigin; socket: WeakRef<Socket> }>();
let sweepAt = 1024;

function live(entry: { socket: WeakRef<Socket> } | undefined): boolean {
  const socket = entry?.socket.deref();
  return socket !== undefined && !socket.destroyed;
}

function remember(key: string, socket: Socket, origin: ConnectionOrigin | null): void {
  if (origin === null) {
    // A plain connection reusing the 4-tuple of a closed one must not inherit its header.
    origins.delete(key);
    return;
  }
  origins.set(key, { origin, socket: new WeakRef(socket) });
  if (origins.size >= sweepAt) {
    for (const [k, entry] of origins) if (!live(entry)) origins.delete(k);
    sweepAt = Math.max(1024, origins.size * 2);
  }
}

/** Entries held now (closed connections included until the next sweep): for tests. */
export function originsHeld(): number {
  return origins.size;
}

/** What connectionOrigin reads of a socket: a net.Socket, a TLSSocket, an HTTP request's socket. */
export interface SocketAddresses {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
}

function tupleKey(socket: SocketAddresses): string {
  return `${socket.localAddress}|${socket.localPort}|${socket.remoteAddress}|${socket.remotePort}`;
}

/**
 * What a server should report for `socket` (a raw socket or the TLSSocket on
 * top of it): the TCP peer and the client, with the PROXY header if any.
 */
export function connectionOrigin(socket: SocketAddresses): ConnectionOrigin {
  const found = origins.get(tupleKey(socket));
  if (found !== undefined && live(found)) return found.origin;
  const peer = {
    address: peerAddress(socket.remoteAddress) ?? null,
    port: socket.remotePort ?? null,
  };
  return { peer, client: peer, proxy: null };
}

export interface GateDeps {
  logger: Logger;
  registry: Registry;
}

function counter(registry: Registry, name: string, help: string, label: string): Counter<string> {
  return (
    (registry.getSingleMetric(name) as Counter<string> | undefined) ??
    new Counter({ name, help, labelNames: [label], registers: [registry] })
  );
}

/**
 * Puts PROXY protocol handling in front of `server` (net, http, https, tls):
 * its 'connection' listeners are taken off and called only once the header
 * is read, with the bytes after it pushed back (socket.unshift) so the HTTP
 * parser or the TLS handshake sees the connection as if it started there.
 * Call it after every other 'connection' listener is added. With
 * PROXY_PROTOCOL=off it does nothing.
 */
export function acceptProxyProtocol(
  server: Server,
  config: ProxyProtocolConfig,
  deps: GateDeps,
): void {
  const mode = config.PROXY_PROTOCOL;
  if (mode === 'off') return;
  const { logger } = deps;
  const headers = counter(
    deps.registry,
    'netlab_proxy_protocol_connections_total',
    'Connections past the PROXY protocol gate, by header version (1, 2, or none for a plain connection)',
    'version',
  );
  const refused = counter(
    deps.registry,
    'netlab_proxy_protocol_refused_total',
    'Connections closed by the PROXY protocol gate, by reason (malformed, too_long, crc, truncated, timeout, missing, untrusted)',
    'reason',
  );

  const downstream = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');

  server.on('connection', (socket: Socket) => {
    const peer = {
      address: peerAddress(socket.remoteAddress) ?? null,
      port: socket.remotePort ?? null,
    };
    const trusted = peer.address !== null && config.PROXY_PROTOCOL_TRUSTED.has(peer.address);
    const parser = new ProxyHeaderParser();
    // An untrusted peer's first bytes, held only until the signature can be told apart (12 bytes).
    let held = Buffer.alloc(0);
    let timer: NodeJS.Timeout | undefined;

    const finish = () => {
      clearTimeout(timer);
      socket.removeListener('readable', onReadable);
      socket.removeListener('end', onEnd);
      socket.removeListener('error', onError);
    };
    const refuse = (err: ProxyProtocolError) => {
      finish();
      refused.inc({ reason: err.reason });
      logger.warn(
        {
          remoteAddress: peer.address,
          remotePort: peer.port,
          reason: err.reason,
          code: err.code,
          detail: err.message,
        },
        'PROXY protocol: connection refused',
      );
      socket.destroy();
    };
    const pass = (header: ProxyHeader | null, rest: Buffer) => {
      finish();
      // The server began closing while we waited: serve no new connection.
      if (!server.listening) {
        socket.destroy();
        return;
      }
      headers.inc({ version: header === null ? 'none' : String(header.version) });
      const client = header?.source ?? peer;
      remember(
        tupleKey(socket),
        socket,
        header === null
          ? null
          : { peer, client: { address: client.address, port: client.port }, proxy: header },
      );
      // Pushed back into the socket's buffer: the HTTP parser reads it as
      // its first data, and a TLS server's handshake takes it before it reads
      // the handle (Node's TLSSocket feeds a wrapped socket's buffered bytes).
      if (rest.length > 0) socket.unshift(rest);
      for (const listener of downstream) listener.call(server, socket);
    };

    /** One chunk: true when the gate is done with this socket. */
    const step = (chunk: Buffer): boolean => {
      if (!trusted) {
        // Optional mode, untrusted peer: only look for a signature, never parse one.
        held = Buffer.concat([held, chunk]);
        const kind = detect(held);
        if (kind === 'maybe') return false;
        if (kind === 'plain') pass(null, held);
        else
          refuse(
            new ProxyProtocolError(
              'NETLAB_ERR_PROXY_UNTRUSTED',
              `PROXY header from ${peer.address}, not in PROXY_PROTOCOL_TRUSTED`,
            ),
          );
        return true;
      }
      let result: ReturnType<ProxyHeaderParser['push']>;
      try {
        result = parser.push(chunk);
      } catch (err) {
        refuse(err as ProxyProtocolError);
        return true;
      }
      if (result.state === 'more') return false;
      if (result.state === 'done') pass(result.header, result.rest);
      else if (mode === 'optional') pass(null, result.rest);
      else
        refuse(
          new ProxyProtocolError(
            'NETLAB_ERR_PROXY_MISSING',
            'connection did not start with a PROXY header',
          ),
        );
      return true;
    };
    function onReadable() {
      for (
        let chunk = socket.read() as Buffer | null;
        chunk !== null;
        chunk = socket.read() as Buffer | null
      ) {
        if (step(chunk)) return;
      }
    }
    function onEnd() {
      if (socket.bytesRead === 0) {
        // Opened and closed without a byte (a balancer's TCP health check): nothing to report.
        logger.debug(
          { remoteAddress: peer.address },
          'PROXY protocol: closed before its first byte',
        );
        finish();
        socket.destroy();
        return;
      }
      refuse(
        new ProxyProtocolError(
          'NETLAB_ERR_PROXY_TRUNCATED',
          'connection closed before the PROXY header was complete',
        ),
      );
    }
    function onError(err: NodeJS.ErrnoException) {
      finish();
      logger.debug(
        { remoteAddress: peer.address, errno: err.code },
        'PROXY protocol: socket error before the header',
      );
    }

    // Reset before we saw it: the kernel has forgotten the peer (HAProxy's
    // health checks close with an RST at once). Nothing to serve or report.
    if (peer.address === null) {
      logger.debug('PROXY protocol: connection reset before it was accepted');
      socket.destroy();
      return;
    }
    // Required, from a peer that may not send a header: nothing it sends can be served.
    if (!trusted && mode === 'required') {
      refuse(
        new ProxyProtocolError(
          'NETLAB_ERR_PROXY_UNTRUSTED',
          `peer ${peer.address} is not in PROXY_PROTOCOL_TRUSTED`,
        ),
      );
      return;
    }
    timer = setTimeout(() => {
      refuse(
        new ProxyProtocolError(
          'NETLAB_ERR_PROXY_TIMEOUT',
          `no complete PROXY header within ${config.PROXY_PROTOCOL_TIMEOUT_MS} ms`,
        ),
      );
    }, config.PROXY_PROTOCOL_TIMEOUT_MS);
    timer.unref();
    socket.on('readable', onReadable);
    socket.on('end', onEnd);
    socket.on('error', onError);
  });
}

/** The peer and client of an access line (http-handlers' AccessOrigin). */
export function accessOrigin(socket: SocketAddresses): {
  peer: string | null;
  client: string | null;
  clientPort: number | null;
} {
  const { peer, client } = connectionOrigin(socket);
  return { peer: peer.address, client: client.address, clientPort: client.port };
}
