import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { which } from './which.mjs';

const run = promisify(execFile);

/** A skip reason when h2load is not installed, else null. */
export function h2loadMissing() {
  return which('h2load') ? null : 'h2load not installed (apt-get install nghttp2-client)';
}

/**
 * Runs `h2load -t1 -c<connections> -m<streams> -D<seconds> <url>`: HTTP/2 over
 * TLS (ALPN h2), `streams` requests in flight per connection, and parses
 * its report. h2load does not verify the certificate. `wrap`: as in wrk.mjs.
 */
export async function runH2load({
  url,
  connections = 64,
  streams = 1,
  seconds = 5,
  wrap = (cmd, args) => [cmd, args],
}) {
  const [cmd, args] = wrap(which('h2load'), [
    '-t1',
    `-c${connections}`,
    `-m${streams}`,
    `-D${seconds}`,
    url,
  ]);
  const { stdout } = await run(cmd, args, { timeout: (seconds + 30) * 1000 });
  return parseH2load(stdout);
}

/** Parses h2load's text report. */
export function parseH2load(text) {
  const rate = text.match(/^finished in [\d.]+m?s, ([\d.]+) req\/s/m);
  const counts = text.match(
    /^requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/m,
  );
  const protocol = text.match(/^Application protocol: (\S+)/m);
  if (!rate || !counts) throw new Error(`cannot read h2load's report:\n${text}`);
  if (protocol?.[1] !== 'h2') throw new Error(`h2load did not negotiate h2:\n${text}`);
  const done = Number(counts[2]);
  if (!done) throw new Error(`h2load made no request:\n${text}`);
  return {
    reqPerSec: Number(rate[1]),
    requests: done,
    errors: Number(counts[4]) + Number(counts[5]),
  };
}
