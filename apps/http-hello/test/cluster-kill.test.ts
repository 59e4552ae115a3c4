import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { useApps, waitUntil } from '@netlab/testkit';
import { describe, expect, it } from 'vitest';
import { MAIN, scrape } from './helpers.js';

const start = useApps(MAIN);

/** Connections to `port` in CLOSE-WAIT: the client has closed, the server never did. */
function closeWait(port: number): string[] {
  const out = execFileSync('ss', ['-Htn', 'state', 'close-wait', `( sport = :${port} )`], {
    encoding: 'utf8',
  });
  return out.split('\n').filter((l) => l.trim() !== '');
}

/** The primary's children: its workers. */
function workerPids(primary: number): number[] {
  const out = execFileSync('pgrep', ['-P', String(primary)], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean).map(Number);
}

/**
 * `clients` loops, each sending GET / on a fresh connection (the primary
 * hands every new connection to a worker) until `stop()`; a request left
 * unanswered is abandoned after `timeoutMs`, as a load tester would.
 */
function load(port: number, clients: number, timeoutMs: number) {
  let running = true;
  let answered = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        res.resume().on('end', () => {
          answered++;
          resolve();
        });
      });
      req.setTimeout(timeoutMs, () => req.destroy());
      req.on('error', () => resolve());
      req.on('close', () => resolve());
    });
  const loops = Array.from({ length: clients }, async () => {
    // Bounded: at most this many requests per client, whatever happens.
    for (let i = 0; running && i < 5000; i++) await one();
  });
  return {
    answered: () => answered,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe('WORKERS=2', () => {
  it('says in its ready line the address the workers listen on (:: with HOST unset)', async () => {
    const app = await start({ WORKERS: '2', HOST: '' });
    const ready = await app.logs.waitFor((l) => typeof l.adminPort === 'number');
    expect(ready.address).toBe('::');
  });
});

describe('WORKERS=2, a worker killed under load', () => {
  it('leaves no connection in CLOSE-WAIT in the primary', async () => {
    const app = await start({ WORKERS: '2', WORKER_MAX_RESTARTS: '10' });
    const traffic = load(app.port, 32, 1000);
    const killed = new Set<number>();
    try {
      // One kill can miss the moment a connection is in flight to the
      // victim; three (each under steady load) practically never do.
      for (let kill = 1; kill <= 3; kill++) {
        const before = traffic.answered();
        await waitUntil(() => traffic.answered() > before + 200, { what: 'traffic' });
        const victim = workerPids(app.pid).find((pid) => !killed.has(pid))!;
        killed.add(victim);
        process.kill(victim, 'SIGKILL');
        await waitUntil(
          async () =>
            (await scrape(app.adminPort, 'netlab_http_worker_restarts_total')) === kill &&
            (await scrape(app.adminPort, 'netlab_http_workers')) === 2,
          { what: `replacement worker ${kill}` },
        );
      }
    } finally {
      await traffic.stop();
    }
    // Every client has closed its side by now; whatever the server still
    // holds open to them would sit in CLOSE-WAIT until the process exits.
    await waitUntil(() => closeWait(app.port).length === 0, {
      timeoutMs: 5000,
      what: 'no CLOSE-WAIT connections',
    }).catch(() => {});
    expect(closeWait(app.port)).toEqual([]);
  });
});

/** Every value the `worker` label takes in a running process's /metrics. */
async function workerLabels(adminPort: number): Promise<string[]> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const values = new Set<string>();
  for (const match of text.matchAll(/[{,]worker="([^"]*)"/g)) values.add(match[1]!);
  return [...values].sort();
}

describe('WORKERS=2, /metrics across worker restarts', () => {
  it('never lowers a counter when a worker is killed, and labels workers by slot: exactly {0, 1} after 3 restarts', async () => {
    const app = await start({ WORKERS: '2', WORKER_MAX_RESTARTS: '10' });
    const total = () => scrape(app.adminPort, 'netlab_http_requests_total');
    let expected = 0;
    for (let kill = 1; kill <= 3; kill++) {
      // Both workers answer (fresh connections go round-robin); the victim
      // is one that has counted requests.
      const served = new Set<number>();
      for (let i = 0; i < 6; i++) {
        const res = await fetch(`http://127.0.0.1:${app.port}/whoami`, {
          headers: { connection: 'close' },
        });
        served.add(((await res.json()) as { pid: number }).pid);
        expected++;
      }
      // The primary knows a worker's counts from its scrapes: this one is
      // what Prometheus would have seen just before the kill.
      await waitUntil(async () => (await total()) === expected, { what: `${expected} requests` });
      const victim = [...served].find((pid) => workerPids(app.pid).includes(pid))!;
      process.kill(victim, 'SIGKILL');
      await waitUntil(
        async () =>
          (await scrape(app.adminPort, 'netlab_http_worker_restarts_total')) === kill &&
          (await scrape(app.adminPort, 'netlab_http_workers')) === 2,
        { what: `replacement worker ${kill}` },
      );
      expect(await total()).toBe(expected);
    }
    expect(await workerLabels(app.adminPort)).toEqual(['0', '1']);
  });
});

describe('WORKERS=2, giving up while a replacement worker starts', () => {
  it('writes only JSON lines: no EPIPE stack trace from the worker left starting', async () => {
    const app = await start({ WORKERS: '2', WORKER_MAX_RESTARTS: '1' });
    const [first, second] = workerPids(app.pid);
    process.kill(first!, 'SIGKILL');
    // The replacement is forked as this line is written; the second crash
    // makes the primary give up while it is still starting.
    await app.logs.waitFor((l) => l.msg === 'worker exited unexpectedly: starting a new one');
    process.kill(second!, 'SIGKILL');
    const { code } = await app.exited;
    expect(code).toBe(1);
    // Every process that shared the primary's stderr has closed it by now.
    if (!app.child.stderr!.readableEnded) await once(app.child.stderr!, 'end');
    expect(app.stderr()).toBe('');
    expect(app.logs.find((l) => l.unparsed === true)).toEqual([]);
    expect(app.logs.find((l) => l.level === 'fatal')[0]).toMatchObject({
      err: { code: 'NETLAB_ERR_RESTART_STORM' },
    });
  });
});
