import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Logger } from '@netlab/common';
import type { HttpErrorCode } from './errors.js';
import { rawErrorResponse } from './respond.js';
import { watchForSimpleRequest } from './simple-request.js';

/** The code a refusal by Node's HTTP parser ('clientError') is answered with; undefined: nobody to answer. */
export function clientErrorCode(code: string | undefined): HttpErrorCode | undefined {
  switch (code) {
    // The client went away or reset: nobody to answer.
    case 'ECONNRESET':
    case 'EPIPE':
      return undefined;
    case 'HPE_HEADER_OVERFLOW':
      return 'NETLAB_ERR_HEADERS_TOO_LARGE';
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 'NETLAB_ERR_REQUEST_TIMEOUT';
    default:
      return 'NETLAB_ERR_BAD_REQUEST';
  }
}

/**
 * Answers what Node's HTTP parser refuses with our JSON error instead of
 * its bare 400, counts it (`onClientError`) and logs it: the plain form of
 * installHttpGuards, for servers whose handler is not createHttpHandler's
 * (dns-resolver-api, video-streamer). An HTTP/0.9 simple request
 * (`GET /\r\n`) gets its 400 at once too (see watchForSimpleRequest).
 */
export function answerClientErrors(
  server: EventEmitter,
  opts: { logger: Logger; onClientError: (code: HttpErrorCode) => void },
): void {
  const answered = new WeakSet<Socket>();
  const answer = (socket: Socket, code: HttpErrorCode, err: string | undefined) => {
    answered.add(socket);
    opts.onClientError(code);
    opts.logger.info(
      { code, err, remoteAddress: socket.remoteAddress, remotePort: socket.remotePort },
      'client error: connection closed',
    );
    // A response already under way cannot get a second status line.
    const current = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (current?.headersSent) {
      socket.destroy();
      return;
    }
    socket.end(rawErrorResponse(code), () => socket.destroy());
  };
  server.on('connection', (socket: Socket) =>
    watchForSimpleRequest(socket, () => {
      if (socket.writable && !answered.has(socket)) {
        answer(socket, 'NETLAB_ERR_NO_HTTP_VERSION', undefined);
      }
    }),
  );
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const code = clientErrorCode(err.code);
    if (code === undefined || !socket.writable || answered.has(socket)) {
      socket.destroy();
      return;
    }
    answer(socket, code, err.code);
  });
}
