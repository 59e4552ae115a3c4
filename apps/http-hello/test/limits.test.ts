import { execFile } from 'node:child_process';
import http from 'node:http';
import { promisify } from 'node:util';
import { waitUntil, wire } from '@netlab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, metricValue, readUntilClose, type Started, startHello } from './helpers.js';

const exec = promisify(execFile);

let app: Started | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('slow and oversized clients', () => {
  it('closes a slowloris client sending headers one byte per second within HEADERS_TIMEOUT_MS', async () => {
    app = await startHello({ HEADERS_TIMEOUT_MS: '2000' });
    const socket = await connect(app.port);
    const opened = performance.now();
    const reply = readUntilClose(socket);
    const head = 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ';
    // The clock starts at the request's first byte.
    socket.write(head[0]!);
    let i = 1;
    const drip = setInterval(() => {
      if (!socket.destroyed) socket.write(head[i++ % head.length]!);
    }, 1000);
    try {
      const text = await reply;
      const elapsed = performance.now() - opened;
      expect(text).toMatch(/^HTTP\/1\.1 408 /);
      expect(text).toContain('"code":"NETLAB_ERR_REQUEST_TIMEOUT"');
      // Not before the deadline; and well before Node's default check
      // interval (30 s) would have noticed it: ours is 500 ms here.
      expect(elapsed).toBeGreaterThanOrEqual(1900);
      expect(elapsed).toBeLessThan(10_000);
    } finally {
      clearInterval(drip);
    }
    await app.logs.waitFor(
      (l) => l.msg === 'request' && l.code === 'NETLAB_ERR_REQUEST_TIMEOUT' && l.status === 408,
    );
    expect(
      await metricValue(
        app.registry,
        'netlab_http_client_errors_total',
        'code="NETLAB_ERR_REQUEST_TIMEOUT"',
      ),
    ).toBe(1);
  });

  it('answers 431 to headers over MAX_HEADER_SIZE (real curl)', async () => {
    app = await startHello({ MAX_HEADER_SIZE: '4096' });
    const { stdout } = await exec(
      'curl',
      ['-s', '-w', '\n%{http_code}', '-H', `X-Big: ${'a'.repeat(5000)}`, `${app.url}/`],
      { timeout: 10_000 },
    );
    const status = stdout.slice(stdout.lastIndexOf('\n') + 1);
    expect(status).toBe('431');
    expect(JSON.parse(stdout.slice(0, stdout.lastIndexOf('\n')))).toMatchObject({
      code: 'NETLAB_ERR_HEADERS_TOO_LARGE',
      status: 431,
    });
  });

  it('answers 400 to a request that is not HTTP', async () => {
    app = await startHello();
    const socket = await connect(app.port);
    const reply = readUntilClose(socket);
    socket.write('HELLO THERE\r\n\r\n');
    expect(await reply).toMatch(/^HTTP\/1\.1 400 [\s\S]*"code":"NETLAB_ERR_BAD_REQUEST"/);
  });

  it('closes a keep-alive connection idle for KEEP_ALIVE_TIMEOUT_MS', async () => {
    app = await startHello({ KEEP_ALIVE_TIMEOUT_MS: '300' });
    const socket = await connect(app.port);
    const reply = readUntilClose(socket);
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const answered = performance.now();
    const text = await reply;
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    // Node 20.x+ waits a grace second past the advertised timeout
    // (server.keepAliveTimeoutBuffer), so a client reusing the socket just
    // in time does not meet a reset: about 1.3 s, where Node's default
    // (5 s, plus that second) would take 6.
    expect(performance.now() - answered).toBeLessThan(4500);
  });
});

describe('MAX_CONNECTIONS', () => {
  it('closes connections past MAX_CONNECTIONS at once, counts them and keeps serving the others', async () => {
    app = await startHello({ MAX_CONNECTIONS: '2' });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    try {
      // Two keep-alive connections, both answered, so both are open and counted.
      const get = () =>
        new Promise<number>((resolve, reject) => {
          http
            .get(`${app!.url}/`, { agent }, (res) =>
              res.resume().on('end', () => resolve(res.statusCode!)),
            )
            .on('error', reject);
        });
      expect(await Promise.all([get(), get()])).toEqual([200, 200]);
      expect(app.server.connections).toBe(2);

      const third = await connect(app.port);
      const reply = readUntilClose(third);
      third.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(await reply).toBe(''); // closed unanswered
      expect(await metricValue(app.registry, 'netlab_http_connections_rejected_total')).toBe(1);
      await app.logs.waitFor((l) => l.msg === 'connection rejected: MAX_CONNECTIONS reached');

      expect(await get()).toBe(200); // the two it holds still work
      expect(await metricValue(app.registry, 'netlab_http_connections_total')).toBe(2);
    } finally {
      agent.destroy();
    }
  });
});

describe('one connection, many requests', () => {
  it('answers pipelined requests in order on one socket', async () => {
    app = await startHello();
    const socket = await connect(app.port);
    const reply = readUntilClose(socket);
    socket.write(
      'GET / HTTP/1.1\r\nHost: x\r\nX-Request-Id: one\r\n\r\n' +
        'GET /status/418 HTTP/1.1\r\nHost: x\r\nX-Request-Id: two\r\n\r\n' +
        'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nX-Request-Id: three\r\n\r\nping' +
        'GET /whoami HTTP/1.1\r\nHost: x\r\nX-Request-Id: four\r\nConnection: close\r\n\r\n',
    );
    const text = await reply;
    // No line break between responses after the echoed body: match anywhere.
    const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
    expect(statuses).toEqual(['200', '418', '200', '200']);
    const ids = [...text.matchAll(/^x-request-id: (\S+)\r$/gim)].map((m) => m[1]);
    expect(ids).toEqual(['one', 'two', 'three', 'four']);
    expect(text).toContain('\r\n\r\nping');
    expect(await metricValue(app.registry, 'netlab_http_connections_total')).toBe(1);
  });

  it('serves sequential keep-alive requests on one connection', async () => {
    app = await startHello();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const ports = new Set<number>();
      for (let i = 0; i < 10; i++) {
        const { connection, body } = await new Promise<{ connection?: string; body: string }>(
          (resolve, reject) => {
            http
              .get(`${app!.url}/whoami`, { agent }, (res) => {
                let text = '';
                res.setEncoding('utf8').on('data', (d: string) => {
                  text += d;
                });
                res.on('end', () => resolve({ connection: res.headers.connection, body: text }));
              })
              .on('error', reject);
          },
        );
        expect(connection).toBe('keep-alive');
        ports.add(JSON.parse(body).remote.port);
      }
      expect(ports.size).toBe(1);
      expect(await metricValue(app.registry, 'netlab_http_connections_total')).toBe(1);
    } finally {
      agent.destroy();
    }
  });
});

describe('drain (in-process; the process test drives it with SIGTERM)', () => {
  it('answers an in-flight keep-alive request with Connection: close, then closes', async () => {
    const started = await startHello();
    const agent = new http.Agent({ keepAlive: true });
    try {
      const reply = new Promise<http.IncomingHttpHeaders>((resolve, reject) => {
        http
          .get(`${started.url}/delay/300`, { agent }, (res) => {
            res.resume().on('end', () => resolve(res.headers));
          })
          .on('error', reject);
      });
      await waitUntil(() => started.server.handler.stats.inFlight === 1, {
        what: 'the request to arrive',
      });
      const closed = started.server.close({ timeoutMs: 10_000 });
      expect((await reply).connection).toBe('close');
      await closed;
      expect(started.server.connections).toBe(0);
    } finally {
      agent.destroy();
    }
  });
});

describe('idle connections', () => {
  it('cuts a client that stops reading its echo after IDLE_TIMEOUT_MS without traffic', async () => {
    app = await startHello({ IDLE_TIMEOUT_MS: '300', REQUEST_TIMEOUT_MS: '0' });
    const socket = await connect(app.port);
    socket.pause(); // never read the echo
    socket.on('error', () => {});
    const size = 64 * 1024 * 1024;
    socket.write(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`);
    // Push body until the kernel buffers on both sides are full and traffic stops.
    const block = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < 64 && !socket.destroyed; i++) socket.write(block);
    // Not events.once: it would reject on the ECONNRESET our own writes see.
    const closed = new Promise((resolve) => socket.once('close', resolve));
    const stalledAt = performance.now();
    await closed;
    // Idle for at least 300 ms, then cut by the next sweep (every 75 ms).
    expect(performance.now() - stalledAt).toBeGreaterThanOrEqual(250);
    expect(await metricValue(app.registry, 'netlab_http_connections_idle_closed_total')).toBe(1);
    await app.logs.waitFor((l) => l.msg === 'idle connection closed' && l.idleMs === 300);
  });

  it('answers a request the server works on for longer than IDLE_TIMEOUT_MS (idle is between requests)', async () => {
    app = await startHello({ IDLE_TIMEOUT_MS: '300' });
    const { text, end } = await wire(app.port, [
      'GET /delay/900 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    ]);
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(text).toContain('"delayMs":900');
    expect(end).toBe('eof');
    expect(await metricValue(app.registry, 'netlab_http_connections_idle_closed_total')).toBe(0);
  });

  it('cuts a pipelining client that stops reading its answers after IDLE_TIMEOUT_MS', async () => {
    app = await startHello({ IDLE_TIMEOUT_MS: '300', HEADERS_TIMEOUT_MS: '60000' });
    const socket = await connect(app.port);
    socket.pause(); // never read the answers
    socket.on('error', () => {});
    socket.write('GET /whoami HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(20_000));
    // A paused client does not notice the reset: the server says it cut it.
    await app.logs.waitFor((l) => l.msg === 'idle connection closed' && l.idleMs === 300);
    socket.destroy();
    expect(await metricValue(app.registry, 'netlab_http_connections_idle_closed_total')).toBe(1);
  });

  it('keeps a keep-alive connection that is used more often than IDLE_TIMEOUT_MS', async () => {
    app = await startHello({ IDLE_TIMEOUT_MS: '300', KEEP_ALIVE_TIMEOUT_MS: '0' });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const ports = new Set<number>();
    for (let i = 0; i < 8; i++) {
      const port = await new Promise<number>((resolve, reject) => {
        http
          .get(`${app!.url}/`, { agent }, (res) => {
            const port = res.socket.localPort!;
            res.resume();
            res.on('end', () => resolve(port));
          })
          .on('error', reject);
      });
      ports.add(port);
      await new Promise((r) => setTimeout(r, 100));
    }
    agent.destroy();
    expect(ports.size).toBe(1); // one connection served all eight, 800 ms in all
    expect(await metricValue(app.registry, 'netlab_http_connections_idle_closed_total')).toBe(0);
  });
});
