import type { Socket } from 'node:net';
import { onFirstMessageBegin } from './node-internals.js';

/** The request line of an HTTP/0.9 simple request: a method and a target, no version. */
export interface SimpleRequestLine {
  method: string;
  path: string;
}

/**
 * Calls `onSimpleRequest` when a connection opens with an HTTP/0.9 "simple
 * request", a request line without a version (`GET /\r\n`).
 *
 * Node's parser takes such a line as a request still waiting for its header
 * block, so the client, which expects an answer right away, would wait until
 * the header deadline and then get a 408. Go answers 400 at once, nginx
 * serves it as HTTP/0.9; this lets the server answer 400 at once.
 *
 * The bytes go straight from the socket to Node's native parser, so
 * JavaScript never sees them. Reading them first in JavaScript (a 'data'
 * listener) would cost every request on the connection (measured: 13% of
 * `GET /` throughput). Instead this asks the parser, once per connection, for
 * the bytes it is parsing when the first message begins, and looks at the
 * first line (onFirstMessageBegin). Any later request line is left to the
 * header deadline, as is a simple request whose line does not arrive in the
 * connection's first read.
 */
export function watchForSimpleRequest(
  socket: Socket,
  onSimpleRequest: (line: SimpleRequestLine) => void,
): void {
  onFirstMessageBegin(socket, (bytes, parsedAnyRequest) => {
    const line = simpleRequestLine(bytes);
    if (line === undefined) return;
    // The parser is mid-read here. A line followed by headers in the same
    // read makes a request after all (which the handler answers 505), and a
    // bad byte a parse error ('clientError'): decide once it has finished.
    queueMicrotask(() => {
      if (!parsedAnyRequest() && !socket.destroyed) onSimpleRequest(line);
    });
  });
}

// A request line of HTTP/0.9: method SP target, then the line's end.
const SIMPLE_REQUEST = /^([!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}) (\S+)\r?\n/;
// What of the target goes into a log line (as the other refusals' lines).
const MAX_LOGGED_TARGET = 1024;

/**
 * The method and target when `bytes` (a connection's first read) start with
 * a complete request line that has no HTTP version. RFC 9112 §2.2 lets a
 * server skip empty lines before the request line, and Node's parser does.
 */
export function simpleRequestLine(bytes: Buffer): SimpleRequestLine | undefined {
  let start = 0;
  while (start < bytes.length && (bytes[start] === 0x0d || bytes[start] === 0x0a)) start++;
  const end = bytes.indexOf(0x0a, start);
  if (end === -1) return undefined;
  const m = SIMPLE_REQUEST.exec(bytes.toString('latin1', start, end + 1));
  return m ? { method: m[1]!, path: m[2]!.slice(0, MAX_LOGGED_TARGET) } : undefined;
}
