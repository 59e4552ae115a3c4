import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { LogCapture, type LogLine } from './log-capture.js';

export interface SpawnedApp {
  child: ChildProcess;
  pid: number;
  logs: LogCapture;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Resolves when the process has exited and everything it logged is in `logs`. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends SIGKILL if it is still running (for after-hooks). */
  kill(): void;
}

export interface ReadyApp extends SpawnedApp {
  port: number;
  adminPort: number;
}

/**
 * Starts a real app process (`node <main>`) with `env` on top of a minimal
 * environment, JSON logs parsed into `logs`. Lifecycle tests use this: it is
 * the only way to test signals, exit codes and real memory.
 */
export function spawnApp(main: string, env: Record<string, string>): SpawnedApp {
  const child = spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH ?? '', LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { logs, closed } = captureLogs(child.stdout!);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  // 'exit' can come before the last of stdout is read (a test would then
  // miss the lines a process writes as it stops): wait for both.
  const exited = Promise.all([once(child, 'exit'), closed]).then(([[code, signal]]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  return {
    child,
    pid: child.pid!,
    logs,
    stderr: () => stderr,
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** spawnApp, then waits for the lifecycle's ready line and reads the bound ports from it. */
export async function startApp(
  main: string,
  env: Record<string, string> = {},
  timeoutMs = 15_000,
): Promise<ReadyApp> {
  const app = spawnApp(main, { PORT: '0', ADMIN_PORT: '0', ...env });
  const ready = app.logs.waitFor((l) => typeof l.adminPort === 'number', timeoutMs);
  const early = app.exited.then(({ code }) => {
    throw new Error(`app exited with ${code} before ready:\n${app.stderr()}\n${app.logs.dump()}`);
  });
  early.catch(() => {});
  // An app that never says it is ready is killed here: the caller gets no
  // handle to it, so nobody else would.
  const line = await Promise.race([ready, early]).catch((err: unknown) => {
    app.kill();
    throw err;
  });
  return { ...app, port: line.port as number, adminPort: line.adminPort as number };
}

/**
 * Reads JSON log lines from `input` into a LogCapture; a line that is not
 * JSON is kept as `{ msg, unparsed: true }`. `closed` resolves at the end of
 * the input.
 */
export function captureLogs(input: Readable): { logs: LogCapture; closed: Promise<unknown> } {
  const logs = new LogCapture();
  const lines = createInterface({ input });
  const closed = once(lines, 'close');
  lines.on('line', (line) => {
    try {
      logs.push_(JSON.parse(line) as LogLine);
    } catch {
      logs.push_({ msg: line, unparsed: true });
    }
  });
  return { logs, closed };
}
