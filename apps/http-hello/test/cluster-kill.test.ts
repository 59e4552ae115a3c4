import { execFileSync } from 'node:child_process';
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
