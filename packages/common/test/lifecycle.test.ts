import { EventEmitter } from 'node:events';
import net from 'node:net';
import { LogCapture, waitUntil } from '@netlab/testkit';
import { describe, expect, it } from 'vitest';
// dist, not src: runService starts the admin server's thread from dist/admin-thread.js.
import {
  ConnectionSet,
  commonVars,
  createLogger,
  drain,
  int,
  listen,
  type ProcessLike,
  runService,
  type Service,
} from '../dist/index.js';

/**
 * A stand-in for `process`: real signals would hit the test runner itself.
 * (The apps' own tests send real SIGTERMs to real child processes.)
 */
class FakeProcess extends EventEmitter implements ProcessLike {
  stderrText = '';
  exitCodes: number[] = [];
  readonly stderr = { write: (t: string) => (this.stderrText += t) };
  constructor(readonly env: Record<string, string>) {
    super();
  }
  exit(code: number) {
    this.exitCodes.push(code);
  }
}

const schema = {
  ...commonVars({ port: 1, adminPort: 2 }),
  EXTRA: int({ default: 5, min: 0, max: 10, doc: 'extra' }),
};

/** A service that is a plain TCP server whose connections can be held open. */
function tcpService(events: string[]): Service & { connections: ConnectionSet } {
  const server = net.createServer();
  const connections = new ConnectionSet();
  server.on('connection', (s) => connections.add(s));
  return {
    connections,
    address: () => server.address() as net.AddressInfo,
    listen: async () => {
      await listen(server, 0, '127.0.0.1');
      events.push('listen');
    },
    close: async ({ timeoutMs }) => {
      events.push(`close ${timeoutMs}`);
      await drain(server, connections, { timeoutMs, logger: quiet });
    },
  };
}

const quiet = createLogger({ service: 't', version: '0', level: 'silent' });

const env = { PORT: '0', ADMIN_PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' };

describe('runService', () => {
  it('prints one line per bad variable and exits 78 without starting anything', async () => {
    const proc = new FakeProcess({ PORT: 'abc', EXTRA: '11' });
    let created = false;
    const running = await runService(
      {
        name: 't',
        version: '0',
        schema,
        create: () => {
          created = true;
          return tcpService([]);
        },
      },
      proc,
    );
    expect(running).toBeUndefined();
    expect(created).toBe(false);
    expect(proc.exitCodes).toEqual([78]);
    expect(proc.stderrText).toBe(
      'PORT: expected an integer 0-65535, got "abc"\nEXTRA: expected an integer 0-10, got "11"\n',
    );
  });

  it('passes the typed config to the factory, goes ready, drains on SIGTERM and exits 0', async () => {
    const proc = new FakeProcess({ ...env, EXTRA: '7', SHUTDOWN_TIMEOUT_MS: '250' });
    const events: string[] = [];
    let seenExtra = 0;
    const running = await runService(
      {
        name: 't',
        version: '0',
        schema,
        create: ({ config }) => {
          seenExtra = config.EXTRA;
          return tcpService(events);
        },
      },
      proc,
    );
    expect(seenExtra).toBe(7);
    expect(running!.readiness()).toBe('ready');
    const adminPort = running!.admin.address()!.port;
    expect((await fetch(`http://127.0.0.1:${adminPort}/readyz`)).status).toBe(200);

    // Hold a connection open so the drain has something to wait for.
    const client = net.connect(running!.service.address()!.port, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
    const closed = new Promise((r) => client.once('close', r));
    proc.emit('SIGTERM', 'SIGTERM');
    expect(running!.readiness()).toBe('draining');
    expect((await fetch(`http://127.0.0.1:${adminPort}/readyz`)).status).toBe(503);
    expect(await running!.exited).toBe(0);
    await closed; // cut at the 250 ms deadline
    expect(events).toEqual(['listen', 'close 250']);
    expect(proc.exitCodes).toEqual([0]);
  });

  it('exits 1 at once on a second signal during the drain', async () => {
    const proc = new FakeProcess({ ...env, SHUTDOWN_TIMEOUT_MS: '60000' });
    const running = await runService(
      { name: 't', version: '0', schema, create: () => tcpService([]) },
      proc,
    );
    const client = net.connect(running!.service.address()!.port, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
    proc.emit('SIGTERM', 'SIGTERM');
    proc.emit('SIGINT', 'SIGINT');
    expect(await running!.exited).toBe(1);
    client.destroy();
  });

  it('exits 1, logging "failed to start" as fatal, when the service cannot listen', async () => {
    const proc = new LoggedProcess(logged);
    const running = await runService(
      {
        name: 't',
        version: '0',
        schema,
        create: () => ({
          address: () => null,
          listen: () => Promise.reject(Object.assign(new Error('taken'), { code: 'EADDRINUSE' })),
          close: async () => {},
        }),
      },
      proc,
    );
    expect(await running!.exited).toBe(1);
    expect(proc.logs.find((l) => l.level === 'fatal')[0]).toMatchObject({
      msg: 'failed to start',
      err: { code: 'EADDRINUSE' },
    });
    expect(running!.readiness()).toBe('starting');
    await running!.admin.close();
  });
});

describe('runService admin limits', () => {
  it('caps the admin server at ADMIN_MAX_CONNECTIONS and counts refusals in /metrics', async () => {
    const proc = new FakeProcess({ ...env, ADMIN_MAX_CONNECTIONS: '2' });
    const running = await runService(
      { name: 't', version: '0', schema, create: () => tcpService([]) },
      proc,
    );
    const port = running!.admin.address()!.port;
    const open = (request: string) => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      socket.on('error', () => {});
      socket.write(request);
      let text = '';
      socket.on('data', (d: Buffer) => {
        text += d.toString('latin1');
      });
      return new Promise<{ socket: net.Socket; text: string }>((resolve) => {
        socket.once('data', () => setImmediate(() => resolve({ socket, text })));
        socket.once('close', () => resolve({ socket, text }));
      });
    };
    const held = await Promise.all(
      [1, 2].map(() => open('GET /livez HTTP/1.1\r\nHost: x\r\n\r\n')),
    );
    for (const { text } of held) expect(text).toMatch(/^HTTP\/1\.1 200 /);
    const refused = await open('GET /livez HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(refused.text).toBe('');
    const metrics = new Promise<string>((resolve) => {
      let text = '';
      held[0]!.socket.on('data', (d: Buffer) => {
        text += d.toString('latin1');
      });
      held[0]!.socket.once('close', () => resolve(text));
    });
    held[0]!.socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(await metrics).toContain('netlab_admin_connections_rejected_total{service="t"} 1');
    for (const { socket } of held) socket.destroy();
    proc.emit('SIGTERM', 'SIGTERM');
    expect(await running!.exited).toBe(0);
  });
});

describe('drain', () => {
  it('resolves as soon as the last connection closes on its own', async () => {
    const events: string[] = [];
    const service = tcpService(events);
    await service.listen();
    const client = net.connect(service.address()!.port, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
    const draining = drain(net.createServer(), service.connections, {
      timeoutMs: 60_000,
      logger: quiet,
    });
    client.end();
    expect(await draining).toEqual({ destroyed: 0 });
    await service.close({ timeoutMs: 0 });
  });

  it('destroys what is left at the deadline and says how many', async () => {
    const service = tcpService([]);
    await service.listen();
    const clients = await Promise.all(
      [1, 2].map(
        () =>
          new Promise<net.Socket>((resolve) => {
            const c = net.connect(service.address()!.port, '127.0.0.1', () => resolve(c));
          }),
      ),
    );
    await new Promise((r) => setImmediate(r));
    const expired: net.Socket[] = [];
    const result = await drain(net.createServer(), service.connections, {
      timeoutMs: 50,
      logger: quiet,
      onExpire: (s) => expired.push(s),
    });
    expect(result).toEqual({ destroyed: 2 });
    expect(expired).toHaveLength(2);
    for (const c of clients) c.destroy();
    await service.close({ timeoutMs: 0 });
  });
});

/** FakeProcess whose log lines land in memory instead of on stdout. */
class LoggedProcess extends FakeProcess {
  readonly logDestination = new LogCapture();
  get logs() {
    return this.logDestination;
  }
}

const logged = { PORT: '0', ADMIN_PORT: '0', HOST: '127.0.0.1' };

describe('runService logs', () => {
  it('a ready line with the bound address, port and admin port', async () => {
    const proc = new LoggedProcess(logged);
    const running = await runService(
      { name: 'svc', version: '0', schema, create: () => tcpService([]) },
      proc,
    );
    const port = running!.service.address()!.port;
    const adminPort = running!.admin.address()!.port;
    expect(proc.logs.lines).toHaveLength(1);
    expect(proc.logs.lines[0]).toMatchObject({
      level: 'info',
      service: 'svc',
      address: '127.0.0.1',
      port,
      adminPort,
      msg: `svc ready on port ${port}, admin on port ${adminPort}`,
    });
    proc.emit('SIGTERM', 'SIGTERM');
    expect(await running!.exited).toBe(0);
  });

  it('the drain (signal, deadline), then "stopped" as the last line', async () => {
    const proc = new LoggedProcess({ ...logged, SHUTDOWN_TIMEOUT_MS: '1234' });
    const running = await runService(
      { name: 'svc', version: '0', schema, create: () => tcpService([]) },
      proc,
    );
    proc.emit('SIGINT', 'SIGINT');
    expect(await running!.exited).toBe(0);
    expect(proc.logs.lines.slice(1).map((l) => l.msg)).toEqual([
      'shutting down: draining',
      'stopped',
    ]);
    expect(proc.logs.lines[1]).toMatchObject({ signal: 'SIGINT', timeoutMs: 1234 });
  });

  it('a second signal as a warning, and exits only once, with 1', async () => {
    const proc = new LoggedProcess({ ...logged, SHUTDOWN_TIMEOUT_MS: '60000' });
    const running = await runService(
      { name: 'svc', version: '0', schema, create: () => tcpService([]) },
      proc,
    );
    const client = net.connect(running!.service.address()!.port, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
    proc.emit('SIGTERM', 'SIGTERM');
    proc.emit('SIGTERM', 'SIGTERM');
    expect(await running!.exited).toBe(1);
    expect(proc.logs.find((l) => l.level === 'warn')).toEqual([
      expect.objectContaining({
        signal: 'SIGTERM',
        msg: 'second signal during shutdown: exiting now',
      }),
    ]);
    // The first drain still finishes; it must not exit a second time.
    client.destroy();
    await proc.logs.waitFor((l) => l.msg === 'stopped');
    await new Promise((r) => setImmediate(r)); // past the flush that precedes an exit
    expect(proc.exitCodes).toEqual([1]);
  });

  it.each([
    ['uncaughtException', 'uncaught exception'],
    ['unhandledRejection', 'unhandled promise rejection'],
  ])('%s as fatal ("%s", with the error), exit 1', async (event, msg) => {
    const proc = new LoggedProcess(logged);
    const running = await runService(
      { name: 'svc', version: '0', schema, create: () => tcpService([]) },
      proc,
    );
    proc.emit(event, Object.assign(new Error('boom'), { code: 'E_BOOM' }));
    expect(await running!.exited).toBe(1);
    expect(proc.logs.find((l) => l.level === 'fatal')).toEqual([
      expect.objectContaining({ msg, err: expect.objectContaining({ code: 'E_BOOM' }) }),
    ]);
    await running!.service.close({ timeoutMs: 0 });
    await running!.admin.close();
  });

  it('a drain that fails as fatal "shutdown failed", exit 1', async () => {
    const proc = new LoggedProcess(logged);
    const service = tcpService([]);
    const running = await runService(
      {
        name: 'svc',
        version: '0',
        schema,
        create: () => ({
          ...service,
          close: () => Promise.reject(Object.assign(new Error('stuck'), { code: 'E_STUCK' })),
        }),
      },
      proc,
    );
    proc.emit('SIGTERM', 'SIGTERM');
    expect(await running!.exited).toBe(1);
    expect(proc.logs.find((l) => l.level === 'fatal')[0]).toMatchObject({
      msg: 'shutdown failed',
      err: { code: 'E_STUCK' },
    });
    await service.close({ timeoutMs: 0 });
    await running!.admin.close();
  });
});

/** A port free a moment ago, for when a test must know the admin port before the ready line. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  const { port } = await listen(server, 0, '127.0.0.1');
  await new Promise((r) => server.close(r));
  return port;
}

describe('runService readiness', () => {
  it('is "starting" on /readyz while the service starts to listen, then "ready"', async () => {
    const adminPort = await freePort();
    const proc = new LoggedProcess({ ...logged, ADMIN_PORT: String(adminPort) });
    const readyz = async () => {
      const res = await fetch(`http://127.0.0.1:${adminPort}/readyz`);
      return [res.status, ((await res.json()) as { status: string }).status];
    };
    let during: unknown;
    const service = tcpService([]);
    const running = await runService(
      {
        name: 'svc',
        version: '0',
        schema,
        create: () => ({
          ...service,
          listen: async () => {
            during = await readyz();
            await service.listen();
          },
        }),
      },
      proc,
    );
    expect(during).toEqual([503, 'starting']);
    expect(await readyz()).toEqual([200, 'ready']);
    proc.emit('SIGTERM', 'SIGTERM');
    expect(await running!.exited).toBe(0);
  });

  it('never goes ready, nor listens, when stopped while the service is being created', async () => {
    const proc = new LoggedProcess(logged);
    const events: string[] = [];
    let created: (() => void) | undefined;
    const service = tcpService(events);
    const starting = runService(
      {
        name: 'svc',
        version: '0',
        schema,
        create: () =>
          new Promise<Service>((resolve) => {
            created = () => resolve(service);
          }),
      },
      proc,
    );
    await waitUntil(() => created !== undefined);
    proc.emit('SIGTERM', 'SIGTERM');
    created!();
    const running = await starting;
    expect(running!.readiness()).toBe('draining');
    expect(events).not.toContain('listen');
    expect(await running!.exited).toBe(0);
  });

  it('stays "draining" when stopped while the service is starting to listen', async () => {
    const proc = new LoggedProcess(logged);
    const service = tcpService([]);
    const running = await runService(
      {
        name: 'svc',
        version: '0',
        schema,
        create: () => ({
          ...service,
          listen: async () => {
            await service.listen();
            proc.emit('SIGTERM', 'SIGTERM');
          },
        }),
      },
      proc,
    );
    expect(running!.readiness()).toBe('draining');
    expect(await running!.exited).toBe(0);
  });

  it("serves the service's own metrics source on /metrics when it has one", async () => {
    const proc = new LoggedProcess(logged);
    const service = tcpService([]);
    const running = await runService(
      {
        name: 'svc',
        version: '0',
        schema,
        create: () => ({
          ...service,
          metrics: { contentType: 'text/plain', metrics: async () => 'netlab_merged 1\n' },
        }),
      },
      proc,
    );
    const res = await fetch(`http://127.0.0.1:${running!.admin.address()!.port}/metrics`);
    expect(await res.text()).toBe('netlab_merged 1\n');
    proc.emit('SIGTERM', 'SIGTERM');
    expect(await running!.exited).toBe(0);
  });
});
