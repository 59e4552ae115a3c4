import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { appMissing, startNetlabApp, startNodeScript } from '../harness/netlab-app.mjs';
import { runNodeClient } from '../harness/node-client.mjs';

const run = promisify(execFile);
const MB = 1_000_000;

/** One demo PKI per bench run, so the app and the baselines serve the same certificate. */
let certs;
async function serverCertificate(ctx) {
  if (certs) return certs;
  const tlsPkg = join(ctx.root, 'packages', 'tls', 'dist', 'index.js');
  const { createDemoPki, writeDemoPki } = await import(pathToFileURL(tlsPkg).href);
  const dir = join(ctx.tmpDir, 'tls-custom-protocol-certs');
  mkdirSync(dir, { recursive: true });
  certs = await writeDemoPki(dir, await createDemoPki());
  return certs;
}

async function tlsEnv(ctx) {
  const { serverCert, serverKey } = await serverCertificate(ctx);
  return { TLS_CERT_FILE: serverCert, TLS_KEY_FILE: serverKey };
}

async function baselineEnv(ctx, mode) {
  const { serverCert, serverKey } = await serverCertificate(ctx);
  return {
    NETLAB_BENCH_TLS_CERT: serverCert,
    NETLAB_BENCH_TLS_KEY: serverKey,
    NETLAB_BENCH_TLS_MODE: mode,
  };
}

/** The app's own client (the CLI), as a person would run it; prints one JSON object. */
async function cli(ctx, port, args) {
  const { stdout } = await run(
    process.execPath,
    [
      join(ctx.root, 'apps', 'tls-custom-protocol', 'dist', 'cli.js'),
      ...args,
      '--port',
      String(port),
      '--insecure',
      '--json',
    ],
    { timeout: 120_000 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1));
}

const app = {
  id: 'app',
  label: 'tls-custom-protocol',
  skip: (ctx) => appMissing(ctx, 'tls-custom-protocol'),
  start: async (ctx) =>
    Object.assign(await startNetlabApp(ctx, 'tls-custom-protocol', await tlsEnv(ctx)), {
      kind: 'app',
    }),
};
const rawEcho = {
  id: 'raw-echo',
  label: 'raw TLS echo (socket.pipe(socket))',
  start: async (ctx) =>
    Object.assign(
      await startNodeScript(
        ctx,
        'tls-raw-echo',
        'baselines/tls-raw.mjs',
        await baselineEnv(ctx, 'echo'),
      ),
      { kind: 'echo' },
    ),
};
const rawSource = {
  id: 'raw-source',
  label: 'raw TLS source (writes N bytes)',
  start: async (ctx) =>
    Object.assign(
      await startNodeScript(
        ctx,
        'tls-raw-source',
        'baselines/tls-raw.mjs',
        await baselineEnv(ctx, 'source'),
      ),
      { kind: 'source' },
    ),
};

export const scenarios = [
  {
    id: 'tls-custom-protocol-stream',
    app: 'tls-custom-protocol',
    title: 'tls-custom-protocol STREAM throughput',
    measures:
      'MB/s of one connection, from the end of the handshake: the app sends STREAM ' +
      'of 1 GB in 64 KiB DATA frames to its CLI (smoke: 20 MB); the raw TLS echo gets the ' +
      'same bytes written and read back; the raw TLS source just writes them.',
    subjects: [app, rawEcho, rawSource],
    measure: async (ctx, server) => {
      const bytes = (ctx.smoke ? 20 : 1000) * MB;
      if (server.kind === 'app') {
        const r = await cli(ctx, server.port, ['stream', '--bytes', String(bytes)]);
        return { mbps: r.mbps, seconds: r.seconds };
      }
      const r = await runNodeClient(ctx, 'tls-bytes.mjs', [
        '--port',
        String(server.port),
        '--bytes',
        String(bytes),
        '--mode',
        server.kind,
      ]);
      return { mbps: r.mbps, seconds: r.seconds };
    },
    checks: [
      {
        kind: 'ratio',
        label: 'STREAM MB/s vs raw TLS echo',
        metric: 'mbps',
        app: 'app',
        baseline: 'raw-echo',
        target: 0.7,
      },
      {
        kind: 'ratio',
        label: 'STREAM MB/s vs raw TLS source',
        metric: 'mbps',
        app: 'app',
        baseline: 'raw-source',
      },
      { kind: 'info', label: 'app peak RSS', metric: 'peakRssMB', app: 'app' },
    ],
  },
  {
    id: 'tls-custom-protocol-echo',
    app: 'tls-custom-protocol',
    title: 'tls-custom-protocol pipelined ECHO',
    measures:
      'Requests/s of 1 KiB ECHO with 64 in flight on one connection, 200,000 requests ' +
      '(smoke: 5,000): the app through its CLI bench, the raw TLS echo with 1 KiB ' +
      'messages and no framing.',
    subjects: [app, rawEcho],
    measure: async (ctx, server) => {
      const requests = ctx.smoke ? 5000 : 200_000;
      if (server.kind === 'app') {
        const r = await cli(ctx, server.port, [
          'bench',
          '--requests',
          String(requests),
          '--concurrency',
          '64',
          '--size',
          '1024',
        ]);
        return { reqPerSec: r.requestsPerSecond, latencyP50Ms: r.p50Ms, latencyP99Ms: r.p99Ms };
      }
      const r = await runNodeClient(ctx, 'tls-echo-pipelined.mjs', [
        '--port',
        String(server.port),
        '--requests',
        String(requests),
        '--concurrency',
        '64',
        '--size',
        '1024',
      ]);
      return { reqPerSec: r.reqPerSec };
    },
    checks: [
      {
        kind: 'ratio',
        label: 'ECHO req/s vs raw TLS echo of 1 KiB messages',
        metric: 'reqPerSec',
        app: 'app',
        baseline: 'raw-echo',
        target: 0.6,
      },
      {
        kind: 'info',
        label: 'ECHO p99 latency (64 in flight)',
        metric: 'latencyP99Ms',
        app: 'app',
      },
    ],
  },
];
