import { execFile } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';

/** Where and how to speak HTTP/1.1 to one server. */
export interface Endpoint {
  port: number;
  tls: boolean;
}

/**
 * A connection that speaks HTTP/1.1: TCP, or TLS over a TCP socket of our
 * own (`tcp`), so a test can reset it (`resetAndDestroy()` takes a TCP
 * socket only).
 */
export async function open(
  endpoint: Endpoint,
  alpn = 'http/1.1',
): Promise<{ socket: net.Socket; tcp: net.Socket }> {
  const tcp = net.connect(endpoint.port, '127.0.0.1');
  tcp.on('error', () => {});
  await once(tcp, 'connect');
  if (!endpoint.tls) return { socket: tcp, tcp };
  const socket = tls.connect({ socket: tcp, rejectUnauthorized: false, ALPNProtocols: [alpn] });
  socket.on('error', () => {});
  await once(socket, 'secureConnect');
  return { socket, tcp };
}

/** Resolves when `socket` closes, with how: 'eof' (a clean close by the server), an error code, or 'close'. */
export function closed(socket: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let how = 'close';
    socket.on('end', () => {
      how = 'eof';
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      how = err.code ?? 'error';
    });
    if (socket.closed) resolve(how);
    else socket.on('close', () => resolve(how));
  });
}

export interface H2loadResult {
  /** Requests h2load made. */
  sent: number;
  /** Answers with a 2xx status. */
  ok: number;
  output: string;
}

/**
 * Runs h2load (nghttp2-client): `--h1` for HTTP/1.1 (pipelined `-m`
 * deep), HTTP/2 otherwise (`-m` streams at once).
 */
export function h2load(url: string, opts: { n: number; c: number; m: number; h1: boolean }) {
  const args = ['-n', String(opts.n), '-c', String(opts.c), '-m', String(opts.m)];
  if (opts.h1) args.unshift('--h1');
  return new Promise<H2loadResult>((resolve) => {
    execFile('h2load', [...args, url], { timeout: 60_000 }, (_err, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      const ok = /status codes: (\d+) 2xx/.exec(output);
      resolve({ sent: opts.n, ok: ok ? Number(ok[1]) : -1, output });
    });
  });
}
