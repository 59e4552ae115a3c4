#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { discoverApps } from './apps.js';
import { Runner } from './runner.js';
import { withTlsFiles } from './tls-files.js';

const USAGE = `usage: netlab [--port-offset N] [--only app1,app2]

Starts every app under apps/ with its documented defaults, prints where to
reach each with a command to try, and streams their logs. Ctrl-C or SIGTERM
drains and stops them all. Environment variables (LOG_LEVEL, LOG_FORMAT, …)
pass through to every app.

  --port-offset N   add N to every port (when the defaults are taken)
  --only a,b        start only these apps
`;

function parseCli() {
  try {
    return parseArgs({
      // `npm start -- --x` style calls hand us a literal `--` first.
      args: process.argv.slice(2).filter((arg, i) => !(i === 0 && arg === '--')),
      options: {
        'port-offset': { type: 'string', default: '0' },
        only: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    process.exit(78);
  }
}

const values = parseCli();
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const offset = Number(values['port-offset']);
if (!Number.isInteger(offset) || offset < 0 || offset > 50_000) {
  process.stderr.write(
    `--port-offset: expected an integer 0-50000, got "${values['port-offset']}"\n`,
  );
  process.exit(78);
}

const root = fileURLToPath(new URL('../../../', import.meta.url));
let apps = await discoverApps(root, offset);
if (values.only) {
  const wanted = new Set(values.only.split(','));
  const unknown = [...wanted].filter((name) => !apps.some((a) => a.name === name));
  if (unknown.length > 0) {
    process.stderr.write(
      `--only: no such app: ${unknown.join(', ')} (have: ${apps.map((a) => a.name).join(', ')})\n`,
    );
    process.exit(78);
  }
  apps = apps.filter((a) => wanted.has(a.name));
}

const { apps: runnerApps, notes: certNotes } = withTlsFiles(apps, root, process.env, process.cwd());

const runner = new Runner({
  apps: runnerApps,
  notes: certNotes,
  portOffset: offset,
  env: process.env,
  out: process.stdout,
  color: process.stdout.isTTY === true,
});
// Under `pnpm start` one Ctrl-C arrives twice: from the terminal (the
// runner is in its foreground process group) and from pnpm, which passes
// SIGINT on to its script. Only a signal that comes later is a second one.
const SAME_SIGNAL_MS = 500;
let lastSignal = 0;
const stop = () => {
  const now = Date.now();
  const echo = now - lastSignal < SAME_SIGNAL_MS;
  lastSignal = now;
  if (!echo) void runner.stop();
};
// However the apps came to stop (a signal, one that died), exit when they all have.
void runner.stopped.then((code) => process.exit(code));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
// A closed terminal: the apps live in their own process groups, so nobody
// else would tell them.
process.on('SIGHUP', stop);
process.on('exit', () => runner.killAll());
// Whoever read our output is gone (`pnpm start | head`): stop the apps as
// Ctrl-C would and leave quietly, instead of dying on an unhandled EPIPE.
// Every later write fails too, and is ignored.
let outputGone = false;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (outputGone) return;
  if (err.code !== 'EPIPE') throw err;
  outputGone = true;
  stop();
});

try {
  await runner.start();
} catch {
  process.exit(1);
}
