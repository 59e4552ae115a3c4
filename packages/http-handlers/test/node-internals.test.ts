import { once } from 'node:events';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { waitUntil } from '@netlab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import {
  closeLikeServer,
  onFirstMessageBegin,
  quietLaterEnds,
  replaceDestroySoon,
  takeOverReading,
} from '../src/node-internals.js';

// The assumptions node-internals.ts makes about Node's http server, checked
// on whatever Node runs this (CI: 20, and 24 through scripts/test-node.sh).
// A Node that changes one fails here first.

let server: http.Server | undefined;
afterEach(async () => {
  const s = server;
  server = undefined;
  if (s === undefined) return;
  s.closeAllConnections();
  await new Promise((resolve) => s.close(resolve));
});

async function listen(
  onRequest: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<{ port: number; sockets: net.Socket[] }> {
  const sockets: net.Socket[] = [];
  server = http.createServer(onRequest);
  server.on('connection', (socket: net.Socket) => sockets.push(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, sockets };
}

async function client(port: number): Promise<{ socket: net.Socket; text: () => string }> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  let text = '';
  socket.on('data', (d: Buffer) => {
    text += d.toString('latin1');
  });
  await once(socket, 'connect');
  return { socket, text: () => text };
}

describe('replaceDestroySoon', () => {
  it("is how Node's http server ends a connection after `Connection: close`", async () => {
    const closedBy: net.Socket[] = [];
    const { port, sockets } = await listen((_req, res) => {
      res.setHeader('connection', 'close');
      res.end('bye');
    });
    server!.on('connection', (socket: net.Socket) =>
      replaceDestroySoon(socket, (s) => {
        closedBy.push(s);
        s.end();
      }),
    );
    const { socket } = await client(port);
    socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitUntil(() => closedBy.length === 1);
    expect(closedBy[0]).toBe(sockets[0]);
    socket.destroy();
  });

  it('closeLikeServer goes through it', async () => {
    const socket = new net.Socket();
    const seen: net.Socket[] = [];
    replaceDestroySoon(socket, (s) => seen.push(s));
    closeLikeServer(socket);
    expect(seen).toEqual([socket]);
    socket.destroy();
  });
});

describe('quietLaterEnds', () => {
  /** A `Connection: close` answer whose socket stays open (as in a lingering close) until the client's FIN. */
  async function endedTwice(quiet: boolean): Promise<{ calls: number; finishedAt: boolean[] }> {
    const finishedAt: boolean[] = [];
    let calls = 0;
    let closed = false;
    const { port } = await listen((_req, res) => {
      res.setHeader('connection', 'close');
      res.end('bye');
    });
    server!.on('connection', (socket: net.Socket) => {
      // Counts what reaches the socket's own end().
      const own = socket.end;
      socket.end = function (this: net.Socket, ...args: unknown[]) {
        calls++;
        finishedAt.push(this.writableFinished);
        return (own as (...a: unknown[]) => net.Socket).apply(this, args);
      } as net.Socket['end'];
      replaceDestroySoon(socket, (s) => {
        s.end();
        if (quiet) quietLaterEnds(s);
      });
      socket.on('close', () => {
        closed = true;
      });
    });
    const { socket, text } = await client(port);
    socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitUntil(() => text().endsWith('bye'));
    // The client's FIN (it may have sent it already, on the server's).
    socket.end();
    await waitUntil(() => closed);
    return { calls, finishedAt };
  }

  it("is needed: Node's http server ends a finished socket again when the client's FIN arrives", async () => {
    const { calls, finishedAt } = await endedTwice(false);
    expect(calls).toBe(2);
    expect(finishedAt).toEqual([false, true]);
  });

  it('keeps that second end() from reaching the socket', async () => {
    const { calls, finishedAt } = await endedTwice(true);
    expect(calls).toBe(1);
    expect(finishedAt).toEqual([false]);
  });

  it('passes a call with arguments through', () => {
    const socket = new net.Socket();
    const seen: unknown[][] = [];
    socket.end = ((...args: unknown[]) => {
      seen.push(args);
      return socket;
    }) as net.Socket['end'];
    quietLaterEnds(socket);
    socket.end('x');
    expect(seen).toEqual([['x']]);
    socket.destroy();
  });
});

describe('takeOverReading', () => {
  it("stops Node's parser: bytes after the takeover make no request, and reach the listener", async () => {
    let requests = 0;
    const { port, sockets } = await listen((_req, res) => {
      requests++;
      res.end('ok');
    });
    const { socket, text } = await client(port);
    socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitUntil(() => text().includes('ok'));
    let taken = 0;
    takeOverReading(sockets[0]!, (chunk) => {
      taken += chunk.length;
    });
    const more = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'.repeat(100);
    socket.write(more);
    await waitUntil(() => taken === more.length);
    expect(requests).toBe(1);
    socket.destroy();
  });

  it('waits while Node holds the socket paused for a pipelining client, and never crashes', async () => {
    const { port, sockets } = await listen((_req, res) => res.end('x'.repeat(4096)));
    const { socket } = await client(port);
    socket.pause();
    // Answers back up on a client that does not read: Node pauses the socket.
    socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n'.repeat(5000));
    const served = sockets[0] ?? (await waitUntil(() => sockets[0]));
    await waitUntil(() => served.readableFlowing === false);
    let taken = 0;
    takeOverReading(served, (chunk) => {
      taken += chunk.length;
    });
    // Nothing is read while Node holds it paused (the old guards restarted
    // the reading here, and Node's own 'data' listener threw).
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(taken).toBe(0);
    // Reading the answers lets Node resume the socket: the takeover reads the rest.
    socket.resume();
    await waitUntil(() => taken > 0, { what: 'bytes after the takeover' });
    socket.destroy();
  });
});

describe('onFirstMessageBegin', () => {
  it("hands over the connection's first read once, before the parser made a request of it", async () => {
    const calls: Array<[string, boolean]> = [];
    const { port } = await listen((_req, res) => res.end('ok'));
    server!.on('connection', (socket: net.Socket) =>
      onFirstMessageBegin(socket, (bytes, parsedAnyRequest) =>
        calls.push([bytes.toString('latin1'), parsedAnyRequest()]),
      ),
    );
    const { socket, text } = await client(port);
    socket.write('GET /a HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitUntil(() => text().includes('ok'));
    socket.write('GET /b HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitUntil(() => text().split('ok').length === 3);
    expect(calls).toEqual([['GET /a HTTP/1.1\r\nHost: a\r\n\r\n', false]]);
    socket.destroy();
  });
});
