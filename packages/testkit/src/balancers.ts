import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from './wait.js';

/**
 * Real L4 balancers no one here wrote, in front of an app under test:
 * Debian's HAProxy in TCP mode and nginx's stream module, each sending a
 * PROXY header. Neither can listen on port 0 and report it, so a free port
 * is picked first (bind 0, read, close) and the balancer's own listen is
 * then waited for.
 */
export interface Balancer {
  /** Where clients connect (127.0.0.1). */
  port: number;
  /** Files the balancer was given (haproxy.cfg, certificates), for assertions. */
  dir: string;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function run(cmd: string, args: string[], port: number, dir: string): Promise<Balancer> {
  const child: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = once(child, 'exit');
  try {
    await waitUntil(async () => child.exitCode === null && (await accepting(port)), {
      timeoutMs: 10_000,
      what: () => `${cmd} listening on ${port} (exit ${child.exitCode}; stderr: ${stderr})`,
    });
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    port,
    dir,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A test CA, a server certificate (localhost) and a client certificate (CN=netlab-client), made with openssl. */
export interface TestPki {
  dir: string;
  ca: string;
  /** HAProxy's crt: certificate then key, one file. */
  serverPem: string;
  clientCert: string;
  clientKey: string;
}

export function makeTestPki(dir: string): TestPki {
  const f = (name: string) => join(dir, name);
  const ossl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  ossl(
    'req',
    '-x509',
    ...ec,
    '-days',
    '1',
    '-subj',
    '/CN=netlab test CA',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
  );
  for (const [name, cn] of [
    ['server', 'localhost'],
    ['client', 'netlab-client'],
  ] as const) {
    ossl('req', ...ec, '-subj', `/CN=${cn}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`));
    writeFileSync(
      f(`${name}.ext`),
      name === 'server'
        ? 'subjectAltName=DNS:localhost,IP:127.0.0.1\n'
        : 'extendedKeyUsage=clientAuth\n',
    );
    ossl(
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      f(`${name}.ext`),
      '-out',
      f(`${name}.pem`),
    );
  }
  execFileSync('sh', [
    '-c',
    `cat "${f('server.pem')}" "${f('server.key')}" > "${f('server-bundle.pem')}"`,
  ]);
  return {
    dir,
    ca: f('ca.pem'),
    serverPem: f('server-bundle.pem'),
    clientCert: f('client.pem'),
    clientKey: f('client.key'),
  };
}

export interface HaproxyOptions {
  /** The app's port on 127.0.0.1. */
  backendPort: number;
  /** The server line's PROXY keyword. */
  send: 'send-proxy' | 'send-proxy-v2' | 'send-proxy-v2-ssl' | 'send-proxy-v2-ssl-cn';
  /** `proxy-v2-options` (e.g. `crc32c,unique-id,authority`). */
  v2Options?: string;
  /** Terminate TLS on the front (needed for the -ssl variants), asking for an optional client certificate. */
  tls?: boolean;
  /**
   * Health-check the server every `intervalMs`: send `send`, expect `expect`
   * back (a check that waits for an answer, so its PROXY header, LOCAL for
   * v2, reaches the app before HAProxy hangs up).
   */
  check?: { intervalMs: number; send: string; expect: string };
}

/** HAProxy in TCP mode, one frontend, one server. */
export async function startHaproxy(opts: HaproxyOptions): Promise<Balancer & { pki?: TestPki }> {
  const dir = mkdtempSync(join(tmpdir(), 'netlab-haproxy-'));
  const port = await freePort();
  const pki = opts.tls ? makeTestPki(dir) : undefined;
  const bind = pki
    ? ` ssl crt ${pki.serverPem} ca-file ${pki.ca} verify optional alpn http/1.1`
    : '';
  const cfg = [
    'global',
    '  maxconn 100',
    'defaults',
    '  mode tcp',
    '  timeout connect 5s',
    '  timeout client 30s',
    '  timeout server 30s',
    'frontend fe',
    `  bind 127.0.0.1:${port}${bind}`,
    '  unique-id-format netlab-%rt',
    '  default_backend be',
    'backend be',
    `  server app 127.0.0.1:${opts.backendPort} ${opts.send}${opts.v2Options ? ` proxy-v2-options ${opts.v2Options}` : ''}${opts.check ? ` check inter ${opts.check.intervalMs}` : ''}`,
    ...(opts.check
      ? [
          '  option tcp-check',
          `  tcp-check send ${opts.check.send}`,
          `  tcp-check expect string ${opts.check.expect}`,
        ]
      : []),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'haproxy.cfg'), cfg);
  const balancer = await run('haproxy', ['-f', join(dir, 'haproxy.cfg'), '-db'], port, dir);
  return pki ? { ...balancer, pki } : balancer;
}

/** nginx's stream module with `proxy_protocol on` (it sends v1). */
export async function startNginxStream(backendPort: number): Promise<Balancer> {
  const dir = mkdtempSync(join(tmpdir(), 'netlab-nginx-'));
  const port = await freePort();
  const conf = [
    'load_module /usr/lib/nginx/modules/ngx_stream_module.so;',
    'daemon off;',
    'master_process off;',
    `error_log ${join(dir, 'error.log')} warn;`,
    `pid ${join(dir, 'nginx.pid')};`,
    'events { worker_connections 64; }',
    'stream {',
    '  server {',
    `    listen 127.0.0.1:${port};`,
    `    proxy_pass 127.0.0.1:${backendPort};`,
    '    proxy_protocol on;',
    // Without it nginx ends the whole session on the client's FIN, so a
    // half-closing client (nc -N, an echo test) never reads its answer.
    '    proxy_half_close on;',
    '  }',
    '}',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'nginx.conf'), conf);
  return run(
    'nginx',
    ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')],
    port,
    dir,
  );
}

/**
 * A minimal balancer for the hardest split: each client's first chunk (a
 * ClientHello, a request) goes to `backendPort` in the same write as
 * `header`, so both leave in one TCP segment; then bytes flow both ways.
 */
export async function startPrependingRelay(
  backendPort: number,
  header: (client: net.Socket) => Buffer,
): Promise<{ port: number; firstWrites: number[]; close(): Promise<void> }> {
  const firstWrites: number[] = [];
  const sockets = new Set<net.Socket>();
  const relay = net.createServer((inbound) => {
    const outbound = net.connect({ port: backendPort, host: '127.0.0.1', noDelay: true });
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    outbound.on('error', () => inbound.destroy());
    inbound.on('error', () => outbound.destroy());
    inbound.once('data', (chunk: Buffer) => {
      const joined = Buffer.concat([header(inbound), chunk]);
      firstWrites.push(joined.length);
      outbound.write(joined);
      inbound.pipe(outbound).pipe(inbound);
    });
  });
  relay.listen(0, '127.0.0.1');
  await once(relay, 'listening');
  return {
    port: (relay.address() as net.AddressInfo).port,
    firstWrites,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => relay.close(resolve));
    },
  };
}
