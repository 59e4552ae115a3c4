import http from 'node:http';
import { join } from 'node:path';
import { appMissing, startNetlabApp } from '../harness/netlab-app.mjs';

const CONNECTIONS = 2000;
const PROBE_EVERY_MS = 100;
// A probe not answered by then counts as a failure, as Kubernetes' default
// 1 s timeout would count it (here with room to see how late it was).
const PROBE_TIMEOUT_MS = 3000;

/** The same env for both subjects; only where the admin server runs differs. */
const ENV = { LOG_LEVEL: 'info', WORKERS: '1', MAX_CONNECTIONS: '10000' };

/** http-hello with the admin server in the main loop (bench/baselines/http-hello-inloop-admin.mjs). */
const startInLoop = (ctx) =>
  startNetlabApp(ctx, 'http-hello', ENV, {
    main: join(ctx.benchDir, 'baselines/http-hello-inloop-admin.mjs'),
  });

/** Nearest-rank percentile of sorted `xs`. */
function percentile(xs, p) {
  return xs[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
}

/** One GET /livez on a fresh connection, as a kubelet probe makes it; ms, or null on failure. */
function probe(adminPort) {
  return new Promise((resolve) => {
    const started = performance.now();
    const req = http.get(
      { host: '127.0.0.1', port: adminPort, path: '/livez', agent: false },
      (res) => {
        res.resume().on('end', () => {
          resolve(res.statusCode === 200 ? performance.now() - started : null);
        });
      },
    );
    req.setTimeout(PROBE_TIMEOUT_MS, () => req.destroy());
    req.on('error', () => resolve(null));
  });
}

export const scenarios = [
  {
    id: 'admin-probes',
    app: 'http-hello',
    title: 'admin /livez latency with the service port saturated',
    measures:
      `latency of GET /livez on a fresh connection every ${PROBE_EVERY_MS} ms while ` +
      `\`wrk -t1 -c${CONNECTIONS}\` (or autocannon) saturates GET / on the service port for 5 s ` +
      '(smoke: 1 s); a probe unanswered within 3 s or not 200 is a failure. http-hello with its ' +
      'admin server on its own thread (now) against the same server with it in the main event loop (before).',
    skip: (ctx) => ctx.httpLoad.missing(),
    subjects: [
      {
        id: 'thread',
        label: 'http-hello, admin on its own thread',
        skip: (ctx) => appMissing(ctx, 'http-hello'),
        start: (ctx) => startNetlabApp(ctx, 'http-hello', ENV),
      },
      {
        id: 'in-loop',
        label: 'http-hello, admin in the main loop',
        skip: (ctx) => appMissing(ctx, 'http-hello'),
        start: startInLoop,
      },
    ],
    measure: async (ctx, server) => {
      const seconds = ctx.smoke ? 1 : 5;
      const load = ctx.httpLoad.run({
        url: `http://127.0.0.1:${server.port}/`,
        connections: CONNECTIONS,
        seconds,
      });
      let loading = true;
      load.finally(() => {
        loading = false;
      });
      // Let the load generator open its connections first.
      await new Promise((r) => setTimeout(r, Math.min(500, seconds * 200)));
      const probes = [];
      while (loading) {
        const next = new Promise((r) => setTimeout(r, PROBE_EVERY_MS));
        probes.push(probe(server.adminPort));
        await next;
      }
      const r = await load;
      const results = await Promise.all(probes);
      const answered = results.filter((ms) => ms !== null).sort((a, b) => a - b);
      return {
        probeP50Ms: answered.length ? percentile(answered, 50) : null,
        probeP99Ms: answered.length ? percentile(answered, 99) : null,
        probeFailures: results.length - answered.length,
        reqPerSec: r.reqPerSec,
      };
    },
    checks: [
      {
        kind: 'limit',
        label: 'probe p99 under saturation, admin thread',
        metric: 'probeP99Ms',
        app: 'thread',
        target: 100,
      },
      {
        kind: 'ratio',
        label: 'probe p99, admin thread vs in-loop',
        metric: 'probeP99Ms',
        app: 'thread',
        baseline: 'in-loop',
      },
      { kind: 'info', label: 'probe p50, admin thread', metric: 'probeP50Ms', app: 'thread' },
      { kind: 'info', label: 'probe p50, in-loop', metric: 'probeP50Ms', app: 'in-loop' },
      { kind: 'info', label: 'probe p99, in-loop', metric: 'probeP99Ms', app: 'in-loop' },
      {
        kind: 'info',
        label: 'probes failed, admin thread',
        metric: 'probeFailures',
        app: 'thread',
      },
      { kind: 'info', label: 'probes failed, in-loop', metric: 'probeFailures', app: 'in-loop' },
      {
        kind: 'ratio',
        label: 'req/s under the same load, admin thread vs in-loop',
        metric: 'reqPerSec',
        app: 'thread',
        baseline: 'in-loop',
      },
    ],
  },
];
