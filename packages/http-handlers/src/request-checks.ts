import type { HttpErrorCode } from './errors.js';
import type { HttpRequest } from './respond.js';

/**
 * The request-level half of HTTP/1 hardening (installHttpGuards is the
 * server-level half): what Node's parser lets through but nginx and Go
 * refuse. A request listener calls it first and answers the code it returns
 * (with `Connection: close`: what follows such a request on the connection
 * cannot be trusted), or serves the request when it returns undefined.
 *
 * - more header lines than `maxHeadersCount`: 431 (installHttpGuards sets
 *   Node's own limit one higher, so the surplus is seen, not dropped);
 * - a version other than 1.x on an HTTP/1 connection (`HTTP/2.0`, `HTTP/0.9`): 505;
 * - no Host on HTTP/1.1, or two Hosts: 400 (RFC 9112 §3.2);
 * - a Transfer-Encoding other than a single `chunked`: 501 (RFC 9112 §6.1).
 */
export function requestProblem(
  req: HttpRequest,
  maxHeadersCount: number,
): HttpErrorCode | undefined {
  let hosts = 0;
  let codings: string | undefined;
  let codingLines = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4) {
      if (name === 'Host' || name.toLowerCase() === 'host') hosts++;
    } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      codings = raw[i + 1];
      codingLines++;
    }
  }
  return headProblem(req, maxHeadersCount, hosts, codings, codingLines);
}

/**
 * requestProblem's decision, from the Host and Transfer-Encoding lines a
 * handler already counted in its own pass over `rawHeaders` (createHttpHandler
 * does, so its hot path reads the headers once).
 */
export function headProblem(
  req: HttpRequest,
  maxHeadersCount: number,
  hosts: number,
  codings: string | undefined,
  codingLines: number,
): HttpErrorCode | undefined {
  if (req.rawHeaders.length > maxHeadersCount * 2) return 'NETLAB_ERR_TOO_MANY_HEADERS';
  if (req.httpVersionMajor !== 1) return versionProblem(req);
  if (hosts === 1 && codingLines === 0) return undefined;
  return framingProblem(req, hosts, codings, codingLines);
}

/**
 * Whether the request says a body follows (a Content-Length other than 0,
 * or any Transfer-Encoding). A listener that will not read it answers with
 * `Connection: close`: Node would otherwise read and discard it to reuse the
 * connection, however big it is, and the guards' lingering close bounds
 * what is still read after the answer.
 */
export function declaresBody(req: HttpRequest): boolean {
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 14 && name.toLowerCase() === 'content-length') {
      if (raw[i + 1] !== '0') return true;
    } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      return true;
    }
  }
  return false;
}

/**
 * An HTTP/1 parser also takes `HTTP/0.9` and `HTTP/2.0` request lines; Go
 * answers both 505, and so do we. HTTP/2 proper (https-secure) arrives as
 * an Http2ServerRequest, which has a stream.
 */
function versionProblem(req: HttpRequest): HttpErrorCode | undefined {
  return 'stream' in req ? undefined : 'NETLAB_ERR_HTTP_VERSION';
}

/**
 * RFC 9112 §3.2: exactly one Host (none is allowed in HTTP/1.0). §6.1: the
 * only transfer coding we decode is `chunked`, alone and on one line; Node's
 * parser takes `identity, chunked` as chunked, where nginx and Go answer 501.
 */
function framingProblem(
  req: HttpRequest,
  hosts: number,
  codings: string | undefined,
  codingLines: number,
): HttpErrorCode | undefined {
  if (hosts > 1) return 'NETLAB_ERR_DUPLICATE_HOST';
  if (hosts === 0 && req.httpVersionMinor !== 0) return 'NETLAB_ERR_MISSING_HOST';
  if (codingLines > 1 || (codingLines === 1 && codings!.toLowerCase() !== 'chunked')) {
    return 'NETLAB_ERR_UNSUPPORTED_TRANSFER_ENCODING';
  }
  return undefined;
}
