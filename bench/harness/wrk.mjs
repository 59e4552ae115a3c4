import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { which } from './which.mjs';

const run = promisify(execFile);

/** A skip reason when wrk is not installed, else null. */
export function wrkMissing() {
  return which('wrk') ? null : 'wrk not installed (apt-get install wrk)';
}

/** wrk's version line, e.g. "wrk debian/4.1.0-3+b2 [epoll]". */
export async function wrkVersion() {
  // `wrk -v` prints its version and usage, then exits 1.
  const out = await run(which('wrk'), ['-v']).catch((error) => error);
  const text = `${out.stdout ?? ''}${out.stderr ?? ''}`;
  return text
    .split('\n')[0]
    .replace(/\s+Copyright.*$/, '')
    .trim();
}

/**
 * Runs `wrk -t<threads> -c<connections> -d<seconds>s --latency [-H header] <url>` and parses it.
 * `wrap` may put a command in front (taskset: see pin.mjs).
 */
export async function runWrk({
  url,
  threads = 1,
  connections = 64,
  seconds = 5,
  headers = {},
  wrap = (cmd, args) => [cmd, args],
}) {
  const [cmd, args] = wrap(which('wrk'), [
    `-t${threads}`,
    `-c${connections}`,
    `-d${seconds}s`,
    '--latency',
    ...Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]),
    url,
  ]);
  const { stdout } = await run(cmd, args, { timeout: (seconds + 30) * 1000 });
  const result = parseWrk(stdout);
  if (!result.requests) throw new Error(`wrk made no request:\n${stdout}`);
  return result;
}

const unitMs = { us: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses wrk's text report (with --latency). Latencies in ms. */
export function parseWrk(text) {
  const num = (re) => {
    const m = text.match(re);
    return m ? Number(m[1]) : null;
  };
  const latency = (pct) => {
    const m = text.match(new RegExp(`^\\s*${pct}%\\s+([\\d.]+)(us|ms|s|m|h)\\s*$`, 'm'));
    return m ? Number(m[1]) * unitMs[m[2]] : null;
  };
  const sock = text.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  const socketErrors = sock ? sock.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    reqPerSec: num(/^Requests\/sec:\s+([\d.]+)/m),
    latencyP50Ms: latency(50),
    latencyP99Ms: latency(99),
    requests: num(/^\s*(\d+) requests in/m),
    errors: socketErrors + (num(/Non-2xx or 3xx responses:\s+(\d+)/) ?? 0),
  };
}
