import type { Socket } from 'node:net';

/**
 * Everything netlab's HTTP code does that leans on how Node's http server
 * (lib/_http_server.js) works inside, rather than on its documented API, in
 * one place. Each function says what it relies on and why no public API
 * does the job; test/node-internals.test.ts checks each assumption on the
 * Node versions CI runs (20 and 24: scripts/test-node.sh), so a Node that
 * changes one fails there, not in production.
 *
 * What Node's http server does with a connection's socket, as far as this
 * module cares:
 * - its parser reads the socket natively ("consumes" it, TCP and TLS alike),
 *   so no 'data' event reaches JavaScript; adding a 'data' listener through
 *   socket.on() makes it stop ("unconsume") and feed the parser from a
 *   'data' listener of its own instead;
 * - its parser calls hooks stored in numbered slots (onFirstMessageBegin
 *   uses the "message begins" one, which Node leaves empty);
 * - when the client pipelines faster than it reads our answers, it pauses
 *   the socket (socket.pause()) and its parser, and resumes both
 *   (socket.resume()) once the answers are written; its own 'data' listener
 *   asserts the socket is not paused, and an assertion is an exception no
 *   handler can catch: the process exits. So nothing here may make data flow
 *   while Node holds the socket paused.
 */

/**
 * Calls `onData` with every byte that arrives on `socket` from now on, and
 * stops Node's http server from parsing any of it: for a connection we are
 * closing (lingering close), whose bytes are discarded. Parsing them would
 * make requests nobody answers, each holding memory until the socket closes.
 *
 * While Node holds the socket paused (the client pipelined ahead of its
 * reading), this waits for Node to resume it (its answers written), then
 * takes the reading over; it never restarts reading itself. Before, the
 * guards restarted the handle's reading under Node's pause and Node's
 * 'data' listener failed its assertion: issue 19, the process exited.
 *
 * Relies on: socket.on('data') unconsuming the parser (public behaviour of
 * a stream, which Node's http server honours), and Node's own 'data'
 * listener being the only other one (removed here: Node does the same to
 * hand a socket to an 'upgrade' or 'connect' listener).
 */
export function takeOverReading(socket: Socket, onData: (chunk: Buffer) => void): void {
  const take = () => {
    socket.on('data', onData);
    for (const listener of socket.listeners('data')) {
      if (listener !== onData) socket.removeListener('data', listener as (...a: unknown[]) => void);
    }
  };
  // Flowing: nobody paused it, and Node's parser is reading natively.
  if (socket.readableFlowing === true) {
    take();
    return;
  }
  // Paused: by Node for a body nobody reads (it resumes on our resume()), or
  // for pipelining (it pauses again at once, and resumes when the answers are
  // out). Node's 'resume' listener runs before this one: it restarts the
  // reading, or pauses the socket again.
  const onResume = () => {
    if (socket.readableFlowing !== true) return;
    socket.removeListener('resume', onResume);
    take();
  };
  socket.on('resume', onResume);
  socket.resume();
}

/**
 * What a parser error with code `HPE_PAUSED` means: Node's parser was handed
 * bytes while paused, and parsed none of them. It is not the client's fault:
 * over TLS, Node stops reading the TCP socket when it pauses, but records
 * already decrypted still reach the parser (seen with `h2load --h1 -m100`:
 * the 102nd request on a connection). Answering 400 loses every request
 * after it, and the chunk (`err.rawPacket`, all of it, since nothing of it
 * was parsed) is lost unless it is given back.
 *
 * This keeps such chunks, in order, and puts them back in front of the
 * socket's stream (socket.unshift(), the public way to "un-read" bytes) the
 * moment Node resumes the socket; its 'data' listener then parses them
 * before anything read later. Returns false when more than `maxBytes` are
 * waiting: the caller then closes the connection.
 *
 * Relies on: llhttp returning HPE_PAUSED before parsing a byte (Node pauses
 * its parser only between two executions), and Node resuming through
 * socket.resume(), whose 'resume' event reaches this listener after Node's.
 */
export function keepPausedChunk(socket: Socket, chunk: Buffer, maxBytes: number): boolean {
  let waiting = pausedChunks.get(socket);
  if (waiting === undefined) {
    const list: Buffer[] = [];
    waiting = list;
    pausedChunks.set(socket, list);
    const onResume = () => {
      // Node paused it again at once (its answers are not out yet).
      if (socket.readableFlowing !== true) return;
      socket.removeListener('resume', onResume);
      pausedChunks.delete(socket);
      if (!socket.destroyed) socket.unshift(Buffer.concat(list));
    };
    socket.on('resume', onResume);
  }
  waiting.push(chunk);
  let bytes = 0;
  for (const c of waiting) bytes += c.length;
  return bytes <= maxBytes;
}

const pausedChunks = new WeakMap<Socket, Buffer[]>();

/**
 * Makes Node's http server close `socket` with `close` instead of
 * socket.destroySoon(). Node's http server ends a connection after a
 * `Connection: close` response (resOnFinish) by calling destroySoon() when
 * the socket has one: end, then destroy as soon as our side is flushed,
 * whatever the client is still sending (its body, a pipelined request).
 * Unread bytes make the kernel answer with a reset, which can take our
 * response away from the client before it read it. There is no option or
 * event to change that close: overriding the method on the instance is the
 * hook Node leaves (it checks `typeof socket.destroySoon === 'function'`).
 */
export function replaceDestroySoon(socket: Socket, close: (socket: Socket) => void): void {
  socket.destroySoon = function (this: Socket) {
    close(this);
  };
}

/**
 * Makes a later `socket.end()` free once our side has ended. Node's http
 * server calls socket.end() when the client's FIN arrives (socketOnEnd,
 * Node 20 and 24), whether or not our side has ended already: after a
 * lingering close it has, and on a socket whose writable side has finished,
 * Writable's end() builds an ERR_STREAM_ALREADY_FINISHED error, stack trace
 * and all, that nobody sees (Node passes no callback). With a connection
 * per request (`Connection: close`; over TLS, a handshake per request) that
 * was about 2% of https-secure's CPU in a profile of its handshake bench.
 * An end() without arguments on an ended socket has nothing else to do;
 * any other call goes to the socket's own end().
 *
 * Relies on: Node's http server calling socket.end() through the socket
 * (an instance method shadows the prototype's, as destroySoon's does).
 */
export function quietLaterEnds(socket: Socket): void {
  const end = socket.end;
  socket.end = function (this: Socket, ...args: unknown[]) {
    if (args.length === 0 && this.writableEnded) return this;
    return (end as (...a: unknown[]) => Socket).apply(this, args);
  } as Socket['end'];
}

/**
 * Ends an HTTP/1 connection the way the server ends one after a
 * `Connection: close` response: through destroySoon(), which
 * installHttpGuards makes a lingering close (replaceDestroySoon).
 */
export function closeLikeServer(socket: Socket): void {
  socket.destroySoon();
}

// The index of the parser's "message begins" callback. Node's C++ parser
// calls the function stored there (kOnMessageBegin in node_http_parser.cc,
// 0 since Node 12) when a message's first byte arrives; Node's http server
// leaves it null. There is no public name for it, so it is checked before use.
const K_ON_MESSAGE_BEGIN = 0;

/** What onFirstMessageBegin needs of the parser Node's http server attaches to each socket. */
interface NodeHttpParser {
  [K_ON_MESSAGE_BEGIN]: unknown;
  /** A copy of the bytes being parsed, during a parser callback. */
  getCurrentBuffer(): Buffer;
  /** The request being parsed; null until one's headers are complete. */
  incoming: unknown;
}

/**
 * Calls `onBegin` once, when the first message on `socket` begins, with the
 * bytes Node's parser is parsing then (the connection's first read) and a
 * function telling whether the parser has made a request of them yet.
 *
 * The bytes go straight from the socket to Node's native parser, so
 * JavaScript never sees them; reading them first in JavaScript (a 'data'
 * listener) would cost every request on the connection (measured: 13% of
 * `GET /` throughput). No public API exposes them: this sets the parser's
 * "message begins" hook (socket.parser, an undocumented field, and a slot
 * Node's http server leaves empty), once per connection.
 *
 * Only for a socket of Node's http server, after its 'connection' (or
 * 'secureConnection') handler ran. A parser that does not look as this
 * expects (another Node version) is left alone: `onBegin` is never called.
 */
export function onFirstMessageBegin(
  socket: Socket,
  onBegin: (bytes: Buffer, parsedAnyRequest: () => boolean) => void,
): void {
  const parser = (socket as Socket & { parser?: NodeHttpParser | null }).parser;
  if (
    parser == null ||
    parser[K_ON_MESSAGE_BEGIN] !== null ||
    typeof parser.getCurrentBuffer !== 'function'
  ) {
    return;
  }
  parser[K_ON_MESSAGE_BEGIN] = function onFirstMessage(this: NodeHttpParser) {
    // Once per connection: later messages cost nothing.
    this[K_ON_MESSAGE_BEGIN] = null;
    onBegin(this.getCurrentBuffer(), () => this.incoming !== null);
  };
}
