import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { waitUntil } from '@netlab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { discoverApps } from '../src/apps.js';
import { formatTable } from '../src/table.js';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/**
 * A random port offset that keeps every app's ports (the ones discovered now,
 * so apps added later count too) outside the kernel's ephemeral port range,
 * where the client sockets of tests running at the same time get their
 * ports and would take ours; and above 10000, clear of a developer's stack
 * running on the defaults.
 */
async function offset(): Promise<number> {
  const [low, high] = ephemeralRange();
  const ports = (await discoverApps(ROOT)).flatMap((a) => [a.port, a.adminPort]);
  const fits = (o: number) =>
    ports.every((p) => p + o > 10_000 && p + o <= 65_535 && (p + o < low || p + o > high));
  // The runner takes offsets up to 50000.
  const candidates = Array.from({ length: 50_001 }, (_, o) => o).filter(fits);
  if (candidates.length === 0) {
    throw new Error(`no port offset puts ports ${ports.join(', ')} outside ${low}-${high}`);
  }
  return candidates[Math.floor(Math.random() * candidates.length)]!;
}

function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low !== undefined && high !== undefined) return [low, high];
  } catch {
    // not Linux: use Linux's default
  }
  return [32_768, 60_999];
}

let child: ChildProcess | undefined;
afterEach(async () => {
  // SIGTERM, not SIGKILL: the apps run in their own process groups, and only
  // the runner can stop them; a killed runner would leave them orphaned.
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }
  child = undefined;
});

function runCli(args: string[], env: Record<string, string> = {}) {
  child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  // 'close', not 'exit': the last of the output may still be unread at 'exit'.
  const exited = once(child, 'close').then(([code]) => code as number);
  return { child, output: () => out, exited };
}

/** runCli with a port offset, once every app is ready and the table is out. */
async function runReady(portOffset: number) {
  const run = runCli(['--port-offset', String(portOffset)]);
  await waitUntil(() => /apps? ready\. Ctrl-C stops them all/.test(run.output()), {
    timeoutMs: 30_000,
    what: () => `the ready table; output so far:\n${run.output()}`,
  });
  return run;
}

describe('discoverApps', () => {
  it('finds every app with its documented ports, shifted by the offset', async () => {
    const apps = await discoverApps(ROOT, 5);
    const echo = apps.find((a) => a.name === 'tcp-echo');
    expect(echo).toMatchObject({ protocol: 'tcp', port: 7005, adminPort: 9005 });
    expect(echo!.example).toBe("printf 'hello\\n' | nc -N 127.0.0.1 7005");
  });
});

describe('formatTable', () => {
  it('pads every column but the last to its widest cell', () => {
    expect(formatTable(['a', 'bb'], [['xyz', 'q']])).toBe('a    bb\n---  --\nxyz  q');
  });
});

describe('netlab runner (the README start command)', () => {
  it('starts every app, prints a table whose commands work, and stops them all on SIGTERM', async () => {
    const o = await offset();
    const run = await runReady(o);
    const apps = await discoverApps(ROOT, o);
    for (const app of apps) {
      const row = run
        .output()
        .split('\n')
        .find((l) => l.startsWith(`${app.name} `) && !l.includes('│'));
      expect(row, `table row for ${app.name}`).toContain(`127.0.0.1:${app.port}`);
      expect(row).toContain(app.example);
      expect((await fetch(`http://127.0.0.1:${app.adminPort}/readyz`)).status).toBe(200);
    }
    const echo = apps.find((a) => a.name === 'tcp-echo')!;
    const { stdout } = await exec('bash', ['-c', echo.example], { timeout: 5000 });
    expect(stdout).toBe('hello\n');
    // Logs stream through, prefixed by the app's name.
    await waitUntil(() => /^tcp-echo\s+│ .*connection closed/m.test(run.output()));

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain('netlab: all apps stopped');
    const refused = await fetch(`http://127.0.0.1:${echo.adminPort}/livez`).catch((e: Error) => e);
    expect(refused).toBeInstanceOf(Error);
  }, 60_000);

  it('stops every app and exits 0 when its own output is gone (`pnpm start | head`)', async () => {
    const o = await offset();
    const run = await runReady(o);
    const apps = await discoverApps(ROOT, o);
    const hello = apps.find((a) => a.name === 'http-hello')!;
    run.child.stdout!.destroy();
    // A request makes the app log a line, which the runner fails to pass on.
    expect((await fetch(`http://127.0.0.1:${hello.port}/`)).status).toBe(200);
    expect(await run.exited).toBe(0);
    expect(run.output()).not.toContain('Unhandled');
    for (const app of apps) {
      const refused = await fetch(`http://127.0.0.1:${app.adminPort}/livez`).catch((e: Error) => e);
      expect(refused).toBeInstanceOf(Error);
    }
  }, 60_000);

  it('when an app dies after start, names it, stops the others and exits 1', async () => {
    const o = await offset();
    const run = runCli(['--port-offset', String(o)], { LOG_FORMAT: 'json' });
    await waitUntil(() => /apps? ready\. Ctrl-C stops them all/.test(run.output()), {
      timeoutMs: 30_000,
      what: () => `the ready table; output so far:\n${run.output()}`,
    });
    const ready = /^tcp-echo\s+│ (\{.*"adminPort".*\})$/m.exec(run.output());
    const { pid } = JSON.parse(ready![1]!) as { pid: number };
    process.kill(pid, 'SIGKILL');
    await waitUntil(() => run.child.exitCode !== null, {
      timeoutMs: 20_000,
      what: () => `the runner to exit; output so far:\n${run.output()}`,
    });
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain(
      'netlab: tcp-echo exited unexpectedly (killed by SIGKILL); stopping the others',
    );
    expect(run.output()).toContain('netlab: all apps stopped');
    for (const app of await discoverApps(ROOT, o)) {
      const refused = await fetch(`http://127.0.0.1:${app.adminPort}/livez`).catch((e: Error) => e);
      expect(refused, app.name).toBeInstanceOf(Error);
    }
  }, 60_000);

  it('names the app that fails to start, says why, stops the others and exits 1', async () => {
    const run = runCli(['--port-offset', String(await offset())], { TCP_NODELAY: 'maybe' });
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain('netlab: tcp-echo failed to start (exit code 78)');
    expect(run.output()).toContain('TCP_NODELAY: expected one of 1, 0, true, false, got "maybe"');
    expect(run.output()).toContain('netlab: all apps stopped');
  }, 60_000);

  it('rejects an unknown app name in --only with exit 78', async () => {
    const run = runCli(['--only', 'nope']);
    expect(await run.exited).toBe(78);
    expect(run.output()).toMatch(/^--only: no such app: nope \(have: .*tcp-echo/);
  });
});

describe('netlab runner arguments', () => {
  it('says what is wrong with an unknown flag, shows usage and exits 78', async () => {
    const run = runCli(['--bogus']);
    expect(await run.exited).toBe(78);
    expect(run.output()).toMatch(/Unknown option '--bogus'[\s\S]*usage: netlab/);
  });
});
