import { execFile } from 'node:child_process';
import { once } from 'node:events';
import type net from 'node:net';
import { promisify } from 'node:util';
import { connect, waitUntil } from '@netlab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { metricValue, request, type Started, startApi } from './helpers.js';

const exec = promisify(execFile);

let app: Started | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function readUntilClose(socket: net.Socket): Promise<string> {
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', () => {});
  await once(socket, 'close');
  return Buffer.concat(chunks).toString('latin1');
}

describe('HTTP limits', () => {
  it('closes the connection past MAX_CONNECTIONS and counts it, while the others are served', async () => {
    app = await startApi({ MAX_CONNECTIONS: '2' });
    const held = [await connect(app.port), await connect(app.port)];
    const third = await connect(app.port);
    expect(await readUntilClose(third)).toBe('');
    await waitUntil(
      async () =>
        (await metricValue(app!.registry, 'netlab_http_connections_rejected_total')) === 1,
    );
    for (const s of held) s.destroy();
    await waitUntil(
      async () => (await request(`${app!.url}/`).catch(() => undefined))?.status === 200,
      {
        what: 'a free connection slot',
      },
    );
  });

  it('answers 431 to headers over MAX_HEADER_SIZE (real curl)', async () => {
    app = await startApi({ MAX_HEADER_SIZE: '2048' });
    const { stdout } = await exec(
      'curl',
      [
        '-s',
        '-w',
        '\n%{http_code}',
        '-H',
        `X-Big: ${'a'.repeat(3000)}`,
        `${app.url}/resolve?name=localhost`,
      ],
      { timeout: 10_000 },
    );
    const cut = stdout.lastIndexOf('\n');
    expect(stdout.slice(cut + 1)).toBe('431');
    expect(JSON.parse(stdout.slice(0, cut))).toMatchObject({
      code: 'NETLAB_ERR_HEADERS_TOO_LARGE',
    });
  });

  it('answers 408 and closes a client that does not finish its headers within HEADERS_TIMEOUT_MS', async () => {
    app = await startApi({ HEADERS_TIMEOUT_MS: '300' });
    const socket = await connect(app.port);
    const reply = readUntilClose(socket);
    socket.write('GET /resolve?name=localhost HTTP/1.1\r\nHost: x\r\n');
    const text = await reply;
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(text).toContain('"code":"NETLAB_ERR_REQUEST_TIMEOUT"');
  });

  it('answers 408 to a client that does not finish its body within REQUEST_TIMEOUT_MS', async () => {
    app = await startApi({ REQUEST_TIMEOUT_MS: '300', HEADERS_TIMEOUT_MS: '300' });
    const socket = await connect(app.port);
    const reply = readUntilClose(socket);
    socket.write('POST /resolve HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n[{"name":');
    const text = await reply;
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(text).toContain('"code":"NETLAB_ERR_REQUEST_TIMEOUT"');
    // The abandoned request is counted out, as a client that left, not as a server error.
    await waitUntil(
      async () => (await metricValue(app!.registry, 'netlab_http_requests_in_flight')) === 0,
      {
        what: 'the abandoned request to be counted out',
      },
    );
    expect(app.logs.find((l) => l.level === 'error')).toEqual([]);
  });

  it('closes a keep-alive connection after KEEP_ALIVE_TIMEOUT_MS without a new request', async () => {
    app = await startApi({ KEEP_ALIVE_TIMEOUT_MS: '200', IDLE_TIMEOUT_MS: '0' });
    const socket = await connect(app.port);
    const reply = readUntilClose(socket);
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    // One answer, then the server closes the idle keep-alive connection.
    expect(await reply).toMatch(/^HTTP\/1\.1 200 [\s\S]*keep-alive/i);
  });

  it('closes a connection idle for IDLE_TIMEOUT_MS', async () => {
    app = await startApi({ IDLE_TIMEOUT_MS: '200', KEEP_ALIVE_TIMEOUT_MS: '0' });
    const socket = await connect(app.port);
    expect(await readUntilClose(socket)).toBe('');
    expect(await metricValue(app.registry, 'netlab_http_connections_idle_closed_total')).toBe(1);
  });

  it('answers 400 to a request that is not HTTP, and keeps serving', async () => {
    app = await startApi();
    const socket = await connect(app.port);
    const reply = readUntilClose(socket);
    socket.write('HELLO\r\n\r\n');
    expect(await reply).toMatch(/^HTTP\/1\.1 400 /);
    expect((await request(`${app.url}/`)).status).toBe(200);
  });
});
