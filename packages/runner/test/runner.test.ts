import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { waitUntil } from '@netlab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { discoverApps } from '../src/apps.js';
import { formatTable } from '../src/table.js';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

// Far from the documented defaults, so a developer's running stack or another
// test file does not collide with this one.
const offset = () => 20_000 + Math.floor(Math.random() * 10_000);

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
  const exited = once(child, 'exit').then(([code]) => code as number);
  return { child, output: () => out, exited };
}

/** runCli with a port offset, once every app is ready and the table is out. */
async function runReady(portOffset: number) {
  const run = runCli(['--port-offset', String(portOffset)]);
  await waitUntil(() => /apps? ready\. Ctrl-C stops them all/.test(run.output()), {
    timeoutMs: 30_000,
    what: `the ready table; output so far:\n${run.output()}`,
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
    const o = offset();
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
    const o = offset();
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

  it('names the app that fails to start, says why, stops the others and exits 1', async () => {
    const run = runCli(['--port-offset', String(offset())], { TCP_NODELAY: 'maybe' });
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
