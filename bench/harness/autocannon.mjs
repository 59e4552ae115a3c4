import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const require = createRequire(import.meta.url);

/** autocannon's package directory, or null when it is not installed. */
function autocannonDir() {
  try {
    return dirname(require.resolve('autocannon/package.json'));
  } catch {
    return null;
  }
}

/** A skip reason when autocannon is not installed, else null. */
export function autocannonMissing() {
  return autocannonDir() ? null : 'autocannon not installed (pnpm install)';
}

/** e.g. "autocannon 9.0.0". */
export function autocannonVersion() {
  return `autocannon ${require('autocannon/package.json').version}`;
}

/**
 * Runs `autocannon -c<connections> -d<seconds> -j <url>` in its own process
 * (never in the harness's event loop) and reads its JSON report. Latencies in
 * ms; autocannon measures them in whole milliseconds. `wrap`: as in wrk.mjs.
 */
export async function runAutocannon({
  url,
  connections = 64,
  seconds = 5,
  headers = {},
  wrap = (cmd, args) => [cmd, args],
}) {
  const bin = join(autocannonDir(), 'autocannon.js');
  const [cmd, args] = wrap(process.execPath, [
    bin,
    `-c${connections}`,
    `-d${seconds}`,
    ...Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}=${value}`]),
    '-j',
    url,
  ]);
  const { stdout } = await run(cmd, args, {
    timeout: (seconds + 30) * 1000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const report = JSON.parse(stdout);
  const elapsedS = (Date.parse(report.finish) - Date.parse(report.start)) / 1000;
  const requests = report.requests.total;
  if (!requests) throw new Error(`autocannon made no request:\n${stdout}`);
  return {
    reqPerSec: requests / elapsedS,
    latencyP50Ms: report.latency.p50,
    latencyP99Ms: report.latency.p99,
    requests,
    errors: report.errors + report.timeouts + report.non2xx,
  };
}
