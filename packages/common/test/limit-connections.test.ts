import net from 'node:net';
import { LogCapture, waitUntil } from '@netlab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, limitConnections, listen } from '../src/index.js';

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A server capped at one connection, with one held open. */
async function full(logIntervalMs: number) {
  const logs = new LogCapture();
  const logger = createLogger({ service: 'test', version: '0', destination: logs });
  const server = net.createServer();
  servers.push(server);
  let dropped = 0;
  limitConnections(server, { limit: 1, logger, logIntervalMs, onDrop: () => dropped++ });
  // HOST unset: dual-stack, so an IPv4 client shows as ::ffff:127.0.0.1 to Node.
  const { port } = await listen(server, 0);
  const holder = net.connect({ port, host: '127.0.0.1' });
  sockets.push(holder);
  await waitUntil(() => new Promise<number>((r) => server.getConnections((_e, n) => r(n))));
  return { port, logs, dropped: () => dropped };
}

/** `n` clients, one after another, each refused (closed by the server at once). */
async function refuse(port: number, n: number) {
  for (let i = 0; i < n; i++) {
    await new Promise<void>((resolve) => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      socket.on('close', () => resolve());
      socket.on('error', () => {});
      socket.resume();
    });
  }
}

const single = (l: Record<string, unknown>) =>
  l.msg === 'connection rejected: MAX_CONNECTIONS reached';
const summary = (l: Record<string, unknown>) =>
  l.msg === 'connections rejected: MAX_CONNECTIONS reached';

describe('limitConnections', () => {
  it('logs the first refusal, then one line per interval with the count, and counts every one', async () => {
    const { port, logs, dropped } = await full(60_000);
    await refuse(port, 40);
    await waitUntil(() => dropped() === 40, { what: '40 refusals counted' });
    const first = logs.find(single);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ level: 'warn', limit: 1, remoteAddress: '127.0.0.1' });
    // The other 39 wait for the end of the interval: no line each.
    expect(logs.find(summary)).toEqual([]);
    expect(logs.lines).toHaveLength(1);
  });

  it('says how many more were refused when the interval ends, then logs in full again after a quiet one', async () => {
    const { port, logs, dropped } = await full(200);
    await refuse(port, 25);
    await waitUntil(() => dropped() === 25);
    await waitUntil(() => logs.find(summary).length > 0, { what: 'the summary line' });
    const counted = () =>
      logs.find(summary).reduce((sum, l) => sum + (l.rejected as number), 0) +
      logs.find(single).length;
    await waitUntil(() => counted() === 25, { what: 'every refusal in a log line' });
    expect(logs.find(summary)[0]).toMatchObject({ intervalMs: 200, limit: 1 });
    // An interval with no refusal ends the quiet period: the next one is logged whole.
    const singles = logs.find(single).length;
    await waitUntil(
      async () => {
        await refuse(port, 1);
        return logs.find(single).length > singles;
      },
      { what: 'a refusal logged whole again', intervalMs: 300 },
    );
  });

  it('at close, the refusals still waiting for their interval are logged in one last line', async () => {
    const { port, logs, dropped } = await full(60_000);
    await refuse(port, 4);
    await waitUntil(() => dropped() === 4, { what: 'four refusals counted' });
    expect(logs.find(summary)).toEqual([]);
    // Closing waits for the held connection: end it too.
    const closed = new Promise((resolve) => servers.splice(0)[0]!.close(resolve));
    sockets.splice(0)[0]!.destroy();
    await closed;
    await waitUntil(() => logs.find(summary).length === 1, { what: 'the last summary line' });
    expect(logs.find(summary)[0]).toMatchObject({ level: 'warn', rejected: 3, limit: 1 });
  });
});
