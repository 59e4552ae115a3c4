import type http from 'node:http';
import { errorBody, type HttpErrorCode } from '@netlab/http-handlers';

// A Host header is a name or an IP literal and an optional port; anything
// else is refused rather than copied into a Location header.
const HOST = /^(?<host>[a-z0-9](?:[a-z0-9.-]{0,253}[a-z0-9])?|\[[0-9a-f:.]{2,45}\])(?::\d{1,5})?$/i;

/**
 * The plain-HTTP listener's request handler (HTTP_REDIRECT_PORT): every
 * request gets 308 Permanent Redirect to the same host, path and query on
 * the HTTPS port. 308, not 301: a client must repeat the same method and
 * body (RFC 9110 §15.4.9), so a POST stays a POST. No Strict-Transport-Security
 * here: browsers ignore it over plain HTTP (RFC 6797 §8.1), and it comes with
 * the HTTPS answer.
 */
export function redirectHandler(
  httpsPort: () => number,
  onRedirect: () => void,
): http.RequestListener {
  return (req, res) => {
    const host = HOST.exec(req.headers.host ?? '')?.groups?.host;
    if (host === undefined) {
      refuse(res, 'NETLAB_ERR_BAD_REQUEST');
      return;
    }
    const port = httpsPort();
    const target = req.url?.startsWith('/') ? req.url : '/';
    const location = `https://${host}${port === 443 ? '' : `:${port}`}${target}`;
    const body = `Redirecting to ${location}\n`;
    onRedirect();
    res.writeHead(308, {
      location,
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    // To HEAD, Node sends the headers and drops the body itself.
    res.end(body);
  };
}

function refuse(res: http.ServerResponse, code: HttpErrorCode): void {
  const body = errorBody(code, 'expected a Host header to redirect to');
  res.writeHead(400, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  res.end(body);
}
