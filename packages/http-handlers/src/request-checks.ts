import { isIPv6 } from 'node:net';
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
 * - no Host on HTTP/1.1, two Hosts, or one that is not a host[:port]: 400 (RFC 9112 §3.2);
 * - a Transfer-Encoding other than a single `chunked`: 501 (RFC 9112 §6.1).
 */
export function requestProblem(
  req: HttpRequest,
  maxHeadersCount: number,
): HttpErrorCode | undefined {
  let hosts = 0;
  let host: string | undefined;
  let codings: string | undefined;
  let codingLines = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4) {
      if (name === 'Host' || name.toLowerCase() === 'host') {
        hosts++;
        host = raw[i + 1];
      }
    } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      codings = raw[i + 1];
      codingLines++;
    }
  }
  return headProblem(req, maxHeadersCount, hosts, codings, codingLines, host);
}

/**
 * requestProblem's decision, from the Host and Transfer-Encoding lines a
 * handler already counted in its own pass over `rawHeaders` (createHttpHandler
 * does, so its hot path reads the headers once); `host`: the value of the
 * (last) Host line.
 */
export function headProblem(
  req: HttpRequest,
  maxHeadersCount: number,
  hosts: number,
  codings: string | undefined,
  codingLines: number,
  host?: string,
): HttpErrorCode | undefined {
  if (req.rawHeaders.length > maxHeadersCount * 2) return 'NETLAB_ERR_TOO_MANY_HEADERS';
  if (req.httpVersionMajor !== 1) return versionProblem(req);
  if (hosts === 1 && host !== undefined && !isHostPort(host)) return 'NETLAB_ERR_BAD_HOST';
  if (hosts === 1 && codingLines === 0) return undefined;
  return framingProblem(req, hosts, codings, codingLines);
}

// RFC 3986 §3.2.2 reg-name (which covers IPv4 and DNS names): unreserved,
// sub-delims and %XX; then an optional port (§3.2.3: digits).
const REG_NAME_PORT = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*(?::[0-9]*)?$/;
// What follows `[...]`: an optional port.
const PORT = /^(?::[0-9]*)?$/;
// IPvFuture (RFC 3986 §3.2.2): v, hex digits, a dot, then unreserved, sub-delims or ':'.
const IP_FUTURE = /^v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+$/;

/**
 * Whether a Host value is `host[:port]` as RFC 9112 §3.2 requires (RFC 3986
 * §3.2.2): a reg-name or IPv4 address, or an IPv6 (or IPvFuture) literal in
 * brackets; empty is allowed (a target without an authority). Node's parser
 * takes any field value (`a b`, `<x>`, `a/b`, `[::1`); Go and nginx answer
 * those 400, and a Host that reaches logs, redirects or a proxy's routing
 * should be one.
 */
export function isHostPort(value: string): boolean {
  // A client sends the same Host on every request: the last one found good
  // is not tested again (a string comparison instead of a regular expression).
  if (value === lastGoodHost) return true;
  if (!hostPortSyntax(value)) return false;
  lastGoodHost = value;
  return true;
}

let lastGoodHost = '';

function hostPortSyntax(value: string): boolean {
  if (value.charCodeAt(0) !== 91 /* [ */) return REG_NAME_PORT.test(value);
  const end = value.indexOf(']');
  if (end === -1) return false;
  const literal = value.slice(1, end);
  return (isIPv6(literal) || IP_FUTURE.test(literal)) && PORT.test(value.slice(end + 1));
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
