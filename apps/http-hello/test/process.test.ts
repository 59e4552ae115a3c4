import http from 'node:http';
import net from 'node:net';
import { expectConfigRefused, readyz, spawnApp, useApps, waitUntil } from '@netlab/testkit';
import { describe, expect, it } from 'vitest';
import { MAIN, scrape, startOnFifo } from './helpers.js';

const start = useApps(MAIN);

/** GET on a fresh connection (or `agent`'s); resolves with status, headers and body. */
function get(port: number, path: string, agent: http.Agent | false = false) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
    (resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path, agent }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => {
            body += d;
          });
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        })
        .on('error', reject);
    },
  );
}

function refused(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.on('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code));
  });
}

describe('the http-hello process', () => {
  it('drains on SIGTERM: the long /delay request completes, new connections are refused, exit 0', async () => {
    const app = await start({ SHUTDOWN_TIMEOUT_MS: '10000' });
    // Keep-alive, so the request does not ask for `Connection: close` itself.
    const agent = new http.Agent({ keepAlive: true });
    const slow = get(app.port, '/delay/1500', agent);
    await waitUntil(
      async () => (await scrape(app.adminPort, 'netlab_http_requests_in_flight')) === 1,
      {
        what: 'the /delay request to arrive',
      },
    );
    app.child.kill('SIGTERM');
    await app.logs.waitFor((l) => l.msg === 'shutting down: draining');
    expect(await readyz(app)).toBe(503);
    expect(await refused(app.port)).toBe('ECONNREFUSED');

    const res = await slow;
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ delayMs: 1500 });
    // Told to go away, since this server is about to.
    expect(res.headers.connection).toBe('close');
    agent.destroy();
    const { code } = await app.exited;
    expect(code).toBe(0);
    expect(app.logs.find((l) => l.path === '/delay/1500')[0]).toMatchObject({ status: 200 });
    expect(app.logs.lines.at(-1)?.msg).toBe('stopped');
  });

  it('closes idle keep-alive connections at once on SIGTERM', async () => {
    const app = await start({ SHUTDOWN_TIMEOUT_MS: '10000', KEEP_ALIVE_TIMEOUT_MS: '60000' });
    const agent = new http.Agent({ keepAlive: true });
    await new Promise((resolve) =>
      http.get(`http://127.0.0.1:${app.port}/`, { agent }, (res) =>
        res.resume().on('end', resolve),
      ),
    );
    app.child.kill('SIGTERM');
    const { code } = await app.exited;
    expect(code).toBe(0);
    // Closed, not waited for: the 10 s deadline never had to cut it.
    expect(app.logs.find((l) => l.msg === 'shutdown deadline passed: connections cut')).toEqual([]);
    agent.destroy();
  });

  it('cuts what is left at SHUTDOWN_TIMEOUT_MS and still exits 0', async () => {
    const app = await start({ SHUTDOWN_TIMEOUT_MS: '300' });
    const slow = get(app.port, '/delay/5000').catch((err: NodeJS.ErrnoException) => err.code);
    await waitUntil(
      async () => (await scrape(app.adminPort, 'netlab_http_requests_in_flight')) === 1,
    );
    app.child.kill('SIGTERM');
    expect(await slow).toBe('ECONNRESET');
    const { code } = await app.exited;
    expect(code).toBe(0);
    expect(
      app.logs.find((l) => l.msg === 'shutdown deadline passed: connections cut'),
    ).toHaveLength(1);
  });

  it.each([
    [{ PORT: 'abc' }, ['PORT: expected an integer 0-65535, got "abc"']],
    [{ MAX_BODY_BYTES: '-1', WORKERS: '0' }, ['MAX_BODY_BYTES:', 'WORKERS:']],
    [{ MAX_DELAY_MS: '1s', LOG_LEVEL: 'loud' }, ['LOG_LEVEL:', 'MAX_DELAY_MS:']],
  ])('refuses bad config %o with one line per variable and exit 78', async (env, expected) => {
    await expectConfigRefused(MAIN, env, expected);
  });

  it('exits 1 with a fatal log line when its port is taken', async () => {
    const first = await start();
    const second = spawnApp(MAIN, { PORT: String(first.port), ADMIN_PORT: '0', HOST: '127.0.0.1' });
    const { code } = await second.exited;
    expect(code).toBe(1);
    expect(second.logs.find((l) => l.level === 'fatal')[0]).toMatchObject({
      msg: 'failed to start',
      err: { code: 'EADDRINUSE' },
    });
  });
});

describe('with its stdout on a pipe', () => {
  it('keeps answering when the reader goes away (EPIPE), and says so once on stderr', async () => {
    const app = await startOnFifo({});
    app.stdout.destroy();
    for (let i = 0; i < 5; i++) expect((await get(app.port, '/')).status).toBe(200);
    await waitUntil(() => app.stderr().includes('logging stopped'), { what: 'the stderr note' });
    expect(app.stderr().match(/logging stopped/g)).toHaveLength(1);
    expect((await fetch(`http://127.0.0.1:${app.adminPort}/readyz`)).status).toBe(200);
    expect(app.child.exitCode).toBeNull();
  });
});

describe('WORKERS=2', () => {
  async function pidsAnswering(port: number, requests: number) {
    const pids = new Set<number>();
    for (let i = 0; i < requests; i++) pids.add(JSON.parse((await get(port, '/whoami')).body).pid);
    return pids;
  }

  it('answers /whoami from two different worker pids, replaces a killed worker, drains all on SIGTERM', async () => {
    const app = await start({ WORKERS: '2', SHUTDOWN_TIMEOUT_MS: '5000' });
    const pids = await pidsAnswering(app.port, 20);
    expect(pids.size).toBe(2);
    expect(pids.has(app.pid)).toBe(false); // the primary serves no HTTP
    expect(await scrape(app.adminPort, 'netlab_http_workers')).toBe(2);
    // The primary's /metrics sums every worker's requests.
    expect(await scrape(app.adminPort, 'netlab_http_requests_total', 'route="/whoami"')).toBe(20);

    const [victim] = [...pids];
    process.kill(victim!, 'SIGKILL');
    await app.logs.waitFor(
      (l) => l.msg === 'worker exited unexpectedly: starting a new one' && l.workerPid === victim,
    );
    await waitUntil(async () => (await scrape(app.adminPort, 'netlab_http_workers')) === 2, {
      what: 'a replacement worker',
    });
    const after = await pidsAnswering(app.port, 20);
    expect(after.size).toBe(2);
    expect(after.has(victim!)).toBe(false);
    expect(await scrape(app.adminPort, 'netlab_http_worker_restarts_total')).toBe(1);
    expect(await readyz(app)).toBe(200);

    app.child.kill('SIGTERM');
    const { code } = await app.exited;
    expect(code).toBe(0);
    for (const pid of after) expect(() => process.kill(pid, 0)).toThrow();
  });

  it('keeps every access log line whole while both workers write to one stdout pipe', async () => {
    // A real pipe, as under docker or `| jq` (Node's own child stdio is a
    // socket pair, where no write this size is ever split).
    const app = await startOnFifo({ WORKERS: '2' });
    // Stop reading for a while: once the pipe is full, the workers' writes
    // block part-way, which is when a write bigger than PIPE_BUF gets split
    // and another worker's lines land in the middle of it. Long paths fill a
    // batch in a few lines; 32 connections keep both workers writing.
    app.stdout.pause();
    setTimeout(() => app.stdout.resume(), 500);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
    const path = `/${'p'.repeat(1500)}`;
    const total = 2000;
    let sent = 0;
    const client = async () => {
      while (sent < total) {
        sent++;
        await new Promise<void>((resolve, reject) => {
          http
            .get({ host: '127.0.0.1', port: app.port, path, agent }, (res) => {
              res.resume().on('end', resolve);
            })
            .on('error', reject);
        });
      }
    };
    await Promise.all(Array.from({ length: 32 }, client));
    agent.destroy();
    // Every line is out once the app has drained and exited.
    app.child.kill('SIGTERM');
    await app.closed;
    expect(app.logs.find((l) => l.unparsed === true)).toEqual([]);
    const requests = app.logs.find((l) => l.msg === 'request');
    expect(requests).toHaveLength(total);
    expect(new Set(requests.map((l) => l.pid)).size).toBe(2);
  });

  it('gives up with exit 1 when workers crash more than WORKER_MAX_RESTARTS times', async () => {
    const app = await start({ WORKERS: '2', WORKER_MAX_RESTARTS: '1' });
    const pids = [...(await pidsAnswering(app.port, 10))];
    process.kill(pids[0]!, 'SIGKILL');
    await app.logs.waitFor((l) => l.msg === 'worker exited unexpectedly: starting a new one');
    process.kill(pids[1]!, 'SIGKILL');
    const { code } = await app.exited;
    expect(code).toBe(1);
    expect(app.logs.find((l) => l.level === 'fatal')[0]).toMatchObject({
      err: { code: 'NETLAB_ERR_RESTART_STORM' },
    });
  });
});
