import { isIP } from 'node:net';
import type { VarSpec } from '@netlab/common';

const HOST_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/;
const BRACKETED = /^\[([^\]]+)\](?::(\d{1,5}))?$/;

/**
 * One DNS server address as `resolver.setServers()` takes it: `1.1.1.1`,
 * `127.0.0.1:5353`, `::1`, `[::1]:53`. Returns the normalised form, or why it
 * is not one. Host names are refused: resolving the resolver would need a
 * resolver.
 */
export function parseServer(text: string): { value: string } | { error: string } {
  const s = text.trim();
  if (isIP(s) !== 0) return { value: isIP(s) === 6 ? `[${s}]:53` : `${s}:53` };
  const v4 = HOST_PORT.exec(s);
  if (v4 && isIP(v4[1]!) === 4) {
    const port = checkPort(v4[2]!);
    return port === undefined ? bad(text) : { value: `${v4[1]}:${port}` };
  }
  const v6 = BRACKETED.exec(s);
  if (v6 && isIP(v6[1]!) === 6) {
    const port = v6[2] === undefined ? 53 : checkPort(v6[2]);
    return port === undefined ? bad(text) : { value: `[${v6[1]}]:${port}` };
  }
  return bad(text);
}

function checkPort(text: string): number | undefined {
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

function bad(text: string) {
  return {
    error: `expected IP addresses with optional ports (1.1.1.1, 127.0.0.1:5353, [::1]:53), got "${text}"`,
  };
}

/** The DNS_SERVERS variable: a comma-separated list; unset means the system's resolvers. */
export function serverList(doc: string): VarSpec<readonly string[] | undefined> {
  return {
    kind: 'comma-separated IP[:port] list',
    default: undefined,
    doc,
    defaultText: '',
    parse(raw) {
      const parts = raw.split(',');
      if (parts.length > 16) return { error: `expected at most 16 servers, got ${parts.length}` };
      const servers: string[] = [];
      for (const part of parts) {
        const one = parseServer(part);
        if ('error' in one) return one;
        servers.push(one.value);
      }
      return { value: Object.freeze(servers) };
    },
  };
}
