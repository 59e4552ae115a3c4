import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { hostname as osHostname } from 'node:os';
import type { TLSSocket } from 'node:tls';
import {
  ConnectionSet,
  drain,
  type Logger,
  limitConnections,
  listen,
  peerAddress,
  type Registry,
  type Service,
} from '@netlab/common';
import {
  closeIdleHttp,
  createHttpHandler,
  errorBody,
  type HttpHandler,
  type HttpRequest,
  type HttpResponse,
  installHttpGuards,
  installWebSocketEcho,
} from '@netlab/http-handlers';
import { acceptProxyProtocol, accessOrigin, connectionOrigin } from '@netlab/proxy-protocol';
import {
  type CertificateReloader,
  certificateLogFields,
  clientAuthOptions,
  clientVerdict,
  describeTlsSession,
  handshakeFailure,
  type PreparedTls,
  secureContextOptions,
  watchCertificates,
} from '@netlab/tls';
import type { HttpsConfig } from './config.js';
import { HTTPS_ERRORS } from './errors.js';
import { limitHttp2 } from './h2-limits.js';
import { interpose } from './interpose.js';
import { createHttpsMetrics, type HttpsMetrics } from './metrics.js';
import { refusePlaintext } from './plaintext.js';
import { redirectHandler } from './redirect.js';

export interface HttpsServer extends Service {
  readonly handler: HttpHandler;
  /** TLS connections open now. */
  readonly connections: number;
  /** Where the plain-HTTP redirect listens (HTTP_REDIRECT_PORT), or null when it is off. */
  redirectAddress(): AddressInfo | null;
  /** Reads the certificate files again (SIGHUP); a bad pair is logged and the current one kept. */
  reloadCertificate: CertificateReloader['reload'];
}

export interface HttpsDeps {
  logger: Logger;
  registry: Registry;
  /** The certificate, key and client CA, loaded and checked by prepareTls. */
  tls: PreparedTls;
  /** Reported by /whoami, so behind a load balancer you see which replica answered. */
  version: string;
  pid: number;
  hostname?: string;
  /** Set in cluster workers, which share the primary's stdout. */
  sharedLogOutput?: boolean;
}

// See apps/http-hello/src/server.ts: keep-alive connections that go idle
// during a drain are closed this often instead of sitting out their timeout.
const DRAIN_SWEEP_MS = 100;

/**
 * The http-hello endpoints over TLS: HTTP/2 and HTTP/1.1 on one port, picked
 * by ALPN (`allowHTTP1`), TLS 1.2/1.3 with Mozilla's intermediate ciphers,
 * optional client certificates, certificate hot reload, HSTS on every
 * response and an optional plain-HTTP listener that redirects to https.
 * /whoami adds the TLS session: version, cipher, ALPN, SNI, resumption and
 * the client certificate.
 */
export function createHttpsServer(config: HttpsConfig, deps: HttpsDeps): HttpsServer {
  const { logger, tls } = deps;
  const handler = createHttpHandler({
    helloMessage: config.HELLO_MESSAGE,
    maxBodyBytes: config.MAX_BODY_BYTES,
    maxDelayMs: config.MAX_DELAY_MS,
    answerControl: config.ANSWER_CONTROL,
    maxAnswerBytes: config.MAX_ANSWER_BYTES,
    maxAnswerHeaders: config.MAX_ANSWER_HEADERS,
    maxStreamMs: config.MAX_STREAM_MS,
    version: deps.version,
    pid: deps.pid,
    hostname: deps.hostname ?? osHostname(),
    logger,
    sharedLogOutput: deps.sharedLogOutput ?? false,
    // Over HTTP/2 req.socket is a proxy that forwards these reads to the TLS socket.
    // peer, client and proxy: the TCP peer and the client from a PROXY header
    // (PROXY_PROTOCOL), found by the connection's addresses (gate.ts).
    whoamiExtra: (req) => ({
      ...connectionOrigin(req.socket),
      tls: describeTlsSession(req.socket as TLSSocket),
    }),
    ...(config.PROXY_PROTOCOL === 'off'
      ? {}
      : {
          accessOrigin: (req) => accessOrigin(req.socket),
        }),
    maxHeadersCount: config.MAX_HEADERS_COUNT,
    // On every response over either HTTP version, refusals included.
    responseHeaders: { 'strict-transport-security': `max-age=${config.HSTS_MAX_AGE_S}` },
  });
  const connections = new ConnectionSet();
  const handshaken = new WeakSet<Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  let reloader: CertificateReloader | undefined;
  // Set once the server exists (h2.openStreams feeds a gauge).
  let h2: ReturnType<typeof limitHttp2> | undefined;
  const metrics = createHttpsMetrics(
    deps.registry,
    handler.stats,
    () => connections.size,
    () => Date.parse((reloader?.current ?? tls.credentials).info.validTo) / 1000,
    () => h2?.openStreams ?? 0,
  );

  // The handler behind HTTP/2's limits (h2-limits.ts): the server and the
  // guards get this one, so a request with `Expect` passes the same gate.
  const gated =
    (serve: (req: HttpRequest, res: HttpResponse) => void) =>
    (req: HttpRequest, res: HttpResponse) =>
      h2!.gate(req, res, () => serve(req, res));
  const front: HttpHandler = Object.assign(gated(handler), handler, {
    checkContinue: gated(handler.checkContinue),
    checkExpectation: gated(handler.checkExpectation),
  });

  const server = http2.createSecureServer(
    {
      ...secureContextOptions(tls.credentials, tls.clientAuth, tls.sessionTickets),
      // The client certificate is judged in our 'secureConnection' gate
      // below (clientVerdict), not by Node: see @netlab/tls handshake.ts.
      ...clientAuthOptions(tls.clientAuth),
      rejectUnauthorized: false,
      allowHTTP1: true,
      handshakeTimeout: config.TLS_HANDSHAKE_TIMEOUT_MS,
      // Response headers go out without HPACK's dynamic table (static-table
      // names, literal values), as nginx sends them. Every response carries
      // a unique X-Request-Id; indexed, each one evicts older entries and the
      // table churns on every response, which measured about a quarter of
      // HTTP/2 throughput (h2load -c64 -m1: 12k req/s indexed, 15.5k
      // without, bare http2 with one header 15k). The cost: the few header
      // bytes a repeated value would have saved.
      maxDeflateDynamicTableSize: 0,
      settings: {
        maxConcurrentStreams: config.H2_MAX_CONCURRENT_STREAMS,
        maxHeaderListSize: config.MAX_HEADER_SIZE,
      },
    },
    front as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
  );

  // Before TLS: plain HTTP or h2c sent to this port gets a plaintext 400.
  refusePlaintext(server, {
    timeoutMs: config.TLS_HANDSHAKE_TIMEOUT_MS,
    onPlaintext(socket, firstBytes) {
      metrics.plaintext.inc();
      logger.info(
        {
          remoteAddress: peerAddress(socket.remoteAddress),
          remotePort: socket.remotePort,
          start: JSON.stringify(firstBytes.toString('latin1').slice(0, 16)),
          code: HTTPS_ERRORS.NETLAB_ERR_HTTPS_EXPECTED,
        },
        'plain HTTP sent to the TLS port: answered 400',
      );
    },
    onSilent(socket, code, peer) {
      onHandshakeError({ code } as NodeJS.ErrnoException, socket, peer);
    },
  });
  // After TLS, before HTTP: a client certificate refused under
  // TLS_CLIENT_AUTH=required is logged with its peer and reason, and closed.
  interpose(server, 'secureConnection', (pass, socket: TLSSocket) => {
    const verdict = clientVerdict(socket, tls.clientAuth);
    if (!verdict.accept) {
      const code = verdict.authorizationError!;
      const reason = verdict.certificate === undefined ? 'no_certificate' : 'bad_certificate';
      metrics.handshakeErrors.inc({ code, reason });
      logger.info(
        {
          code,
          reason,
          remoteAddress: peerAddress(socket.remoteAddress),
          remotePort: socket.remotePort,
          ...(verdict.certificate
            ? { subject: verdict.certificate.subject.split('\n').join(', ') }
            : {}),
        },
        'TLS handshake failed: client certificate refused',
      );
      socket.destroy();
      return;
    }
    handshaken.add(socket);
    connections.add(socket);
    metrics.connections.inc();
    metrics.handshakes.inc({ resumed: String(socket.isSessionReused()) });
    pass();
  });
  h2 = limitHttp2(server, {
    maxStreamResets: config.H2_MAX_STREAM_RESETS,
    maxOpenStreams: config.H2_MAX_OPEN_STREAMS,
    maxHeaderSize: config.MAX_HEADER_SIZE,
    pingTimeoutMs: config.H2_PING_TIMEOUT_MS,
    logger,
    onReset: () => metrics.h2Resets.inc(),
    onSessionClosed: (reason) => metrics.h2SessionsClosed.inc({ reason }),
    onRefused: () => metrics.h2Refused.inc(),
    refuseHeaders(req, res) {
      const code = 'NETLAB_ERR_HEADERS_TOO_LARGE';
      handler.logRefusal({ code, method: req.method, path: req.url }, true);
      const body = errorBody(code);
      res.writeHead(431, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        'strict-transport-security': `max-age=${config.HSTS_MAX_AGE_S}`,
      });
      res.end(body);
    },
  });

  // ---- HTTP/1.1 server wiring -------------------------------------------
  // The same limits as apps/http-hello/src/server.ts, on the HTTP/1.1 side of
  // this HTTP/2 server (allowHTTP1 runs node:http's connection handling on
  // it, which reads these properties).
  const http1 = server as unknown as Http1Side;
  // Node refuses headersTimeout > requestTimeout; a header deadline past the
  // whole-request deadline would never fire anyway.
  http1.headersTimeout =
    config.REQUEST_TIMEOUT_MS > 0
      ? Math.min(config.HEADERS_TIMEOUT_MS, config.REQUEST_TIMEOUT_MS)
      : config.HEADERS_TIMEOUT_MS;
  http1.requestTimeout = config.REQUEST_TIMEOUT_MS;
  http1.keepAliveTimeout = config.KEEP_ALIVE_TIMEOUT_MS;
  http1.maxHeaderSize = config.MAX_HEADER_SIZE;
  // Node checks the two timeouts above only this often (30 s by default here).
  // It is read when the server starts listening, so set it now.
  http1.connectionsCheckingInterval = Math.max(
    100,
    Math.min(1000, Math.floor(http1.headersTimeout / 4)),
  );
  // Parser refusals, Expect, CONNECT, lingering close and the drain's
  // keep-alive handling: the same guards as http-hello (@netlab/http-handlers).
  const guards = installHttpGuards(server, front, {
    onClientError: (code) => metrics.clientErrors.inc({ code }),
    lingerMs: config.LINGER_TIMEOUT_MS,
    lingerBytes: config.LINGER_MAX_BYTES,
  });
  // WebSocket echo at /ws over HTTP/1.1 (an HTTP/2 client gets the 404 of
  // an unknown path: RFC 8441's extended CONNECT is not offered).
  const websockets = installWebSocketEcho(server, front as never, {
    logger,
    registry: deps.registry,
    maxMessageBytes: config.WS_MAX_MESSAGE_BYTES,
    maxFragments: config.WS_MAX_FRAGMENTS,
    maxConnections: config.WS_MAX_CONNECTIONS,
    idleTimeoutMs: config.WS_IDLE_TIMEOUT_MS,
    maxDelayMs: config.MAX_DELAY_MS,
    answerControl: config.ANSWER_CONTROL,
    responseHeaders: { 'strict-transport-security': `max-age=${config.HSTS_MAX_AGE_S}` },
  });
  // Http2SecureServer reports failed TLS handshakes as 'clientError' too
  // ('tlsClientError' re-emitted): no HTTP has been spoken, so there is
  // nobody to answer. (The guards answer only sockets past their handshake.)
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!handshaken.has(socket)) onHandshakeError(err, socket);
  });
  // ---- end of HTTP/1.1 server wiring -----------------------------------

  function onHandshakeError(
    err: NodeJS.ErrnoException,
    socket: Socket,
    peer: { remoteAddress?: string; remotePort?: number } = socket,
  ) {
    const code = err.code ?? 'ERR_TLS_HANDSHAKE';
    const reason = handshakeFailure(code);
    metrics.handshakeErrors.inc({ code, reason });
    // A TCP health check (a load balancer's, Kubernetes' tcpSocket probe)
    // connects and hangs up before any TLS: counted, but not worth a line at
    // info every few seconds. A refusal (old protocol, no shared cipher, a
    // bad client certificate) is.
    logger[reason === 'reset' ? 'debug' : 'info'](
      {
        code,
        reason,
        remoteAddress: peerAddress(peer.remoteAddress),
        remotePort: peer.remotePort,
      },
      'TLS handshake failed',
    );
    socket.destroy();
  }
  server.on('session', (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  limitConnections(server, {
    limit: config.MAX_CONNECTIONS,
    logger,
    onDrop: () => metrics.dropped.inc(),
  });
  // Covers HTTP/2 too, whose sessions node:http's keep-alive timeout never sees.
  const idle = closeIdleHttp(connections, config.IDLE_TIMEOUT_MS, { logger, metrics, handler });

  // Last: a PROXY header (PROXY_PROTOCOL) comes before the ClientHello, so
  // the gate holds back every 'connection' listener above (the plaintext
  // check, then TLS itself) until it is read.
  acceptProxyProtocol(server, config, { logger, registry: deps.registry });

  const redirect =
    config.HTTP_REDIRECT_PORT === undefined ? undefined : createRedirect(config, logger, metrics);

  return {
    handler,
    get connections() {
      return connections.size;
    },
    address: () => server.address() as AddressInfo | null,
    redirectAddress: () => (redirect?.server.address() as AddressInfo | null) ?? null,
    reloadCertificate: (reason) => reloader?.reload(reason) ?? Promise.resolve('no-files'),
    async listen() {
      logCertificate(logger, tls);
      await listen(server, config.PORT, config.HOST);
      redirect?.setHttpsPort((server.address() as AddressInfo).port);
      if (redirect) await listen(redirect.server, config.HTTP_REDIRECT_PORT!, config.HOST);
      reloader = watchCertificates(server, tls, {
        logger,
        watchIntervalMs: config.TLS_WATCH_INTERVAL_MS,
        onResult: (result) => metrics.reloads.inc({ result }),
      });
    },
    async close({ timeoutMs }) {
      reloader?.stop();
      // HTTP/1.1: Connection: close on every answer from now on, keep-alive
      // connections closed (lingering) once quiet.
      guards.drain();
      websockets.drain();
      const drained = Promise.all([
        drain(server, connections, {
          timeoutMs,
          logger,
          onExpire: (socket) => handler.noteCut(socket, 'NETLAB_ERR_SHUTTING_DOWN', 'shutdown'),
        }),
        redirect && drain(redirect.server, redirect.connections, { timeoutMs, logger }),
      ]);
      // HTTP/2: GOAWAY; streams in flight finish, the client opens no new ones.
      for (const session of sessions) session.close();
      redirect?.server.closeIdleConnections();
      const sweep = setInterval(() => redirect?.server.closeIdleConnections(), DRAIN_SWEEP_MS);
      try {
        await drained;
      } finally {
        clearInterval(sweep);
        guards.stop();
        h2.stop();
        idle?.stop();
        handler.flushLog();
      }
    },
  };
}

/** The node:http server properties allowHTTP1 reads; Http2SecureServer's types leave them out. */
type Http1Side = http.Server & { maxHeaderSize: number; connectionsCheckingInterval: number };

function logCertificate(logger: Logger, tls: PreparedTls): void {
  const { source } = tls;
  const fields = { source: source.kind, ...certificateLogFields(tls.credentials) };
  if (source.kind === 'files') {
    logger.info(
      { ...fields, certFile: source.certFile },
      'serving the certificate from TLS_CERT_FILE',
    );
  } else if (source.kind === 'cert-dir') {
    logger.info(
      {
        ...fields,
        certFile: source.certFile,
        ...(source.created ? { created: source.created } : {}),
      },
      source.created
        ? 'serving a new self-signed certificate, stored in TLS_CERT_DIR'
        : 'serving the self-signed certificate stored in TLS_CERT_DIR',
    );
  } else {
    logger.info(
      fields,
      'serving a self-signed certificate generated at start (TLS_CERT_DIR keeps one)',
    );
  }
  if (tls.clientAuth) {
    logger.info(
      { clientAuth: tls.clientAuth.required ? 'required' : 'optional' },
      'client certificates requested (mTLS)',
    );
  }
}

function createRedirect(config: HttpsConfig, logger: Logger, metrics: HttpsMetrics) {
  let httpsPort = config.PORT;
  const server = http.createServer(
    {
      headersTimeout: Math.min(config.HEADERS_TIMEOUT_MS, 10_000),
      requestTimeout: 30_000,
      keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
      maxHeaderSize: config.MAX_HEADER_SIZE,
    },
    redirectHandler(
      () => httpsPort,
      () => metrics.redirects.inc(),
    ),
  );
  const connections = new ConnectionSet();
  server.on('connection', (socket: Socket) => connections.add(socket));
  limitConnections(server, {
    limit: config.MAX_CONNECTIONS,
    logger,
    onDrop: () => metrics.dropped.inc(),
  });
  return {
    server,
    connections,
    setHttpsPort(port: number) {
      httpsPort = port;
    },
  };
}
