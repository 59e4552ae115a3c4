import type net from 'node:net';
import { connect } from './sockets.js';

// Bytes on the wire, as a hostile or broken client sends them, and what came
// back: for tests where a client library would fix the request first.

/** What the server sent on a connection so far, and how the connection ended. */
export interface Watched {
  /** Everything the server sent, as latin1. */
  readonly text: string;
  /** `open`, `eof` (a clean close) or the socket error's code (`ECONNRESET`, `EPIPE`). */
  readonly end: string;
  /** Resolves when the socket has closed (never rejects). */
  readonly closed: Promise<void>;
  readonly isClosed: boolean;
}

/** Starts recording what `socket` receives and how it ends (call before writing). */
export function watch(socket: net.Socket): Watched {
  let text = '';
  let end = 'open';
  socket.on('data', (d: Buffer) => {
    text += d.toString('latin1');
  });
  socket.on('end', () => {
    if (end === 'open') end = 'eof';
  });
  socket.on('error', (err: NodeJS.ErrnoException) => {
    end = err.code ?? 'error';
  });
  let isClosed = false;
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      isClosed = true;
      resolve();
    }),
  );
  return {
    get isClosed() {
      return isClosed;
    },
    get text() {
      return text;
    },
    get end() {
      return end;
    },
    closed,
  };
}

/**
 * Sends up to `maxBytes` of body in 64 KiB writes, waiting when the socket
 * is full, while `more()` holds and the connection is open.
 */
export async function pump(socket: net.Socket, seen: Watched, maxBytes: number, more = () => true) {
  const chunk = Buffer.alloc(64 * 1024, 'a');
  for (let sent = 0; sent < maxBytes && !seen.isClosed && more(); sent += chunk.length) {
    if (!socket.write(chunk)) {
      await Promise.race([new Promise((r) => socket.once('drain', r)), seen.closed]);
    }
  }
}

/** Sends `parts` (one write each) and collects the answer until the server closes, or `timeoutMs`. */
export async function wire(
  port: number,
  parts: Array<string | Buffer>,
  timeoutMs = 5000,
): Promise<{ text: string; end: string }> {
  const socket = await connect(port);
  const seen = watch(socket);
  for (const part of parts) socket.write(part);
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  await seen.closed;
  clearTimeout(timer);
  return { text: seen.text, end: seen.end };
}

/** The JSON body of the (first) response in `text`. */
export function bodyOf(text: string): Record<string, unknown> {
  return JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
}
