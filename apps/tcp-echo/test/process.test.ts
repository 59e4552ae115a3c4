import { once } from 'node:events';
import net from 'node:net';
import {
  expectConfigRefused,
  procStatusBytes,
  readyz,
  spawnApp,
  useApps,
  waitUntil,
} from '@netlab/testkit';
import { describe, expect, it } from 'vitest';
import { connect, MAIN } from './helpers.js';

const start = useApps(MAIN);

describe('the tcp-echo process', () => {
  it('keeps its memory bounded when a client sends without ever reading', async () => {
    const app = await start();
    const before = await procStatusBytes(app.pid, 'VmRSS');
    const socket = await connect(app.port);
    socket.pause(); // never read the echo
    const block = Buffer.alloc(1024 * 1024, 0x61);
    const total = 128;
    // Ignore write()'s return value on purpose: we want to push far more than
    // the kernel buffers hold and see where it piles up. It must pile up here,
    // in the client, not in the server.
    for (let i = 0; i < total; i++) socket.write(block);
    const metric = async () => {
      const text = await (await fetch(`http://127.0.0.1:${app.adminPort}/metrics`)).text();
      return Number(/^netlab_tcp_bytes_received_total\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
    };
    // Wait until the server has stopped taking bytes: two equal readings in a row.
    let last = -1;
    await waitUntil(
      async () => {
        const now = await metric();
        const settled = now > 0 && now === last;
        last = now;
        return settled;
      },
      { timeoutMs: 15_000, intervalMs: 200, what: 'the server to stop reading' },
    );
    const peak = await procStatusBytes(app.pid, 'VmHWM');
    expect(last).toBeLessThan(48 * 1024 * 1024); // kernel buffers, not 128 MiB
    expect(socket.writableLength).toBeGreaterThan(64 * 1024 * 1024); // the rest waits in the client
    expect(peak - before).toBeLessThan(48 * 1024 * 1024);
    socket.destroy();
  });

  it('drains on SIGTERM: unready, refuses new connections, cuts the rest at the deadline, exits 0', async () => {
    const app = await start({ SHUTDOWN_TIMEOUT_MS: '1500' });
    const socket = await connect(app.port);
    socket.write('before');
    await once(socket, 'data');
    expect(await readyz(app)).toBe(200);

    app.child.kill('SIGTERM');
    await app.logs.waitFor((l) => l.msg === 'shutting down: draining');
    expect(await readyz(app)).toBe(503);
    // The listener is closed: a new client is refused.
    const refused = net.connect({ port: app.port, host: '127.0.0.1' });
    const [err] = await once(refused, 'error');
    expect((err as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    // The open connection is still served during the drain.
    socket.write('during');
    const [reply] = await once(socket, 'data');
    expect(String(reply)).toBe('during');

    await once(socket, 'close');
    const { code } = await app.exited;
    expect(code).toBe(0);
    const closed = app.logs.find((l) => l.msg === 'connection closed');
    expect(closed[0]).toMatchObject({ reason: 'shutdown', bytesIn: 12, bytesOut: 12 });
    expect(app.logs.lines.at(-1)?.msg).toBe('stopped');
  });

  it('exits 0 as soon as the last connection ends during the drain', async () => {
    const app = await start({ SHUTDOWN_TIMEOUT_MS: '60000' });
    const socket = await connect(app.port);
    app.child.kill('SIGTERM');
    await app.logs.waitFor((l) => l.msg === 'shutting down: draining');
    socket.end();
    const { code } = await app.exited;
    expect(code).toBe(0);
    expect(app.logs.find((l) => l.msg === 'connection closed')[0]).toMatchObject({ reason: 'end' });
  });

  it('exits at once on a second signal during the drain', async () => {
    const app = await start({ SHUTDOWN_TIMEOUT_MS: '60000' });
    const socket = await connect(app.port);
    socket.on('error', () => {});
    app.child.kill('SIGTERM');
    await app.logs.waitFor((l) => l.msg === 'shutting down: draining');
    app.child.kill('SIGINT');
    const { code } = await app.exited;
    expect(code).toBe(1);
  });

  it('writes human-readable lines, not JSON, with LOG_FORMAT=pretty', async () => {
    const app = spawnApp(MAIN, {
      LOG_FORMAT: 'pretty',
      PORT: '0',
      ADMIN_PORT: '0',
      HOST: '127.0.0.1',
    });
    try {
      const ready = await app.logs.waitFor((l) => /tcp-echo ready on port \d+/.test(l.msg ?? ''));
      expect(ready.unparsed).toBe(true); // not a JSON line
      expect(ready.msg).toMatch(/^\[\d{2}:\d{2}:\d{2}\.\d{3}\] INFO: tcp-echo ready on port \d+/);
    } finally {
      app.kill();
    }
  });

  it.each([
    [{ PORT: 'abc' }, ['PORT: expected an integer 0-65535, got "abc"']],
    [{ PORT: '70000', MAX_CONNECTIONS: '12abc' }, ['PORT:', 'MAX_CONNECTIONS:']],
    [{ TCP_NODELAY: 'yes', LOG_LEVEL: 'loud' }, ['LOG_LEVEL:', 'TCP_NODELAY:']],
  ])('refuses bad config %o with one line per variable and exit 78', async (env, expected) => {
    const app = await expectConfigRefused(MAIN, env, expected);
    expect(app.logs.lines).toEqual([]);
  });

  it('exits 1 with a fatal log line when its port is taken', async () => {
    const first = await start();
    const second = spawnApp(MAIN, { PORT: String(first.port), ADMIN_PORT: '0', HOST: '127.0.0.1' });
    const { code } = await second.exited;
    expect(code).toBe(1);
    const fatal = second.logs.find((l) => l.level === 'fatal')[0];
    expect(fatal).toMatchObject({ msg: 'failed to start', err: { code: 'EADDRINUSE' } });
  });
});
