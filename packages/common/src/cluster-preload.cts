// Loaded with `--require` into every cluster worker (createClusterPrimary
// adds it to the workers' execArgv), so it runs before the worker's own
// entry module: CommonJS, because `--require` runs synchronously, within
// Node's bootstrap, where an ES module preload (`--import`) would be too late.
//
// Why: the first thing a cluster worker does, inside Node's bootstrap, is
// tell the primary it is online. If the primary has just died (it gave up
// after a restart storm, crashed, was killed), that send fails with EPIPE,
// and Node emits the error on `cluster.worker` on the next tick, long
// before an ES module entry has run: with no listener it is thrown, a raw
// stack trace on stderr. Here it is one JSON log line instead; Node's own
// cluster code then exits the worker (code 0) on the 'disconnect' that
// follows. The listener stays for the worker's life: a send to a primary
// that dies later (a metrics answer in flight) fails the same way.
import type { Cluster } from 'node:cluster';

const cluster: Cluster = require('node:cluster');
const { hostname } = require('node:os');
const { writeSync } = require('node:fs');

/** The env variable the primary passes `{service, version}` in, for this line. */
const BINDINGS_VAR = 'NETLAB_WORKER_LOG_BINDINGS';

const worker = cluster.worker;
if (worker !== undefined) {
  worker.on('error', function primaryGone(err: NodeJS.ErrnoException) {
    let bindings: Record<string, unknown> = {};
    try {
      bindings = JSON.parse(process.env[BINDINGS_VAR] ?? '{}');
    } catch {
      // A line without service and version is still better than a stack trace.
    }
    const line = {
      level: 'warn',
      time: new Date().toISOString(),
      pid: process.pid,
      hostname: hostname(),
      ...bindings,
      worker: Number(process.env.NETLAB_WORKER_SLOT ?? 0),
      err: { type: err.name, message: err.message, code: err.code },
      msg: 'the primary is gone: exiting',
    };
    try {
      writeSync(1, `${JSON.stringify(line)}\n`);
    } catch {
      // stdout is gone too: nobody is left to tell.
    }
  });
}
