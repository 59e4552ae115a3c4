import { buildC } from '../harness/c-build.mjs';
import { freePort } from '../harness/free-port.mjs';
import { appMissing, startNetlabApp, startNodeScript } from '../harness/netlab-app.mjs';
import { runNodeClient } from '../harness/node-client.mjs';
import { startServer, tcpAccepts, waitUntil } from '../harness/server-process.mjs';

const MiB = 1024 * 1024;

/** The subjects both tcp-echo scenarios run: the app, the naive Node echo, the C echo. */
const subjects = [
  {
    id: 'app',
    label: 'tcp-echo',
    skip: (ctx) => appMissing(ctx, 'tcp-echo'),
    start: (ctx) => startNetlabApp(ctx, 'tcp-echo'),
  },
  {
    id: 'naive',
    label: 'naive Node echo',
    start: (ctx) => startNodeScript(ctx, 'naive-echo', 'baselines/tcp-echo-naive.mjs'),
  },
  {
    id: 'c',
    label: 'C echo (fork per connection)',
    skip: async (ctx) => (await buildC(ctx, 'tcp-echo')).skipped ?? null,
    start: async (ctx) => {
      const { path } = await buildC(ctx, 'tcp-echo');
      const port = await freePort();
      const server = await startServer({
        name: 'c-echo',
        command: path,
        args: [String(port), '127.0.0.1'],
        tmpDir: ctx.tmpDir,
        ready: () => waitUntil(`c-echo port ${port}`, () => tcpAccepts(port)),
      });
      return Object.assign(server, { port });
    },
  },
];

export const scenarios = [
  {
    id: 'tcp-echo-throughput',
    app: 'tcp-echo',
    title: 'tcp-echo throughput',
    measures:
      'MB/s of 512 MiB written and read back on one connection by a Node client that ' +
      'writes and reads at once and waits for drain (smoke: 16 MiB, verified byte by byte).',
    subjects,
    measure: async (ctx, server) => {
      const bytes = (ctx.smoke ? 16 : 512) * MiB;
      const args = ['--port', String(server.port), '--bytes', String(bytes)];
      const result = await runNodeClient(
        ctx,
        'tcp-stream.mjs',
        ctx.smoke ? [...args, '--verify'] : args,
      );
      return { mbps: result.mbps, seconds: result.seconds };
    },
    checks: [
      {
        kind: 'ratio',
        label: 'MB/s vs naive Node echo',
        metric: 'mbps',
        app: 'app',
        baseline: 'naive',
        target: 0.9,
      },
      {
        kind: 'ratio',
        label: 'MB/s vs C echo',
        metric: 'mbps',
        app: 'app',
        baseline: 'c',
        target: 0.9,
      },
      {
        kind: 'ratio',
        label: 'peak RSS vs naive Node echo',
        metric: 'peakRssMB',
        app: 'app',
        baseline: 'naive',
      },
    ],
  },
  {
    id: 'tcp-echo-slow-reader',
    app: 'tcp-echo',
    title: 'tcp-echo slow reader',
    measures:
      'Server peak RSS (VmHWM) while one client writes 256 MiB and never reads the echo ' +
      '(smoke: 32 MiB). The client waits for drain; it stops when all is written or when ' +
      'writes stall for 2 s (smoke: 1 s), at most 30 s (smoke: 5 s).',
    subjects,
    measure: async (ctx, server) => {
      const bytes = (ctx.smoke ? 32 : 256) * MiB;
      const result = await runNodeClient(ctx, 'tcp-slow-reader.mjs', [
        '--port',
        String(server.port),
        '--bytes',
        String(bytes),
        '--stall-ms',
        ctx.smoke ? '1000' : '2000',
        '--max-ms',
        ctx.smoke ? '5000' : '30000',
      ]);
      return { writtenMB: result.written / 1e6, seconds: result.seconds };
    },
    checks: [
      { kind: 'limit', label: 'app peak RSS', metric: 'peakRssMB', app: 'app', target: 100 },
      { kind: 'info', label: 'naive echo RSS growth', metric: 'rssGrowthMB', app: 'naive' },
      { kind: 'info', label: 'C echo RSS growth', metric: 'rssGrowthMB', app: 'c' },
      { kind: 'info', label: 'app RSS growth', metric: 'rssGrowthMB', app: 'app' },
      {
        kind: 'info',
        label: 'bytes the app let the client write',
        metric: 'writtenMB',
        app: 'app',
      },
    ],
  },
];
