import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  connect,
  metricValue,
  roundTrip,
  type Started,
  sha256,
  startEcho,
  tcpNoDelayOf,
} from './helpers.js';

const exec = promisify(execFile);

let echo: Started | undefined;
afterEach(async () => {
  await echo?.close();
  echo = undefined;
});

describe('echo (RFC 862)', () => {
  it('returns 64 MiB of random bytes unchanged', async () => {
    echo = await startEcho();
    const socket = await connect(echo.port);
    const sent = createHash('sha256');
    const received = createHash('sha256');
    let receivedBytes = 0;
    socket.on('data', (d: Buffer) => {
      received.update(d);
      receivedBytes += d.length;
    });
    const ended = once(socket, 'end');
    const chunk = 1024 * 1024;
    for (let i = 0; i < 64; i++) {
      const block = randomBytes(chunk);
      sent.update(block);
      if (!socket.write(block)) await once(socket, 'drain');
    }
    socket.end();
    await ended;
    expect(receivedBytes).toBe(64 * chunk);
    expect(received.digest('hex')).toBe(sent.digest('hex'));
  });

  it('echoes each of 200 concurrent clients its own bytes', async () => {
    echo = await startEcho();
    const port = echo.port;
    const payloads = Array.from({ length: 200 }, (_, i) =>
      Buffer.concat([Buffer.from(`client ${i}:`), randomBytes(1000 + i * 97)]),
    );
    const echoed = await Promise.all(payloads.map((p) => roundTrip(port, p)));
    echoed.forEach((got, i) => {
      expect(sha256(got)).toBe(sha256(payloads[i]!));
    });
    expect(await metricValue(echo.registry, 'netlab_tcp_connections_total')).toBe(200);
  });

  it('is binary-safe for any bytes split into any writes', async () => {
    echo = await startEcho();
    const port = echo.port;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 4096 }), { maxLength: 20 }),
        async (parts) => {
          const socket = await connect(port);
          const chunks: Buffer[] = [];
          socket.on('data', (d: Buffer) => chunks.push(d));
          const ended = once(socket, 'end');
          for (const part of parts) socket.write(part);
          socket.end();
          await ended;
          expect(Buffer.concat(chunks).equals(Buffer.concat(parts))).toBe(true);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('flushes and ends after the client half-closes (real nc -N)', async () => {
    echo = await startEcho();
    const { stdout } = await exec('sh', ['-c', `printf hi | nc -N 127.0.0.1 ${echo.port}`], {
      timeout: 5000,
    });
    expect(stdout).toBe('hi');
    const line = await echo.logs.waitFor((l) => l.msg === 'connection closed');
    expect(line).toMatchObject({ bytesIn: 2, bytesOut: 2, reason: 'end' });
    expect(line.durationMs).toEqual(expect.any(Number));
    expect(line.remoteAddress).toMatch(/127\.0\.0\.1/);
  });

  it('sends back everything still in flight after the client half-closes', async () => {
    echo = await startEcho();
    const payload = randomBytes(8 * 1024 * 1024);
    // end() right away: most of the 8 MiB is still on its way when our FIN goes.
    const echoed = await roundTrip(echo.port, payload);
    expect(echoed.length).toBe(payload.length);
    expect(sha256(echoed)).toBe(sha256(payload));
  });
});

describe('the connection log line and metrics', () => {
  it('says how long the connection lasted, as the server measured it', async () => {
    echo = await startEcho();
    const before = performance.now();
    const echoed = await roundTrip(echo.port, Buffer.from('abc'));
    expect(String(echoed)).toBe('abc');
    const line = await echo.logs.waitFor((l) => l.msg === 'connection closed');
    // Same process, same clock: the server's span sits inside the client's.
    expect(line.durationMs).toBeGreaterThanOrEqual(0);
    expect(line.durationMs).toBeLessThanOrEqual(Math.ceil(performance.now() - before));
    expect(line.remotePort).toEqual(expect.any(Number));
  });

  it('closes a connection the client resets with reason "reset", and counts it', async () => {
    echo = await startEcho();
    const socket = await connect(echo.port);
    socket.write('x');
    await once(socket, 'data');
    expect(echo.server.connections).toBe(1);
    socket.resetAndDestroy();
    const line = await echo.logs.waitFor((l) => l.msg === 'connection closed');
    expect(line).toMatchObject({ reason: 'reset', errno: 'ECONNRESET', bytesIn: 1, bytesOut: 1 });
    expect(
      await metricValue(echo.registry, 'netlab_tcp_connections_closed_total', 'reason="reset"'),
    ).toBe(1);
    expect(echo.server.connections).toBe(0);
  });

  it('close() stops accepting and cuts what is still open at its deadline, with reason "shutdown"', async () => {
    echo = await startEcho();
    const socket = await connect(echo.port);
    socket.on('error', () => {});
    socket.write('x');
    await once(socket, 'data');
    const closed = once(socket, 'close');
    await echo.server.close({ timeoutMs: 50 });
    await closed;
    expect(echo.logs.find((l) => l.msg === 'connection closed')[0]).toMatchObject({
      reason: 'shutdown',
    });
    expect(
      await metricValue(echo.registry, 'netlab_tcp_connections_closed_total', 'reason="shutdown"'),
    ).toBe(1);
    const refused = net.connect({ port: echo.port, host: '127.0.0.1' });
    const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ECONNREFUSED');
  });
});

describe('limits', () => {
  it('closes a connection idle for IDLE_TIMEOUT_MS and says why', async () => {
    echo = await startEcho({ IDLE_TIMEOUT_MS: '150' });
    const socket = await connect(echo.port);
    socket.write('ping');
    await once(socket, 'data');
    await once(socket, 'close');
    const line = await echo.logs.waitFor((l) => l.msg === 'connection closed');
    expect(line).toMatchObject({ reason: 'idle', bytesIn: 4, bytesOut: 4 });
    expect(
      await metricValue(echo.registry, 'netlab_tcp_connections_closed_total', 'reason="idle"'),
    ).toBe(1);
  });

  it('never cuts a quiet connection with IDLE_TIMEOUT_MS=0', async () => {
    echo = await startEcho({ IDLE_TIMEOUT_MS: '0' });
    const socket = await connect(echo.port);
    // Longer than the sweep's shortest period (50 ms), several times over.
    await new Promise((r) => setTimeout(r, 300));
    expect(socket.destroyed).toBe(false);
    socket.write('still here');
    const [data] = (await once(socket, 'data')) as [Buffer];
    expect(data.toString()).toBe('still here');
    socket.destroy();
  });

  it('closes connections past MAX_CONNECTIONS at once and keeps serving the others', async () => {
    echo = await startEcho({ MAX_CONNECTIONS: '2' });
    const a = await connect(echo.port);
    const b = await connect(echo.port);
    // Make sure the server has accepted both before the third arrives.
    for (const s of [a, b]) {
      s.write('x');
      await once(s, 'data');
    }
    const c = net.connect({ port: echo.port, host: '127.0.0.1' });
    c.on('error', () => {}); // a reset is one way to be refused
    const gotData: Buffer[] = [];
    c.on('data', (d: Buffer) => gotData.push(d));
    c.write('should not echo');
    await once(c, 'close');
    expect(gotData).toEqual([]);
    expect(await metricValue(echo.registry, 'netlab_tcp_connections_rejected_total')).toBe(1);
    await echo.logs.waitFor((l) => l.msg === 'connection rejected: MAX_CONNECTIONS reached');
    a.write('still here');
    const [reply] = await once(a, 'data');
    expect(String(reply)).toBe('still here');
    a.destroy();
    b.destroy();
  });

  it('counts bytes of open connections in /metrics before they close', async () => {
    echo = await startEcho();
    const socket = await connect(echo.port);
    socket.write('12345');
    await once(socket, 'data');
    expect(await metricValue(echo.registry, 'netlab_tcp_bytes_received_total')).toBe(5);
    expect(await metricValue(echo.registry, 'netlab_tcp_bytes_sent_total')).toBe(5);
    expect(await metricValue(echo.registry, 'netlab_tcp_connections_active')).toBe(1);
    socket.destroy();
  });
});

describe('socket options', () => {
  /** `ss -tno` for one established connection to an echo started with `env`. */
  async function ssOfOneConnection(env: Record<string, string>): Promise<string> {
    echo = await startEcho(env);
    const socket = await connect(echo.port);
    socket.write('x');
    await once(socket, 'data');
    const { stdout } = await exec('ss', [
      '-tnoH',
      'state',
      'established',
      `( sport = :${echo.port} )`,
    ]);
    socket.destroy();
    return stdout;
  }

  it.each([
    [{}, 1],
    [{ TCP_NODELAY: '0' }, 0],
  ])(
    'with %o sets TCP_NODELAY to %i on each connection (read back by getsockopt)',
    async (env, on) => {
      echo = await startEcho(env);
      const socket = await connect(echo.port);
      socket.write('x');
      await once(socket, 'data');
      expect(await tcpNoDelayOf(echo.port)).toBe(on);
      socket.destroy();
    },
  );

  it('turns TCP keepalive on with TCP_KEEPALIVE_MS as the first probe delay (seen by ss)', async () => {
    const stdout = await ssOfOneConnection({ TCP_KEEPALIVE_MS: '45000' });
    expect(stdout).toMatch(/timer:\(keepalive,4\d(\.\d+)?sec/);
  });

  it('leaves keepalive off when TCP_KEEPALIVE_MS is 0', async () => {
    const stdout = await ssOfOneConnection({ TCP_KEEPALIVE_MS: '0' });
    expect(stdout).toContain(`:${echo!.port}`);
    expect(stdout).not.toContain('keepalive');
  });
});
