import { once } from 'node:events';
import net from 'node:net';
import { connect, LogCapture } from '@netlab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConnectionSet,
  createLogger,
  drain,
  limitConnections,
  listen,
  sweepIdle,
} from '../src/index.js';

/** An echo server whose accepted sockets are tracked in a ConnectionSet. */
async function tracked() {
  const server = net.createServer((s) => {
    s.on('error', () => {}); // a client reset
    s.pipe(s);
  });
  const connections = new ConnectionSet();
  server.on('connection', (s) => connections.add(s));
  const { port } = await listen(server, 0, '127.0.0.1');
  return { server, connections, port };
}

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanup.splice(0)) fn();
});

function logs() {
  const capture = new LogCapture();
  return { capture, logger: createLogger({ service: 't', version: '0', destination: capture }) };
}

/** A connected client, after the server has seen it (one echoed byte). */
async function client(port: number): Promise<net.Socket> {
  const socket = await connect(port);
  socket.on('error', () => {});
  cleanup.push(() => socket.destroy());
  socket.write('x');
  await once(socket, 'data');
  return socket;
}

describe('ConnectionSet', () => {
  it('counts and lists open sockets, and resolves empty() only once the last one closed', async () => {
    const { server, connections, port } = await tracked();
    cleanup.push(() => server.close());
    const a = await client(port);
    const b = await client(port);
    expect(connections.size).toBe(2);
    expect([...connections].map((s) => s.remotePort).sort()).toEqual(
      [a.localPort, b.localPort].sort(),
    );
    let empty = false;
    const emptied = connections.empty().then(() => {
      empty = true;
    });
    const first = [...connections][0]!;
    first.destroy();
    await once(first, 'close');
    expect(connections.size).toBe(1);
    expect(empty).toBe(false);
    [...connections][0]!.destroy();
    await emptied;
    expect(connections.size).toBe(0);
    await connections.empty(); // already empty: resolves at once
  });
});

describe('drain', () => {
  it('logs how many it waits for and how many it cut at the deadline', async () => {
    const { server, connections, port } = await tracked();
    await client(port);
    await client(port);
    const { capture, logger } = logs();
    expect(await drain(server, connections, { timeoutMs: 50, logger })).toEqual({ destroyed: 2 });
    expect(capture.lines.map((l) => [l.level, l.msg])).toEqual([
      ['info', 'waiting for open connections'],
      ['warn', 'shutdown deadline passed: connections cut'],
    ]);
    expect(capture.lines[0]).toMatchObject({ open: 2, timeoutMs: 50 });
    expect(capture.lines[1]).toMatchObject({ destroyed: 2 });
  });

  it('hands each connection it cuts to onExpire first, and no other', async () => {
    const { server, connections, port } = await tracked();
    const a = await client(port);
    const b = await client(port);
    const ports = [a.localPort, b.localPort].sort();
    const { logger } = logs();
    const expired: Array<[number | undefined, boolean]> = [];
    await drain(server, connections, {
      timeoutMs: 50,
      logger,
      onExpire: (socket) => expired.push([socket.remotePort, socket.destroyed]),
    });
    expect(expired.map(([p]) => p).sort()).toEqual(ports);
    // Told before it is cut, so the cut can be logged with its reason.
    expect(expired.map(([, destroyed]) => destroyed)).toEqual([false, false]);
  });

  it('logs nothing when nothing is open, or when everyone left in time', async () => {
    const idle = await tracked();
    const quiet = logs();
    expect(
      await drain(idle.server, idle.connections, { timeoutMs: 50, logger: quiet.logger }),
    ).toEqual({ destroyed: 0 });
    expect(quiet.capture.lines).toEqual([]);

    const { server, connections, port } = await tracked();
    const socket = await client(port);
    const { capture, logger } = logs();
    const draining = drain(server, connections, { timeoutMs: 10_000, logger });
    socket.end();
    expect(await draining).toEqual({ destroyed: 0 });
    expect(capture.lines.map((l) => l.msg)).toEqual(['waiting for open connections']);
  });
});

describe('limitConnections', () => {
  it('closes each connection past the limit, counts it, and logs who and what limit', async () => {
    const { server, port } = await tracked();
    cleanup.push(() => server.close());
    const { capture, logger } = logs();
    let drops = 0;
    limitConnections(server, { limit: 1, logger, onDrop: () => drops++ });
    const kept = await client(port);
    const refused = net.connect({ port, host: '127.0.0.1' });
    refused.on('error', () => {});
    await once(refused, 'close');
    expect(drops).toBe(1);
    const line = await capture.waitFor(
      (l) => l.msg === 'connection rejected: MAX_CONNECTIONS reached',
    );
    expect(line).toMatchObject({
      level: 'warn',
      limit: 1,
      remotePort: expect.any(Number),
    });
    expect(String(line.remoteAddress)).toMatch(/127\.0\.0\.1$/);
    kept.write('still');
    const [echo] = await once(kept, 'data');
    expect(String(echo)).toBe('still');
  });
});

describe('sweepIdle', () => {
  it('calls onIdle for a connection silent for idleMs, not for one with traffic both ways', async () => {
    const { server, connections, port } = await tracked();
    cleanup.push(() => server.close());
    const silent = await client(port);
    const silentPort = silent.localPort;
    const busy = await client(port);
    const busyServerSide = [...connections].find((s) => s.remotePort === busy.localPort)!;
    // Echoed traffic: bytes read and written grow together.
    const chatter = setInterval(() => busy.write('y'), 20);
    cleanup.push(() => clearInterval(chatter));
    const idled: net.Socket[] = [];
    const started = Date.now();
    const sweep = sweepIdle(connections, 200, (s) => {
      idled.push(s);
      s.destroy();
    });
    cleanup.push(() => sweep.stop());
    await once(silent, 'close');
    // Never before its idle time (a sweep runs every 50 ms here).
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    expect(idled.map((s) => s.remotePort)).toEqual([silentPort]);
    expect(busyServerSide.destroyed).toBe(false);
  });

  it('a connection the server keeps writing to is not idle, though the client sends nothing', async () => {
    const { server, connections, port } = await tracked();
    cleanup.push(() => server.close());
    const reader = await client(port);
    const serverSide = [...connections].find((s) => s.remotePort === reader.localPort)!;
    // A stream to a client that only reads (a download, /drip, SSE).
    const drip = setInterval(() => serverSide.write('z'), 20);
    cleanup.push(() => clearInterval(drip));
    const idled: net.Socket[] = [];
    const sweep = sweepIdle(connections, 200, (s) => idled.push(s));
    cleanup.push(() => sweep.stop());
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(idled).toEqual([]);
  });

  it('stops sweeping when told to', async () => {
    const { server, connections, port } = await tracked();
    cleanup.push(() => server.close());
    await client(port);
    const stopped: net.Socket[] = [];
    sweepIdle(connections, 100, (s) => stopped.push(s)).stop();
    // A second sweep over the same connections, started later with the same
    // idle time: by the time it fires, the stopped one would have too.
    const fired = new Promise<void>((resolve) => {
      const other = sweepIdle(connections, 100, () => {
        other.stop();
        resolve();
      });
    });
    await fired;
    expect(stopped).toEqual([]);
  });
});
