import { readFile } from 'node:fs/promises';
import { procStatusBytes, type ReadyApp, waitUntil } from '@netlab/testkit';
import { expect } from 'vitest';

/** The pids of `pid`'s children (a primary's cluster workers). */
export async function childrenOf(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return text.split(/\s+/).filter(Boolean).map(Number).sort();
}

/** Resident memory of `app` and its workers, in bytes. */
export async function rss(app: ReadyApp): Promise<number> {
  let total = await procStatusBytes(app.pid, 'VmRSS');
  for (const child of await childrenOf(app.pid)) {
    total += await procStatusBytes(child, 'VmRSS').catch(() => 0);
  }
  return total;
}

const alive = (app: ReadyApp) => app.child.exitCode === null && app.child.signalCode === null;

/** GET /livez on the admin port: its status, or 0 when nothing answered within 5 s. */
export function livez(app: ReadyApp): Promise<number> {
  return fetch(`http://127.0.0.1:${app.adminPort}/livez`, {
    signal: AbortSignal.timeout(5000),
  }).then(
    (r) => r.status,
    () => 0,
  );
}

/**
 * Fails at once if `app` exits while `attack` runs (the old pipelining
 * crash killed the process a header deadline after the attack started).
 */
export async function survives<T>(app: ReadyApp, attack: Promise<T>): Promise<T> {
  const died = app.exited.then(({ code, signal }) => {
    throw new Error(
      `the process exited (code ${code}, signal ${signal}) under attack:\n${app.stderr()}\n${app.logs.dump().slice(-4000)}`,
    );
  });
  died.catch(() => {});
  return Promise.race([attack, died]);
}

/**
 * What every case asserts after its attack: the process (and its workers)
 * still run, /livez answers 200, and resident memory comes back within
 * `boundBytes` of `baseline` (polled: freed memory goes back to the OS
 * after a collection, not at once).
 */
export async function expectHealthy(
  app: ReadyApp,
  baseline: number,
  boundBytes: number,
  workers?: number[],
): Promise<void> {
  expect(alive(app)).toBe(true);
  expect(await livez(app)).toBe(200);
  if (workers !== undefined) expect(await childrenOf(app.pid)).toEqual(workers);
  let last = 0;
  await waitUntil(
    async () => {
      last = await rss(app);
      return last <= baseline + boundBytes;
    },
    {
      // Generous: on a loaded machine the backlog takes a while to unwind.
      timeoutMs: 30_000,
      intervalMs: 250,
      what: () =>
        `RSS back within ${boundBytes >> 20} MiB of ${baseline >> 20} MiB (now ${last >> 20} MiB)`,
    },
  );
  expect(alive(app)).toBe(true);
  // NETLAB_HOSTILE_REPORT=1: the figures the root README's security notes quote.
  if (process.env.NETLAB_HOSTILE_REPORT && workers === undefined) {
    const peak = await procStatusBytes(app.pid, 'VmHWM');
    console.log(
      `[hostile] ${expect.getState().currentTestName}: baseline ${baseline >> 20} MiB, peak ${peak >> 20} MiB, after ${last >> 20} MiB`,
    );
  }
}
