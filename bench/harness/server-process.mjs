import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const live = new Set();

// A harness that dies must not leave servers behind. Each server leads its own
// process group (detached), so this reaches its forked children too, and only them.
process.on('exit', () => {
  for (const server of live) {
    try {
      process.kill(-server.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/**
 * Starts a server process and resolves once `ready()` succeeds.
 * stdout goes to /dev/null through a file descriptor: a pipe read by this
 * process would throttle a server that logs every request. stderr goes to a
 * file so a crash can be reported with its last lines.
 */
export async function startServer({ name, command, args = [], env = {}, cwd, tmpDir, ready }) {
  const stderrPath = join(tmpDir, `${name}.${Date.now()}.stderr`);
  const devNull = openSync('/dev/null', 'w');
  const errFd = openSync(stderrPath, 'w');
  let child;
  try {
    child = spawn(command, args, {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', devNull, errFd],
      detached: true,
    });
  } finally {
    closeSync(devNull);
    closeSync(errFd);
  }
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
  });
  const server = {
    name,
    pid: child.pid,
    exited,
    running: true,
    stderrTail: () => tail(stderrPath),
    stop: () => stopServer(server),
  };
  live.add(server);
  exited.then(() => {
    server.running = false;
    live.delete(server);
  });
  try {
    await Promise.race([
      ready(),
      exited.then(({ code, signal, error }) => {
        throw new Error(
          `${name} exited before it was ready (${error?.message ?? `code ${code}, signal ${signal}`})` +
            `\n${server.stderrTail()}`,
        );
      }),
    ]);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

/** SIGTERM, wait for exit, SIGKILL after `graceMs`; always to this server's own group. */
export async function stopServer(server, graceMs = 5000) {
  if (!server.running) return server.exited;
  signalGroup(server.pid, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(server.pid, 'SIGKILL'), graceMs);
  const result = await server.exited;
  clearTimeout(timer);
  // Children of a forking server (the C echo) may outlive their parent.
  signalGroup(server.pid, 'SIGKILL');
  return result;
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already empty
  }
}

function tail(path, lines = 15) {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Polls `probe` until it resolves true, or throws after `timeoutMs`. */
export async function waitUntil(what, probe, timeoutMs = 15_000, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** True when a TCP connection to host:port is accepted. */
export function tcpAccepts(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** The status code of GET url (no keep-alive), or 0 on a connection error. */
export function httpStatus(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', () => resolve(0));
    req.once('timeout', () => req.destroy());
  });
}
