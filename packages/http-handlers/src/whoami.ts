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
  const q = url.indexOf('?');
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
    path: q === -1 ? url : url.slice(0, q),
    query: parseQuery(q === -1 ? '' : url.slice(q + 1)),
    httpVersion: req.httpVersion,
    headers,
    rawHeaders,
    remote: { ...unmapped(socket.remoteAddress, socket.remoteFamily), port: socket.remotePort },
    local: { address: unmapped(socket.localAddress).address, port: socket.localPort },
    ...extra,
  };
}

const MAPPED_IPV4 = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

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
  const v4 = address === undefined ? null : MAPPED_IPV4.exec(address);
  if (v4) return { address: v4[1], family: 'IPv4' };
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
