import { promises as dnsPromises } from 'node:dns';
import { join } from 'node:path';
import { freePort } from '../harness/free-port.mjs';
import { appMissing, startNetlabApp } from '../harness/netlab-app.mjs';
import { runNodeClient } from '../harness/node-client.mjs';
import { startServer, waitUntil } from '../harness/server-process.mjs';

/** bench/baselines/dns-fixture-server.mjs on a free UDP port, ready once it answers a query. */
async function startDnsFixture(ctx) {
  const port = await freePort();
  const probe = new dnsPromises.Resolver({ timeout: 200, tries: 1 });
  probe.setServers([`127.0.0.1:${port}`]);
  const server = await startServer({
    name: 'dns-fixture',
    command: process.execPath,
    args: [join(ctx.benchDir, 'baselines/dns-fixture-server.mjs'), String(port), '127.0.0.1'],
    cwd: ctx.root,
    tmpDir: ctx.tmpDir,
    ready: () =>
      waitUntil(
        `dns-fixture port ${port}`,
        async () => (await probe.resolve4('ready.test')).length > 0,
      ),
  });
  return Object.assign(server, { port });
}

/**
 * dns-resolver-api asking the fixture DNS server; stopping it stops both.
 * The memory figures are the app's own (its pid).
 */
async function startApiWithFixture(ctx, env) {
  const fixture = await startDnsFixture(ctx);
  try {
    const app = await startNetlabApp(ctx, 'dns-resolver-api', {
      DNS_SERVERS: `127.0.0.1:${fixture.port}`,
      // bench.netlab.test must reach the fixture, not the built-in demo zone.
      DNS_DEMO_ZONE: 'false',
      LOG_LEVEL: 'info',
      ...env,
    });
    const stopApp = app.stop;
    return Object.assign(app, {
      stop: async () => {
        const result = await stopApp();
        await fixture.stop();
        return result;
      },
    });
  } catch (error) {
    await fixture.stop();
    throw error;
  }
}

const CACHED_PATH = '/resolve?name=bench.netlab.test&type=A';

export const scenarios = [
  {
    id: 'dns-resolver-api',
    app: 'dns-resolver-api',
    title: 'dns-resolver-api /resolve, cached and not',
    measures:
      'req/s of `wrk -t1 -c64 -d5s --latency` (or `autocannon -c64 -d5`) over keep-alive on ' +
      `GET ${CACHED_PATH} (answered from the cache after the first) and on http-hello's GET /, ` +
      'after a 1 s warm-up (smoke: 1 s, none); and req/s of a Node client (32 keep-alive ' +
      'connections, 5 s; smoke 1 s) asking a new name every request, so each is a real query ' +
      'to a fixture DNS server on loopback (bench/baselines/dns-fixture-server.mjs).',
    skip: (ctx) => ctx.httpLoad.missing(),
    subjects: [
      {
        id: 'cached',
        label: 'dns-resolver-api cached /resolve',
        skip: (ctx) => appMissing(ctx, 'dns-resolver-api'),
        start: (ctx) => startApiWithFixture(ctx, {}),
        path: CACHED_PATH,
      },
      {
        id: 'hello',
        label: 'http-hello GET / (LOG_LEVEL=info)',
        skip: (ctx) => appMissing(ctx, 'http-hello'),
        start: (ctx) => startNetlabApp(ctx, 'http-hello', { LOG_LEVEL: 'info', WORKERS: '1' }),
        path: '/',
      },
      {
        id: 'uncached',
        label: 'dns-resolver-api uncached /resolve (fixture DNS)',
        skip: (ctx) => appMissing(ctx, 'dns-resolver-api'),
        // Every name is new anyway; no cache keeps the heap flat over the run.
        start: (ctx) => startApiWithFixture(ctx, { CACHE_MAX_ENTRIES: '0' }),
        distinctNames: true,
      },
    ],
    measure: async (ctx, server, subject) => {
      if (subject.distinctNames) {
        const seconds = ctx.smoke ? 1 : 5;
        const r = await runNodeClient(ctx, 'http-distinct-names.mjs', [
          '--port',
          String(server.port),
          '--connections',
          '32',
          '--seconds',
          String(seconds),
        ]);
        return { reqPerSec: r.reqPerSec, errors: r.errors };
      }
      const url = `http://127.0.0.1:${server.port}${subject.path}`;
      if (!ctx.smoke) await ctx.httpLoad.run({ url, connections: 64, seconds: 1 });
      const r = await ctx.httpLoad.run({ url, connections: 64, seconds: ctx.smoke ? 1 : 5 });
      return {
        reqPerSec: r.reqPerSec,
        latencyP50Ms: r.latencyP50Ms,
        latencyP99Ms: r.latencyP99Ms,
        errors: r.errors,
      };
    },
    checks: [
      {
        kind: 'ratio',
        label: "req/s, cached /resolve vs http-hello's GET /",
        metric: 'reqPerSec',
        app: 'cached',
        baseline: 'hello',
        target: 0.9,
      },
      {
        kind: 'info',
        label: 'req/s, uncached /resolve against the fixture DNS server',
        metric: 'reqPerSec',
        app: 'uncached',
      },
      {
        kind: 'ratio',
        label: 'p99 latency, cached /resolve vs http-hello',
        metric: 'latencyP99Ms',
        app: 'cached',
        baseline: 'hello',
      },
      { kind: 'info', label: 'app peak RSS (cached run)', metric: 'peakRssMB', app: 'cached' },
      { kind: 'info', label: 'app peak RSS (uncached run)', metric: 'peakRssMB', app: 'uncached' },
    ],
  },
];
