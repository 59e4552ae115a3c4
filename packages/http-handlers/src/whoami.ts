import { peerAddress } from '@netlab/common';
import type { HttpRequest } from './respond.js';

export interface Identity {
  hostname: string;
  pid: number;
  version: string;
}

/**
 * What /whoami reports. Headers come from `rawHeaders`, so names keep the
 * case and order they arrived in and repeated headers are all there; Node's
 * `req.headers` would join some and silently drop others (a second Host, a
 * second Content-Type). Proxy headers (X-Forwarded-For, Forwarded, X-Real-IP)
 * are shown like any other and never used to guess the client's address:
 * `remote` is the peer of the TCP connection, full stop.
 */
export function whoami(
  req: HttpRequest,
  requestId: string,
  identity: Identity,
  extra?: Record<string, unknown>,
): Record<string, unknown> {
  const url = req.url ?? '/';
  // An absolute-form target (`GET http://host/p?q`, as sent to a forward
  // proxy, RFC 9112 §3.2.2) still names a path; `url` keeps it as sent.
  const target = url.charCodeAt(0) === 47 /* / */ ? url : originForm(url);
  const q = target.indexOf('?');
  // No prototype: a header or query key named `__proto__` is data, not a setter.
  const headers: Record<string, string | string[]> = Object.create(null);
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const seen = headers[name];
    if (seen === undefined) headers[name] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else headers[name] = [seen, value];
  }
  // The header lines as they came, for the eye: original case, order, repeats.
  const rawHeaders: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) rawHeaders.push(`${raw[i]}: ${raw[i + 1]}`);
  const socket = req.socket;
  return {
    hostname: identity.hostname,
    pid: identity.pid,
    version: identity.version,
    requestId,
    method: req.method,
    url,
    path: q === -1 ? target : target.slice(0, q),
    query: parseQuery(q === -1 ? '' : target.slice(q + 1)),
    httpVersion: req.httpVersion,
    headers,
    rawHeaders,
    remote: { ...unmapped(socket.remoteAddress, socket.remoteFamily), port: socket.remotePort },
    local: { address: unmapped(socket.localAddress).address, port: socket.localPort },
    ...extra,
  };
}

/** `http://host/p?q` → `/p?q`; anything that is not an http(s) URL (`*`, `host:port`) as it came. */
export function originForm(target: string): string {
  if (!URL.canParse(target)) return target;
  const url = new URL(target);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return target;
  return url.pathname + url.search;
}

/**
 * A dual-stack listener (HOST unset binds `::`) sees IPv4 clients as
 * IPv4-mapped IPv6 addresses (`::ffff:127.0.0.1`, RFC 4291 §2.5.5.2). They
 * are IPv4 clients on the wire, and that is what a person checking a proxy
 * or NAT wants to read.
 */
export function unmapped(
  address: string | undefined,
  family?: string,
): { address: string | undefined; family?: string | undefined } {
  const shown = peerAddress(address);
  if (shown !== address) return { address: shown, family: 'IPv4' };
  return family === undefined ? { address } : { address, family };
}

/** `a=1&a=2&b` → `{ a: ['1', '2'], b: '' }`: repeated keys kept, like headers. */
function parseQuery(search: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = Object.create(null);
  if (search === '') return query;
  for (const [key, value] of new URLSearchParams(search)) {
    const seen = query[key];
    if (seen === undefined) query[key] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else query[key] = [seen, value];
  }
  return query;
}
