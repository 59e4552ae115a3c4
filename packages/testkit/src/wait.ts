import { readFile } from 'node:fs/promises';

/**
 * Polls `check` until it returns a truthy value or the deadline passes; never
 * a fixed sleep. `what` names the wait in the timeout error; pass a function
 * when it describes state (output so far) that must be read at the timeout,
 * not when the wait starts.
 */
export async function waitUntil<T>(
  check: () => T | Promise<T>,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string | (() => string) } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const what = typeof opts.what === 'function' ? opts.what() : (opts.what ?? 'condition');
      throw new Error(`timed out waiting for ${what}`, { cause: last });
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 25));
  }
}

/** A field of /proc/<pid>/status in bytes, e.g. VmRSS (resident now) or VmHWM (peak resident). */
export async function procStatusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  if (!match) throw new Error(`${field} not in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}
