import { appMissing, startNetlabApp, startNodeScript } from '../harness/netlab-app.mjs';
import { nginxMissing, startNginx } from '../harness/nginx.mjs';

const app = (id, label, env) => ({
  id,
  label,
  skip: (ctx) => appMissing(ctx, 'http-hello'),
  start: (ctx) => startNetlabApp(ctx, 'http-hello', env),
});

export const scenarios = [
  {
    id: 'http-hello',
    app: 'http-hello',
    title: 'http-hello GET / keep-alive',
    measures:
      'req/s and latency p50/p99 of `wrk -t1 -c64 -d5s --latency` (or `autocannon -c64 -d5`) ' +
      'on GET / over keep-alive (smoke: 1 s), after a 1 s warm-up (none in smoke).',
    skip: (ctx) => ctx.httpLoad.missing(),
    subjects: [
      app('app', 'http-hello (LOG_LEVEL=info)', { LOG_LEVEL: 'info', WORKERS: '1' }),
      app('app-warn', 'http-hello LOG_LEVEL=warn', { LOG_LEVEL: 'warn', WORKERS: '1' }),
      // The same with answer control off: what answer control costs a plain GET /.
      app('app-no-control', 'http-hello ANSWER_CONTROL=false', {
        LOG_LEVEL: 'info',
        WORKERS: '1',
        ANSWER_CONTROL: 'false',
      }),
      app('app-workers2', 'http-hello WORKERS=2', { LOG_LEVEL: 'info', WORKERS: '2' }),
      {
        id: 'bare',
        label: 'bare Node http',
        start: (ctx) => startNodeScript(ctx, 'bare-http', 'baselines/http-hello-naive.mjs'),
      },
      {
        id: 'nginx',
        label: 'nginx (1 worker)',
        skip: () => nginxMissing(),
        start: (ctx) => startNginx(ctx),
      },
    ],
    measure: async (ctx, server) => {
      const url = `http://127.0.0.1:${server.port}/`;
      // JIT warm-up, so the measured seconds compare steady states.
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
        label: 'req/s, default settings vs bare',
        metric: 'reqPerSec',
        app: 'app',
        baseline: 'bare',
        target: 0.85,
      },
      {
        kind: 'ratio',
        label: 'req/s, LOG_LEVEL=warn vs bare',
        metric: 'reqPerSec',
        app: 'app-warn',
        baseline: 'bare',
        target: 0.95,
      },
      {
        kind: 'ratio',
        label: 'req/s, default settings vs ANSWER_CONTROL=false',
        metric: 'reqPerSec',
        app: 'app',
        baseline: 'app-no-control',
        target: 0.95,
        note: 'what answer control costs a plain GET / (issue 24: nothing, within noise)',
      },
      {
        kind: 'ratio',
        label: 'req/s, WORKERS=2 vs WORKERS=1',
        metric: 'reqPerSec',
        app: 'app-workers2',
        baseline: 'app',
        op: '>',
        target: 1,
        note: 'the load generator runs on the same machine: on 2 cores it takes one, so two workers share the other',
      },
      {
        kind: 'ratio',
        label: 'req/s, default settings vs nginx',
        metric: 'reqPerSec',
        app: 'app',
        baseline: 'nginx',
      },
      {
        kind: 'ratio',
        label: 'req/s, bare Node vs nginx',
        metric: 'reqPerSec',
        app: 'bare',
        baseline: 'nginx',
      },
      {
        kind: 'ratio',
        label: 'p99 latency, default settings vs bare',
        metric: 'latencyP99Ms',
        app: 'app',
        baseline: 'bare',
      },
      { kind: 'info', label: 'app peak RSS (WORKERS=1)', metric: 'peakRssMB', app: 'app' },
      {
        kind: 'info',
        label: 'app peak RSS (WORKERS=2, all processes)',
        metric: 'peakRssMB',
        app: 'app-workers2',
      },
    ],
  },
];
