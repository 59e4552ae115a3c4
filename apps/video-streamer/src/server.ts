import { realpathSync } from 'node:fs';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ConnectionSet, type Logger, listen, type Registry, type Service } from '@netlab/common';
import { serveHttp } from '@netlab/http-handlers';
import { acceptProxyProtocol, accessOrigin } from '@netlab/proxy-protocol';
import type { StreamerConfig } from './config.js';
import { createStreamerHandler, type StreamerHandler } from './handler.js';
import { MediaDir } from './media-dir.js';
import { createStreamerMetrics } from './metrics.js';

/** The sample media shipped with the app (src/ and dist/ both sit beside media/). */
export const SAMPLE_MEDIA_DIR = fileURLToPath(new URL('../media', import.meta.url));

export interface StreamerServer extends Service {
  readonly handler: StreamerHandler;
  /** The real path of the folder served. */
  readonly mediaDir: string;
  /** Connections open now. */
  readonly connections: number;
}

export interface StreamerDeps {
  logger: Logger;
  registry: Registry;
}

/**
 * The media server on node:http, every limit from config: header timeout
 * against slowloris, header size cap (431), keep-alive and idle timeouts
 * (the idle one also frees the file of a download whose client stopped
 * reading), a connection cap. Drains gracefully: downloads in flight get
 * SHUTDOWN_TIMEOUT_MS to finish, new responses carry `Connection: close`,
 * and idle keep-alive connections are closed.
 */
export function createStreamerServer(config: StreamerConfig, deps: StreamerDeps): StreamerServer {
  const { logger } = deps;
  // Resolved once: a file is served only when its real path is inside this one.
  const mediaDir = realpathSync(config.MEDIA_DIR ?? SAMPLE_MEDIA_DIR);
  const connections = new ConnectionSet();
  let handler: StreamerHandler | undefined;
  const metrics = createStreamerMetrics(deps.registry, {
    connections: () => connections.size,
    streams: () => handler?.streams ?? 0,
    bufferBytes: () => handler?.bufferBytes ?? 0,
    idleBufferBytes: () => handler?.idleBufferBytes ?? 0,
  });
  handler = createStreamerHandler({
    media: new MediaDir(mediaDir, {
      infoCacheEntries: config.INFO_CACHE_ENTRIES,
      onProbe: () => metrics.probes.inc(),
    }),
    cacheControl: config.CACHE_CONTROL,
    chunkBytes: config.STREAM_CHUNK_BYTES,
    readAheadBytes: config.READ_AHEAD_BYTES,
    maxListedFiles: config.MAX_LISTED_FILES,
    maxRanges: config.MAX_RANGES,
    maxHeadersCount: config.MAX_HEADERS_COUNT,
    logger,
    metrics,
    // Behind a PROXY protocol balancer: the peer and the client on each access line.
    ...(config.PROXY_PROTOCOL === 'off' ? {} : { accessOrigin: (req) => accessOrigin(req.socket) }),
  });

  const serving = serveHttp(
    handler,
    // Only GET and HEAD are served, so a whole request is its head; a body
    // someone sends anyway is not read (405 closes the connection).
    { ...config, REQUEST_TIMEOUT_MS: config.HEADERS_TIMEOUT_MS },
    { logger, metrics, connections, allow: 'GET, HEAD' },
  );
  // A client that sends its request and half-closes (`nc -N`, `socat`) still
  // gets its answer. Node's default aborts every request still in progress
  // when the client's FIN arrives, and a file is always answered after an
  // await (it is opened first), so such a client would get nothing at all.
  // (A public property since Node 0.x, missing from @types/node.)
  (serving.server as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  // Last: holds back every 'connection' listener serveHttp added until the
  // PROXY header is read (PROXY_PROTOCOL; off: nothing changes).
  acceptProxyProtocol(serving.server, config, { logger, registry: deps.registry });

  return {
    handler,
    mediaDir,
    get connections() {
      return connections.size;
    },
    address: () => serving.server.address() as AddressInfo | null,
    async listen() {
      await listen(serving.server, config.PORT, config.HOST);
    },
    close: ({ timeoutMs }) => serving.close(timeoutMs),
  };
}
