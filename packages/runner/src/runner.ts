import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { AppInfo } from './apps.js';
import { LEVELS, type Level, levelOf, readyPorts } from './log-lines.js';
import { appsTable } from './table.js';

export interface RunnerApp extends AppInfo {
  /** Variables for this app alone (TLS_CERT_DIR), over the common env. */
  env?: Record<string, string>;
  /** The table's command, when it differs from `example` (certificate files). */
  tryIt?: string;
}

export interface RunnerOptions {
  apps: RunnerApp[];
  /** The environment every app inherits (PORT and ADMIN_PORT are set per app). */
  env: Record<string, string | undefined>;
  /** Lines printed after the table (where the certificates are). */
  notes?: string[];
  /** The --port-offset in use, for the hint when a port is taken. */
  portOffset?: number;
  /** Where the table, the prefixed logs and the runner's own messages go. */
  out: { write(text: string): unknown };
  color: boolean;
  readyTimeoutMs?: number;
}

interface Running {
  app: RunnerApp;
  child: ChildProcess;
  exited: Promise<number | null>;
  /** Resolves when the app's own "ready" line (from this child) names the ports it was given. */
  ready: Promise<void>;
  isReady: boolean;
  stderrTail: string[];
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const COLORS = [36, 33, 35, 32, 34, 91, 96];
const STDERR_TAIL = 20;

/**
 * Runs every app as its own process, the way `docker compose up` runs them as
 * containers: one failing app at start stops the rest (with the reason), and
 * a stop signal drains them all before the runner exits.
 */
export class Runner {
  readonly #opts: RunnerOptions;
  readonly #running: Running[] = [];
  #stopping: Promise<number> | undefined;
  /** An app failed to start or died: the runner exits 1 whatever the others do. */
  #failed = false;
  #resolveStopped: (code: number) => void = () => {};
  #width: number;

  /**
   * Resolves with the runner's exit code once every app has stopped, for
   * whatever reason: a signal, an app that failed to start, or one that died
   * later. 1 when any app failed or did not exit cleanly, else 0.
   */
  readonly stopped: Promise<number>;

  constructor(opts: RunnerOptions) {
    this.#opts = opts;
    this.stopped = new Promise((resolve) => {
      this.#resolveStopped = resolve;
    });
    this.#width = Math.max(...opts.apps.map((a) => a.name.length));
  }

  #prefix(app: AppInfo, index: number): string {
    const label = `${app.name.padEnd(this.#width)} │ `;
    return this.#opts.color ? `\x1b[${COLORS[index % COLORS.length]}m${label}\x1b[0m` : label;
  }

  #say(text: string): void {
    this.#opts.out.write(`netlab: ${text}\n`);
  }

  /**
   * A LOG_LEVEL above info would hide the apps' "ready" lines, which are how
   * the runner knows they listen: the apps then log at info, and the runner
   * drops what is below the level asked for.
   */
  #levels(): { child?: string; shown: number } {
    const asked = this.#opts.env.LOG_LEVEL;
    const index = LEVELS.indexOf(asked as Level);
    const info = LEVELS.indexOf('info');
    return index > info ? { child: 'info', shown: index } : { shown: 0 };
  }

  /** Starts every app and resolves once all are ready; rejects (after stopping the rest) if one is not. */
  async start(): Promise<void> {
    const levels = this.#levels();
    this.#opts.apps.forEach((app, index) => {
      const child = spawn(process.execPath, [app.main], {
        env: {
          LOG_FORMAT: 'pretty',
          ...(this.#opts.color ? { FORCE_COLOR: '1' } : {}),
          ...this.#opts.env,
          ...(levels.child ? { LOG_LEVEL: levels.child } : {}),
          ...app.env,
          PORT: String(app.port),
          ADMIN_PORT: String(app.adminPort),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        // Own process group: a Ctrl-C in the terminal reaches only the
        // runner, which then sends each app one SIGTERM. Otherwise every app
        // would get SIGINT from the terminal and then our SIGTERM — a second
        // signal, which means "exit now" rather than "drain".
        detached: true,
      });
      const prefix = this.#prefix(app, index);
      let markReady: () => void = () => {};
      const ready = new Promise<void>((resolve) => {
        markReady = resolve;
      });
      const stdout = createInterface({ input: child.stdout! }).on('line', (line) => {
        // Readiness from this child's own line, never from whatever answers
        // on the admin port: another process holding it would answer too.
        if (!running.isReady) {
          const ports = readyPorts(line, app.name, child.pid);
          if (ports && ports.port === app.port && ports.adminPort === app.adminPort) {
            running.isReady = true;
            markReady();
          }
        }
        const level = levelOf(line);
        if (level !== undefined && LEVELS.indexOf(level) < levels.shown) return;
        this.#opts.out.write(`${prefix}${line}\n`);
      });
      const stderr = createInterface({ input: child.stderr! }).on('line', (line) => {
        running.stderrTail.push(line);
        if (running.stderrTail.length > STDERR_TAIL) running.stderrTail.shift();
        this.#opts.out.write(`${prefix}${line}\n`);
      });
      const running: Running = {
        app,
        child,
        ready,
        isReady: false,
        stderrTail: [],
        // 'exit' can come before the last lines are read: the reason an app
        // gives for not starting (its stderr) would be missing from the
        // runner's message, and its last log lines lost when the runner exits.
        exited: Promise.all([
          once(child, 'exit'),
          once(stdout, 'close'),
          once(stderr, 'close'),
        ]).then(([[code]]) => code as number | null),
      };
      this.#running.push(running);
    });

    const failure = Promise.race(
      this.#running.map(async (r) => {
        const code = await r.exited;
        return { running: r, code };
      }),
    );
    const timeoutMs = this.#opts.readyTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<Running[]>((resolve) => {
      timer = setTimeout(() => resolve(this.#running.filter((r) => !r.isReady)), timeoutMs);
    });
    const first = await Promise.race([
      Promise.all(this.#running.map((r) => r.ready)).then(() => ({ kind: 'ready' as const })),
      failure.then((f) => ({ kind: 'exited' as const, ...f })),
      late.then((slow) => ({ kind: 'late' as const, slow })),
    ]);
    clearTimeout(timer);
    // Stopped (Ctrl-C) before every app was ready: the apps exiting is what
    // was asked for, not a failure to start.
    if (this.#stopping && !this.#failed) return;
    if (first.kind === 'exited') {
      const { running, code } = first;
      const why = running.stderrTail.length > 0 ? `:\n  ${running.stderrTail.join('\n  ')}` : '';
      this.#say(`${running.app.name} failed to start (exit code ${code})${why}`);
      if (running.stderrTail.some((l) => l.includes('(EADDRINUSE)'))) {
        const next = (this.#opts.portOffset ?? 0) + 100;
        this.#say(
          `another program has that port: start with --port-offset ${next} to shift every port by ${next}, or stop that program`,
        );
      }
    }
    if (first.kind === 'late') {
      const names = first.slow.map((r) => r.app.name).join(', ');
      this.#say(`${names} did not say it was ready within ${timeoutMs / 1000} s`);
    }
    if (first.kind !== 'ready') {
      this.#failed = true;
      await this.stop();
      throw new Error('an app failed to start');
    }
    const notes = (this.#opts.notes ?? []).map((n) => `netlab: ${n}\n`).join('');
    this.#opts.out.write(
      `\n${appsTable(this.#opts.apps)}\n\n${notes}netlab: ${plural(this.#opts.apps.length, 'app')} ready. Ctrl-C stops them all.\n\n`,
    );
    // From here on, an app that dies takes the others down with it, loudly.
    void failure.then(({ running, code }) => {
      if (this.#stopping) return;
      const how = code === null ? `killed by ${running.child.signalCode}` : `exit code ${code}`;
      this.#say(`${running.app.name} exited unexpectedly (${how}); stopping the others`);
      this.#failed = true;
      void this.stop();
    });
  }

  /**
   * Sends every app SIGTERM and waits for all to exit. Resolves with 0 when
   * all exited cleanly, else 1. A second call while stopping kills them.
   */
  stop(): Promise<number> {
    if (this.#stopping) {
      this.#say('second signal: killing every app now');
      for (const r of this.#running) this.#signal(r, 'SIGKILL');
      return this.#stopping;
    }
    this.#say('stopping every app (they drain first; Ctrl-C again to kill them)');
    for (const r of this.#running) this.#signal(r, 'SIGTERM');
    // Clean: exit 0 (drained), 78 (never started), or killed by our SIGTERM,
    // which only happens before the app has installed its handlers: it had
    // nothing to drain yet.
    const clean = (r: Running) =>
      r.exited.then((c) => c === 0 || c === 78 || (c === null && r.child.signalCode === 'SIGTERM'));
    this.#stopping = Promise.all(this.#running.map(clean)).then((cleanly) => {
      this.#say('all apps stopped');
      const code = !this.#failed && cleanly.every(Boolean) ? 0 : 1;
      this.#resolveStopped(code);
      return code;
    });
    return this.#stopping;
  }

  /** Last resort for when the runner itself is exiting: no app outlives it. */
  killAll(): void {
    for (const r of this.#running) this.#signal(r, 'SIGKILL');
  }

  #signal(r: Running, signal: NodeJS.Signals): void {
    if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill(signal);
  }
}
