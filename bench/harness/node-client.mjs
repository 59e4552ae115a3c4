import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Runs a load client from bench/clients/ in its own process (so it does not
 * share an event loop with the harness) and returns the JSON object it prints
 * as its last stdout line. `pinned`: on CPU 0 like the HTTP load generator
 * (ctx.pinning, see pin.mjs), for a client whose pace sets the result.
 */
export async function runNodeClient(
  ctx,
  script,
  args,
  timeoutMs = 120_000,
  { pinned = false } = {},
) {
  const path = join(ctx.benchDir, 'clients', script);
  const [command, commandArgs] = pinned
    ? ctx.pinning.wrap(process.execPath, [path, ...args])
    : [process.execPath, [path, ...args]];
  let stdout;
  try {
    ({ stdout } = await run(command, commandArgs, {
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    }));
  } catch (error) {
    const why = error.killed ? `timed out after ${timeoutMs} ms` : `exit ${error.code}`;
    throw new Error(`client ${script} failed (${why}):\n${(error.stderr ?? '').trim()}`);
  }
  const last = stdout.trim().split('\n').at(-1);
  return JSON.parse(last);
}
