import { randomBytes } from 'node:crypto';
import { waitUntil } from '@netlab/testkit';
import { closed, type Endpoint, open } from './clients.js';

// Each attack is bounded in connections, bytes and time (the whole suite
// runs in CI on two cores), and resolves with what it saw; the tests
// assert on that and on the server's health afterwards.

const request = (path: string) => `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`;

/**
 * Issue 19's repro: `count` pipelined GETs on one connection from a client
 * that never reads an answer. The server stops reading once its answers
 * back up; the header deadline then fires on the request its last read
 * ended in (what crashed every HTTP/1 server). Holds the connection for
 * `holdMs` (past that deadline), then resets it.
 */
export async function pipelineNeverRead(
  endpoint: Endpoint,
  path: string,
  opts: { count: number; holdMs: number; connections?: number },
): Promise<void> {
  const sockets = await Promise.all(
    Array.from({ length: opts.connections ?? 1 }, async () => {
      const { socket, tcp } = await open(endpoint);
      socket.pause();
      socket.write(request(path).repeat(opts.count));
      return tcp;
    }),
  );
  const until = Date.now() + opts.holdMs;
  await waitUntil(() => Date.now() >= until, { timeoutMs: opts.holdMs + 5000, intervalMs: 100 });
  for (const tcp of sockets) tcp.resetAndDestroy();
}

/**
 * Slowloris: `connections` connections that start a request and then send
 * one header line every `dripMs`, never finishing it. Resolves with how
 * each ended and the first status line it got, once all are closed.
 */
export async function slowloris(
  endpoint: Endpoint,
  opts: { connections: number; dripMs: number; timeoutMs: number },
): Promise<{ ends: string[]; statuses: string[] }> {
  const results = await Promise.all(
    Array.from({ length: opts.connections }, async () => {
      const { socket } = await open(endpoint);
      let text = '';
      socket.on('data', (d: Buffer) => {
        text += d.toString('latin1');
      });
      const end = closed(socket);
      socket.write('GET / HTTP/1.1\r\nHost: a\r\n');
      const drip = setInterval(() => {
        if (socket.writable) socket.write('X-Slow: a\r\n');
      }, opts.dripMs);
      const timer = setTimeout(() => socket.destroy(), opts.timeoutMs);
      const how = await end;
      clearInterval(drip);
      clearTimeout(timer);
      return { how, status: /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 'none' };
    }),
  );
  return { ends: results.map((r) => r.how), statuses: results.map((r) => r.status) };
}

/**
 * `connections` connections that each send `bytes` random bytes (no
 * HTTP at all) and read what comes back. Resolves once all are closed
 * (or after `timeoutMs`, destroyed: then their end is 'close').
 */
export async function randomGarbage(
  endpoint: Endpoint,
  opts: { connections: number; bytes: number; timeoutMs: number },
): Promise<{ ends: string[]; statuses: string[] }> {
  const results = await Promise.all(
    Array.from({ length: opts.connections }, async (_, i) => {
      const { socket } = await open(endpoint);
      let text = '';
      socket.on('data', (d: Buffer) => {
        text += d.toString('latin1');
      });
      const end = closed(socket);
      const timer = setTimeout(() => socket.destroy(), opts.timeoutMs);
      // Half of them open with a plausible request line, so the garbage
      // reaches the header and body parsers too, not only the first byte.
      if (i % 2 === 1) socket.write('POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n');
      socket.write(randomBytes(opts.bytes));
      const how = await end;
      clearTimeout(timer);
      return { how, status: /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 'none' };
    }),
  );
  return { ends: results.map((r) => r.how), statuses: results.map((r) => r.status) };
}

/**
 * `rounds` connections that each pipeline `depth` requests for `path`,
 * wait for the first bytes of the answers, and reset the connection (TCP
 * RST): the server is mid-response when it learns the client is gone.
 * Resolves with how many rounds saw an answer start.
 */
export async function resetMidResponse(
  endpoint: Endpoint,
  path: string,
  opts: { rounds: number; depth: number },
): Promise<number> {
  let answered = 0;
  for (let i = 0; i < opts.rounds; i++) {
    const { socket, tcp } = await open(endpoint);
    const first = new Promise<void>((resolve) => {
      socket.once('data', () => resolve());
      socket.once('close', () => resolve());
    });
    socket.write(request(path).repeat(opts.depth));
    await first;
    if (socket.bytesRead > 0) answered++;
    tcp.resetAndDestroy();
  }
  return answered;
}
