import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AppInfo, discoverApps } from '@netlab/runner/apps';
import { waitUntil } from '@netlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { composeCommand, engineMissing, ok, root, run } from './docker.js';

// With no engine this suite skips, saying why in one line; in CI that is a
// failure (.ci/run starts an engine with scripts/docker/engine.sh).
const missing = engineMissing();
if (missing !== undefined) {
  if (process.env.CI === 'true') throw new Error(`docker e2e: ${missing} (CI=true)`);
  console.warn(`docker e2e skipped: ${missing}`);
}

const PROJECT = 'netlab-e2e';
const env: NodeJS.ProcessEnv = {
  ...process.env,
  // Published on loopback only: the test talks to nothing else.
  NETLAB_BIND: '127.0.0.1',
  COMPOSE_PROJECT_NAME: PROJECT,
  // BuildKit for the Dockerfile's cache mount; Compose v1 then builds with the CLI.
  DOCKER_BUILDKIT: '1',
  COMPOSE_DOCKER_CLI_BUILD: '1',
};
const files = [
  ...['-f', 'docker-compose.yml', '-f', 'docker-compose.test.yml'],
  ...['--profile', 'mtls', '--profile', 'proxy'],
];

/**
 * Host ports: the stack's defaults (what users get, and CI), or, with
 * NETLAB_E2E_PORT_BASE set, every published port moved to BASE, BASE+1, …
 * through docker-compose.yml's NETLAB_PORT_<port>, so a run on a shared
 * machine takes none of the ports a local `pnpm start` uses.
 */
const hostPorts = new Map<number, number>();
{
  const base = process.env.NETLAB_E2E_PORT_BASE;
  const text = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
  const published = [
    ...new Set([...text.matchAll(/\$\{NETLAB_PORT_(\d+):-\1\}/g)].map((m) => Number(m[1]))),
  ];
  published.forEach((port, i) => {
    const moved = base === undefined ? port : Number(base) + i;
    hostPorts.set(port, moved);
    env[`NETLAB_PORT_${port}`] = String(moved);
  });
}
/** Where the stack's default host port `port` is published in this run. */
const hostPort = (port: number): number => {
  const moved = hostPorts.get(port);
  if (moved === undefined) throw new Error(`docker-compose.yml publishes no port ${port}`);
  return moved;
};
const compose = (args: string[], opts: { input?: string; timeoutMs?: number } = {}) => {
  const [cmd, ...pre] = composeCommand()!;
  return ok(cmd!, [...pre, ...files, ...args], { ...opts, env });
};
const composeRun = (args: string[], opts: { input?: string; timeoutMs?: number } = {}) => {
  const [cmd, ...pre] = composeCommand()!;
  return run(cmd!, [...pre, ...files, ...args], { ...opts, env });
};
const curl = (...args: string[]) => ok('curl', ['-sS', '--max-time', '10', ...args]);
const tlsClient = join(root, 'apps/tls-custom-protocol/dist/cli.js');

/** Long-running services of the stack: the seven apps, the mtls pair, the proxy profile. */
const MTLS = ['https-secure-mtls', 'tls-custom-protocol-mtls'];
const PROXIED = ['http-hello-proxied', 'tcp-echo-proxied'];
const PROFILES = [...MTLS, ...PROXIED, 'haproxy'];
const timings: Record<string, number> = {};
/** Image sizes in MB, printed at the end (the README reports them). */
const sizes: Record<string, number> = {};
let apps: AppInfo[];
const app = (name: string) => apps.find((a) => a.name === name)!;

const NETWORK = `${PROJECT}_default`;

/** Containers the engine still lists on the project's network (0 when it is gone). */
function networkContainers(): number | undefined {
  const r = run('docker', ['network', 'inspect', '-f', '{{len .Containers}}', NETWORK], { env });
  return r.status === 0 ? Number(r.stdout.trim()) : undefined;
}

/**
 * `docker compose down -v --remove-orphans`, surviving a defect of the
 * engine rather than of the stack: Docker 20.10 sometimes leaks the count of
 * a network's endpoints when several containers leave it at once, and then
 * refuses to remove a network that has no container on it ("has active
 * endpoints", moby/moby#42119; the daemon repairs the count when it
 * restarts: "Fixing inconsistent endpoint_cnt"). Every container and volume
 * is gone by then, so a network left with nothing on it is reported, not
 * failed; anything else down prints still fails.
 */
function composeDown(): { networkLeft: boolean } {
  for (let attempt = 1; ; attempt++) {
    const r = composeRun(['down', '-v', '--remove-orphans'], { timeoutMs: 120_000 });
    if (r.status === 0) return { networkLeft: false };
    const out = r.stdout + r.stderr;
    if (!/has active endpoints/.test(out) || networkContainers() !== 0) {
      throw new Error(`docker compose down exited ${r.status}\n${out.slice(-4000)}`);
    }
    if (attempt === 3) {
      console.warn(
        `docker e2e: ${NETWORK} has no container but the engine counts endpoints on it (moby/moby#42119); left for the next engine start to repair`,
      );
      return { networkLeft: true };
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
  }
}

/** The gateway of the stack's network: where Docker's port forwarding connects from. */
function gateway(): string {
  return ok(
    'docker',
    ['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Gateway}}{{end}}', NETWORK],
    {
      env,
    },
  ).trim();
}

/** A service's address on the stack's network. */
function containerAddress(service: string): string {
  const id = compose(['ps', '-q', service]).trim();
  return ok(
    'docker',
    ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', id],
    {
      env,
    },
  ).trim();
}

/**
 * One text and one binary message echoed by `url`, then a normal close:
 * what came back (binary as hex) and the close code the server answered.
 */
function wsEcho(url: string): Promise<{ text: string; binary: string; close: number }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { handshakeTimeout: 10_000 });
    const got: string[] = [];
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`${url}: no echo and close within 15 s (got ${JSON.stringify(got)})`));
    }, 15_000);
    socket.on('open', () => {
      socket.send('hello over the stack');
      socket.send(Buffer.from([0x00, 0xff, 0x10, 0xfe]));
    });
    socket.on('message', (data, isBinary) => {
      const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
      got.push(isBinary ? bytes.toString('hex') : bytes.toString('utf8'));
      if (got.length === 2) socket.close(1000, 'done');
    });
    socket.on('close', (code) => {
      clearTimeout(timer);
      resolve({ text: got[0] ?? '', binary: got[1] ?? '', close: code });
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function containerStates(): Array<{
  service: string;
  status: string;
  health: string;
  exit: number;
}> {
  const ids = compose(['ps', '-q']).split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  const format =
    '{{index .Config.Labels "com.docker.compose.service"}} {{.State.Status}} {{.State.ExitCode}} {{if .State.Health}}{{.State.Health.Status}}{{else}}-{{end}}';
  return ok('docker', ['inspect', '-f', format, ...ids], { env })
    .trim()
    .split('\n')
    .map((line) => {
      const [service = '', status = '', exit = '', health = ''] = line.split(' ');
      return { service, status, exit: Number(exit), health };
    });
}

describe.skipIf(missing !== undefined)('docker compose: the seven apps from their images', () => {
  beforeAll(async () => {
    apps = await discoverApps(root);
    // The official node image cannot be pulled here: an offline stand-in (cached).
    if (!env.NODE_IMAGE) {
      ok(join(root, 'scripts/docker/standin-image.sh'), [], { env, timeoutMs: 300_000 });
      env.NODE_IMAGE = 'netlab-node-standin:latest';
    }
    composeDown();

    let t = Date.now();
    compose(['up', '-d', '--build'], { timeoutMs: 600_000 });
    timings['up -d --build'] = Date.now() - t;

    // Compose v1 has no --wait: poll the healthchecks.
    t = Date.now();
    const want = [...apps.map((a) => a.name), ...PROFILES].sort();
    await waitUntil(
      () => {
        const states = containerStates().filter((s) => want.includes(s.service) || s.exit !== 0);
        const healthy = states.filter((s) => s.health === 'healthy').map((s) => s.service);
        const unhealthy = states.filter(
          (s) => s.health === 'unhealthy' || (s.status === 'exited' && s.exit !== 0),
        );
        if (unhealthy.length > 0) throw new Error(`not healthy: ${JSON.stringify(unhealthy)}`);
        return healthy.sort().join() === want.join();
      },
      { timeoutMs: 180_000, intervalMs: 500, what: `every service healthy (${want.join(', ')})` },
    );
    timings['until healthy'] = Date.now() - t;
  });

  afterAll(() => {
    // Also after a failure: nothing is left running.
    composeDown();
    console.log(
      `docker e2e timings: ${Object.entries(timings)
        .map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)} s`)
        .join(', ')}`,
    );
    console.log(
      `docker e2e image sizes: ${Object.entries(sizes)
        .map(([image, mb]) => `${image} ${mb} MB`)
        .join(', ')}`,
    );
  });

  it('every app answers /readyz and /metrics on its published admin port', () => {
    expect(apps.map((a) => a.name)).toHaveLength(7);
    for (const a of apps) {
      const admin = hostPort(a.adminPort);
      expect(curl(`http://127.0.0.1:${admin}/readyz`), a.name).toContain('ready');
      expect(curl(`http://127.0.0.1:${admin}/metrics`), a.name).toMatch(/^netlab_\w+/m);
    }
  });

  it('tcp-echo echoes through nc', () => {
    const out = ok('nc', ['-N', '127.0.0.1', String(hostPort(app('tcp-echo').port))], {
      input: 'hello from the host\n',
      timeoutMs: 10_000,
    });
    expect(out).toBe('hello from the host\n');
  });

  it('http-hello answers curl', () => {
    const port = hostPort(app('http-hello').port);
    expect(curl(`http://127.0.0.1:${port}/`)).toContain('Hello HTTP');
    const whoami = JSON.parse(curl(`http://127.0.0.1:${port}/whoami`)) as Record<string, unknown>;
    expect(whoami.method).toBe('GET');
    // PROXY_PROTOCOL off in the default stack: no header read, the client
    // is the TCP peer (Docker's port forwarding, from the gateway).
    expect(whoami.proxy).toBeNull();
    expect(whoami.client).toEqual(whoami.peer);
    expect(whoami.client).toMatchObject({ address: gateway() });
  });

  it('http-hello echoes WebSocket text and binary on /ws through its published port', async () => {
    const url = `ws://127.0.0.1:${hostPort(app('http-hello').port)}/ws`;
    expect(await wsEcho(url)).toEqual({
      text: 'hello over the stack',
      binary: '00ff10fe',
      close: 1000,
    });
  });

  it('the proxy profile: HAProxy sends PROXY v2 to http-hello, whose /whoami shows the real client', () => {
    const whoami = JSON.parse(curl(`http://127.0.0.1:${hostPort(8081)}/whoami`)) as {
      peer: { address: string };
      client: { address: string; port: number };
      proxy: { version: number; command: string; protocol: string; destination: { port: number } };
    };
    // The client is who connected to HAProxy: from the host, Docker's port
    // forwarding, i.e. the network's gateway; the TCP peer is HAProxy.
    expect(whoami.client.address).toBe(gateway());
    expect(whoami.client.port).toBeGreaterThan(0);
    expect(whoami.peer.address).toBe(containerAddress('haproxy'));
    expect(whoami.proxy).toMatchObject({
      version: 2,
      command: 'PROXY',
      protocol: 'TCP4',
      destination: { port: 8081 },
    });
  });

  it('the proxy profile: a WebSocket passes HAProxy (TCP mode) to http-hello', async () => {
    expect(await wsEcho(`ws://127.0.0.1:${hostPort(8081)}/ws`)).toEqual({
      text: 'hello over the stack',
      binary: '00ff10fe',
      close: 1000,
    });
  });

  it('the proxy profile: tcp-echo echoes through HAProxy and logs the client from PROXY v1', async () => {
    const out = ok('nc', ['-N', '127.0.0.1', String(hostPort(7001))], {
      input: 'through haproxy\n',
      timeoutMs: 10_000,
    });
    expect(out).toBe('through haproxy\n');
    let line: Record<string, unknown> | undefined;
    await waitUntil(
      () => {
        line = compose(['logs', '--no-color', 'tcp-echo-proxied'])
          .split('\n')
          .map((l) => l.slice(l.indexOf('{')))
          .filter((l) => l.includes('"connection closed"'))
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .at(-1);
        return line !== undefined;
      },
      { timeoutMs: 10_000, what: "tcp-echo-proxied's connection line" },
    );
    expect(line).toMatchObject({
      remoteAddress: containerAddress('haproxy'),
      clientAddress: gateway(),
      proxy: { version: 1, command: 'PROXY', protocol: 'TCP4' },
      bytesOut: 16,
    });
    // In: the v1 header HAProxy sent (to its own frontend address), then the data.
    const header = `PROXY TCP4 ${gateway()} ${containerAddress('haproxy')} ${line!.clientPort} 7001\r\n`;
    expect(line!.bytesIn).toBe(header.length + 16);
  });

  it('https-secure answers curl over HTTP/2 and HTTP/1.1', () => {
    const url = `https://127.0.0.1:${hostPort(app('https-secure').port)}/whoami`;
    expect(
      curl('-k', '--http2', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', url),
    ).toBe('2 200');
    expect(
      curl('-k', '--http1.1', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', url),
    ).toBe('1.1 200');
  });

  it('udp-listener echoes a datagram through nc -u', () => {
    const out = ok('nc', ['-u', '-w1', '127.0.0.1', String(hostPort(app('udp-listener').port))], {
      input: 'datagram from the host\n',
      timeoutMs: 10_000,
    });
    expect(out).toBe('datagram from the host\n');
  });

  it('dns-resolver-api looks up localhost (no internet needed)', () => {
    const body = JSON.parse(
      curl(`http://127.0.0.1:${hostPort(app('dns-resolver-api').port)}/lookup?name=localhost`),
    ) as { addresses: Array<{ address: string }> };
    expect(body.addresses.map((a) => a.address)).toContain('127.0.0.1');
  });

  it("tls-custom-protocol answers the protocol's CLI, on the host and in its image", () => {
    const port = String(hostPort(app('tls-custom-protocol').port));
    const pong = JSON.parse(
      ok('node', [tlsClient, 'ping', '--port', port, '--insecure', '--json']),
    ) as {
      protocol?: string;
    };
    expect(pong).toBeTypeOf('object');
    expect(
      compose(['exec', '-T', 'tls-custom-protocol', 'netlab-tls-client', 'ping', '--insecure']),
    ).toMatch(/^PONG/);
  });

  it('video-streamer answers a Range request with 206 and just those bytes', () => {
    const port = hostPort(app('video-streamer').port);
    const [video] = JSON.parse(curl(`http://127.0.0.1:${port}/api/videos`)) as Array<{
      url: string;
    }>;
    expect(video).toBeDefined();
    const head = curl(
      '-r',
      '0-99',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code} %{size_download}',
      `http://127.0.0.1:${port}${video!.url}`,
    );
    expect(head).toBe('206 100');
  });

  it('the mtls profile requires a client certificate from the certs volume', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netlab-e2e-certs-'));
    try {
      for (const f of ['ca.pem', 'client.pem', 'client-key.pem']) {
        writeFileSync(
          join(dir, f),
          compose(['exec', '-T', 'https-secure-mtls', 'cat', `/certs/${f}`]),
        );
      }
      const ca = join(dir, 'ca.pem');
      const cert = ['--cert', join(dir, 'client.pem'), '--key', join(dir, 'client-key.pem')];
      const url = `https://localhost:${hostPort(8444)}/whoami`;
      expect(curl('--cacert', ca, ...cert, '-o', '/dev/null', '-w', '%{http_code}', url)).toBe(
        '200',
      );
      expect(run('curl', ['-sS', '--max-time', '10', '--cacert', ca, url]).status).not.toBe(0);
      const port = String(hostPort(7444));
      ok('node', [tlsClient, 'ping', '--port', port, '--ca', ca, ...cert]);
      expect(run('node', [tlsClient, 'ping', '--port', port, '--ca', ca]).status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('no process in any container runs as root', () => {
    for (const service of [...apps.map((a) => a.name), ...PROFILES]) {
      expect(compose(['exec', '-T', service, 'id', '-u']).trim(), service).not.toBe('0');
      const id = compose(['ps', '-q', service]).trim();
      // Every process, PID 1 (docker-init) included; ps wants the PID column.
      const uids = ok('docker', ['top', id, '-o', 'pid,uid'], { env })
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.trim().split(/\s+/)[1]);
      for (const uid of uids) expect(uid, service).not.toMatch(/^(0|root)$/);
    }
  });

  it('the root filesystem is read-only (only the /tmp tmpfs is writable)', () => {
    for (const a of apps) {
      const r = composeRun(['exec', '-T', a.name, 'sh', '-c', 'echo x > /probe']);
      expect(r.status, a.name).not.toBe(0);
      expect(r.stderr + r.stdout, a.name).toMatch(/read-only file system/i);
      compose(['exec', '-T', a.name, 'sh', '-c', 'echo x > /tmp/probe && rm /tmp/probe']);
    }
  });

  it('docker compose stop drains an app and it exits 0 within its grace period', () => {
    const t = Date.now();
    compose(['stop', 'http-hello'], { timeoutMs: 60_000 });
    timings['stop http-hello'] = Date.now() - t;
    expect(Date.now() - t).toBeLessThan(15_000); // stop_grace_period; past it Docker kills
    const state = containerStates().find((s) => s.service === 'http-hello');
    expect(state).toMatchObject({ status: 'exited', exit: 0 });
    const logs = compose(['logs', '--no-color', 'http-hello']);
    expect(logs).toContain('shutting down: draining');
    expect(logs).toContain('"msg":"stopped"');
  });

  it('one app runs alone from its own image with docker run', async () => {
    const image = 'netlab/tcp-echo';
    const admin = app('tcp-echo').adminPort;
    const id = ok(
      'docker',
      [
        'run',
        '-d',
        '--rm',
        '--init',
        '--read-only',
        '--cap-drop',
        'ALL',
        '-p',
        `127.0.0.1::${admin}`,
        image,
      ],
      { env },
    ).trim();
    try {
      const published = ok('docker', ['port', id, `${admin}/tcp`], { env })
        .trim()
        .split('\n')[0]!;
      await waitUntil(() => run('curl', ['-sf', `http://${published}/readyz`]).status === 0, {
        timeoutMs: 30_000,
        what: `${image} ready on ${published}`,
      });
      expect(curl(`http://${published}/readyz`)).toContain('ready');
      // On the Node the Dockerfile's default base names (the stand-in has it too).
      const major = /^ARG NODE_IMAGE=node:(\d+)/m.exec(
        readFileSync(join(root, 'Dockerfile'), 'utf8'),
      )?.[1];
      expect(major).toBeDefined();
      const version = ok('docker', ['exec', id, 'node', '-p', 'process.versions.node'], { env });
      expect(version.trim()).toMatch(new RegExp(`^${major}\\.`));
    } finally {
      run('docker', ['rm', '-f', id], { env });
    }
  });

  it('turns healthy within ~2 s of ready (a probe every 2 s)', async () => {
    const id = ok('docker', ['run', '-d', '--rm', '--init', '--read-only', 'netlab/tcp-echo'], {
      env,
    }).trim();
    try {
      const health = () =>
        ok('docker', ['inspect', '-f', '{{.State.Health.Status}}', id], { env }).trim();
      // Ready: the app's own line (the admin port is not published here).
      await waitUntil(() => run('docker', ['logs', id], { env }).stdout.includes('"adminPort"'), {
        timeoutMs: 30_000,
        intervalMs: 50,
        what: 'the ready line',
      });
      const ready = Date.now();
      await waitUntil(() => health() === 'healthy', {
        timeoutMs: 30_000,
        intervalMs: 100,
        what: 'healthy',
      });
      timings['ready → healthy'] = Date.now() - ready;
      // 2 s interval, plus the probe and docker inspect on a loaded machine.
      expect(Date.now() - ready).toBeLessThan(4000);
    } finally {
      run('docker', ['rm', '-f', id], { env });
    }
  });

  it("https-secure with WORKERS=2 runs on a read-only root with the README's --tmpfs /tmp", async () => {
    const id = ok(
      'docker',
      [
        'run',
        '-d',
        '--rm',
        '--init',
        '--read-only',
        '--tmpfs',
        '/tmp',
        '-e',
        'WORKERS=2',
        '-p',
        '127.0.0.1::8443',
        'netlab/https-secure',
      ],
      { env },
    ).trim();
    try {
      const published = ok('docker', ['port', id, '8443/tcp'], { env }).trim().split('\n')[0]!;
      await waitUntil(() => run('curl', ['-sfk', `https://${published}/`]).status === 0, {
        timeoutMs: 30_000,
        what: `https-secure (WORKERS=2) answering on ${published}; logs:\n${run('docker', ['logs', id], { env }).stdout}`,
      });
      expect(run('docker', ['logs', id], { env }).stdout).not.toContain('EROFS');
    } finally {
      run('docker', ['rm', '-f', id], { env });
    }
  });

  it('images carry no npm, and an app layer only what runs', () => {
    for (const a of apps) {
      const image = `netlab/${a.name}`;
      const files = ok(
        'docker',
        [
          'run',
          '--rm',
          '--entrypoint',
          'sh',
          image,
          '-c',
          'ls /usr/local/bin; find /app -name "*.map" -o -name "*.d.ts" | head -3',
        ],
        { env },
      );
      expect(files, image).not.toMatch(/^(npm|npx|corepack)$/m);
      expect(files, image).not.toMatch(/\.(map|d\.ts)$/m);
      const bytes = Number(
        ok('docker', ['image', 'inspect', '-f', '{{.Size}}', image], { env }).trim(),
      );
      sizes[image] = Math.round(bytes / 1e6);
    }
  });

  it('docker compose down leaves nothing running', () => {
    const t = Date.now();
    const { networkLeft } = composeDown();
    timings.down = Date.now() - t;
    const label = `label=com.docker.compose.project=${PROJECT}`;
    expect(ok('docker', ['ps', '-aq', '--filter', label], { env }).trim()).toBe('');
    expect(ok('docker', ['volume', 'ls', '-q', '--filter', label], { env }).trim()).toBe('');
    // Gone, or (the engine's leak above) still listed with nothing on it.
    expect(networkContainers()).toBe(networkLeft ? 0 : undefined);
  });
});
