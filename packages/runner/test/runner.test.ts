import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { waitUntil } from '@netlab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { discoverApps, exampleWith } from '../src/apps.js';
import { levelOf, readyPorts } from '../src/log-lines.js';
import { appsTable, formatTable } from '../src/table.js';
import { withTlsFiles } from '../src/tls-files.js';

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
async function runReady(portOffset: number, env: Record<string, string> = {}, args: string[] = []) {
  const run = runCli(['--port-offset', String(portOffset), ...args], env);
  await waitUntil(() => /apps? ready\. Ctrl-C stops them all/.test(run.output()), {
    timeoutMs: 30_000,
    what: () => `the ready table; output so far:\n${run.output()}`,
  });
  return run;
}

/** An HTTP server on 127.0.0.1:port that answers 200 to everything, /readyz included. */
async function listenOn(port: number): Promise<Server> {
  const server = createServer((_req, res) => res.end('ok'));
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

describe('discoverApps', () => {
  it('finds every app with its documented ports, shifted by the offset', async () => {
    const apps = await discoverApps(ROOT, 5);
    const echo = apps.find((a) => a.name === 'tcp-echo');
    expect(echo).toMatchObject({ protocol: 'tcp', port: 7005, adminPort: 9005 });
    expect(echo!.example).toBe("printf 'hello\\n' | nc -N 127.0.0.1 7005");
  });
});

describe('exampleWith', () => {
  const curl = 'curl -s {tls-curl} https://127.0.0.1:{port}/';
  const cli = 'client ping --port {port} {tls-cli}';
  it("skips verification when no CA is known, as with a container's certificate", () => {
    expect(exampleWith(curl, 8443)).toBe('curl -s -k https://127.0.0.1:8443/');
    expect(exampleWith(cli, 7443)).toBe('client ping --port 7443 --insecure');
  });
  it('verifies with the CA and presents the client certificate when it has them', () => {
    const files = { ca: 'd/ca.pem', clientCert: 'd/client.pem', clientKey: 'my dir/k.pem' };
    expect(exampleWith(curl, 1, files)).toBe(
      "curl -s --cacert d/ca.pem --cert d/client.pem --key 'my dir/k.pem' https://127.0.0.1:1/",
    );
    expect(exampleWith(cli, 2, { ca: 'c.pem' })).toBe('client ping --port 2 --ca c.pem');
  });
});

describe('log lines', () => {
  const json = (o: object) => JSON.stringify({ level: 'info', pid: 42, ...o });
  it('reads the ready line of the process itself, in JSON and pretty', () => {
    const msg = 'tcp-echo ready on port 7000, admin on port 9000';
    expect(readyPorts(json({ msg }), 'tcp-echo', 42)).toEqual({ port: 7000, adminPort: 9000 });
    const pretty = `[09:06:56.026] INFO: ${msg} {"port":7000}`;
    expect(readyPorts(pretty, 'tcp-echo', 42)).toEqual({ port: 7000, adminPort: 9000 });
    const colored = `[09:06:56.026] \x1b[32mINFO\x1b[39m: \x1b[36m${msg}\x1b[39m`;
    expect(readyPorts(colored, 'tcp-echo', 42)).toEqual({ port: 7000, adminPort: 9000 });
  });
  it('takes no other line for it: another pid, another app, a logged payload', () => {
    const msg = 'tcp-echo ready on port 7000, admin on port 9000';
    expect(readyPorts(json({ msg }), 'tcp-echo', 43)).toBeUndefined();
    expect(readyPorts(json({ msg }), 'http-hello', 42)).toBeUndefined();
    expect(readyPorts(json({ msg: `x ${msg}` }), 'tcp-echo', 42)).toBeUndefined();
    expect(readyPorts(json({ msg: 'datagram', preview: msg }), 'tcp-echo', 42)).toBeUndefined();
    expect(readyPorts(`[09:06:56.026] WARN: ${msg}`, 'tcp-echo', 42)).toBeUndefined();
  });
  it('reads levels, and none from what is not a log line', () => {
    expect(levelOf(json({ level: 'warn', msg: 'x' }))).toBe('warn');
    expect(levelOf('[09:06:56.026] DEBUG: x')).toBe('debug');
    expect(levelOf('    at foo (bar.js:1:1)')).toBeUndefined();
  });
});

describe("the root README's table", () => {
  it('is what `pnpm start` prints with its defaults, from the repository root', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const block = /^## Start everything\n[\s\S]*?^```text\n([\s\S]*?)^```/m.exec(readme)?.[1];
    const { apps, notes } = withTlsFiles(await discoverApps(ROOT), ROOT, {}, ROOT);
    expect(block).toBe(
      `${appsTable(apps)}\n\n${notes.map((n) => `netlab: ${n}\n`).join('')}netlab: ${apps.length} apps ready. Ctrl-C stops them all.\n`,
    );
  });
});

describe('formatTable', () => {
  it('pads every column but the last to its widest cell', () => {
    expect(formatTable(['a', 'bb'], [['xyz', 'q']])).toBe('a    bb\n---  --\nxyz  q');
  });
});

describe('netlab runner (the README start command)', () => {
  it('starts every app, prints a table whose commands all work, and stops them all on SIGTERM', async () => {
    const o = await offset();
    // TLS_CERT_DIR: each TLS app keeps its certificate in a folder of its own.
    const certDir = mkdtempSync(join(tmpdir(), 'netlab-runner-test-'));
    try {
      const run = await runReady(o, { TLS_CERT_DIR: certDir });
      const apps = await discoverApps(ROOT, o);
      const httpsCert = readFileSync(join(certDir, 'https-secure', 'cert.pem'), 'utf8');
      const tlsCert = readFileSync(join(certDir, 'tls-custom-protocol', 'cert.pem'), 'utf8');
      expect(httpsCert).not.toBe(tlsCert);
      expect(run.output()).toContain(
        `netlab: https-secure's self-signed certificate, kept across restarts: ${join(certDir, 'https-secure', 'cert.pem')}`,
      );
      for (const app of apps) {
        const row = run
          .output()
          .split('\n')
          .find((l) => l.startsWith(`${app.name} `) && !l.includes('│'));
        expect(row, `table row for ${app.name}`).toContain(`127.0.0.1:${app.port}`);
        const command = row!.split('/readyz  ')[1]!;
        if (!app.tls) expect(command).toBe(app.example);
        // Every command as printed, from the repository root like a user's
        // shell: verified TLS (no -k, no --insecure), real answers.
        expect(command).not.toMatch(/ -k | -sk |--insecure/);
        const { stdout } = await exec('bash', ['-c', command], { timeout: 20_000, cwd: ROOT });
        expect(stdout.length, `${app.name}: ${command}`).toBeGreaterThan(0);
        if (app.name === 'tcp-echo') expect(stdout).toBe('hello\n');
        if (app.name === 'tls-custom-protocol') expect(stdout).toMatch(/^PONG from 127\.0\.0\.1:/);
        expect((await fetch(`http://127.0.0.1:${app.adminPort}/readyz`)).status).toBe(200);
      }
      // Logs stream through, prefixed by the app's name.
      await waitUntil(() => /^tcp-echo\s+│ .*connection closed/m.test(run.output()));

      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(run.output()).toContain('netlab: all apps stopped');
      const echo = apps.find((a) => a.name === 'tcp-echo')!;
      const refused = await fetch(`http://127.0.0.1:${echo.adminPort}/livez`).catch(
        (e: Error) => e,
      );
      expect(refused).toBeInstanceOf(Error);
    } finally {
      rmSync(certDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('with the mTLS variables `pnpm certs` prints, the table offers commands with its CA and client certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netlab-runner-pki-'));
    try {
      await exec(process.execPath, [join(ROOT, 'packages/tls/dist/cli.js'), dir]);
      const o = await offset();
      const run = await runReady(
        o,
        {
          TLS_CERT_FILE: join(dir, 'server.pem'),
          TLS_KEY_FILE: join(dir, 'server-key.pem'),
          TLS_CLIENT_CA_FILE: join(dir, 'ca.pem'),
        },
        ['--only', 'https-secure,tls-custom-protocol'],
      );
      const apps = await discoverApps(ROOT, o);
      const files = `${join(dir, 'ca.pem')} --cert ${join(dir, 'client.pem')} --key ${join(dir, 'client-key.pem')}`;
      for (const name of ['https-secure', 'tls-custom-protocol']) {
        const app = apps.find((a) => a.name === name)!;
        const row = run
          .output()
          .split('\n')
          .find((l) => l.startsWith(`${name} `) && !l.includes('│'))!;
        const command = row.split('/readyz  ')[1]!;
        expect(command).toBe(
          name === 'https-secure'
            ? `curl -s --cacert ${files} https://127.0.0.1:${app.port}/whoami`
            : `node apps/tls-custom-protocol/dist/cli.js ping --port ${app.port} --ca ${files}`,
        );
        const { stdout } = await exec('bash', ['-c', command], { timeout: 20_000, cwd: ROOT });
        expect(stdout.length, command).toBeGreaterThan(0);
      }
      // No generated certificate to speak of: the app serves TLS_CERT_FILE.
      expect(run.output()).not.toContain('self-signed certificate, kept');
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('is not fooled by another process answering 200 on the admin port: names the port, suggests --port-offset, no stack', async () => {
    const o = await offset();
    const echo = (await discoverApps(ROOT, o)).find((a) => a.name === 'tcp-echo')!;
    const squatter = await listenOn(echo.adminPort);
    try {
      const run = runCli(['--only', 'tcp-echo', '--port-offset', String(o)]);
      expect(await run.exited).toBe(1);
      const out = run.output();
      const line = `tcp-echo: cannot listen: port ${echo.adminPort} (ADMIN_PORT) is already in use by another process (EADDRINUSE)`;
      expect(out).toContain(`netlab: tcp-echo failed to start (exit code 1):\n  ${line}\n`);
      expect(out).toContain(`start with --port-offset ${o + 100} to shift every port`);
      expect(out).not.toContain('ready. Ctrl-C');
      expect(out).not.toMatch(/^\s+at /m);
      expect(out.split('\n').filter((l) => l.includes('EADDRINUSE'))).toHaveLength(2);
    } finally {
      squatter.close();
    }
  }, 60_000);

  it('stopped before every app is ready: exits 0 without calling it a failure', async () => {
    const run = runCli(['--port-offset', String(await offset())]);
    // The first app's first line: the runner is up, most apps are not ready yet.
    await waitUntil(() => run.output().includes('│'), { timeoutMs: 30_000 });
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.output()).not.toContain('failed to start');
    expect(run.output()).toContain('netlab: all apps stopped');
  }, 60_000);

  it('with LOG_LEVEL=warn still knows the apps are ready, and shows only warnings and worse', async () => {
    const o = await offset();
    const run = await runReady(o, { LOG_LEVEL: 'warn' }, ['--only', 'tcp-echo']);
    expect(run.output()).not.toMatch(/│ .*INFO/);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.output()).not.toMatch(/│ .*INFO/);
  }, 60_000);

  it("`pnpm start` in a terminal: one Ctrl-C drains, ends with the runner's own lines and exit 0", async () => {
    // pnpm on PATH, or the one running this test (`pnpm test`).
    const execpath = process.env.npm_execpath ?? '';
    const pnpm = /pnpm/.test(execpath) ? [process.execPath, execpath] : ['pnpm'];
    const o = await offset();
    const { stdout } = await exec(
      '/usr/bin/python3',
      [
        fileURLToPath(new URL('./pty-ctrl-c.py', import.meta.url)),
        'Ctrl-C stops them all',
        // A cap, not a wait: turbo's build check comes first, slow on a loaded machine.
        '110',
        ...pnpm,
        'start',
        '--only',
        'tcp-echo',
        '--port-offset',
        String(o),
      ],
      { cwd: ROOT, timeout: 115_000, env: { ...process.env, FORCE_COLOR: '0' } },
    );
    expect(stdout).toContain('netlab: stopping every app');
    expect(stdout).not.toContain('second signal');
    expect(stdout).not.toContain('ELIFECYCLE');
    expect(
      stdout
        .split(/\r?\n/)
        .filter((l) => l !== '')
        .slice(-2),
    ).toEqual(['netlab: all apps stopped', 'exit status 0']);
  }, 120_000);

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
