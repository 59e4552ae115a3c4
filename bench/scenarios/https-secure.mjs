import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { h2loadMissing, runH2load } from '../harness/h2load.mjs';
import { appMissing, startNetlabApp, startNodeScript } from '../harness/netlab-app.mjs';
import { nginxMissing, startNginx } from '../harness/nginx.mjs';
import { which } from '../harness/which.mjs';

const BODY = 'Hello HTTPS';

/**
 * One certificate for every subject of a run (EC P-256, as https-secure
 * generates by default), made with the openssl CLI into the run's temp dir,
 * so the servers differ in what they do, not in the key they sign with.
 */
function certificate(ctx) {
  const cert = join(ctx.tmpDir, 'bench-cert.pem');
  const key = join(ctx.tmpDir, 'bench-key.pem');
  if (!existsSync(cert)) {
    execFileSync(
      which('openssl'),
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-sha256']
        .concat(['-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'])
        .concat(['-keyout', key, '-out', cert]),
      { stdio: 'ignore' },
    );
  }
  return { cert, key };
}

const opensslMissing = () => (which('openssl') ? null : 'openssl not installed');

// wrk resumes the session of a connection it reopens (SSL_clear keeps it),
// so for full handshakes every subject turns session tickets off.
const makeApp = ({ tickets }) => ({
  id: 'app',
  label: `https-secure (LOG_LEVEL=info${tickets ? '' : ', TLS_SESSION_TICKETS=false'})`,
  skip: (ctx) => appMissing(ctx, 'https-secure') ?? opensslMissing(),
  start: (ctx) => {
    const { cert, key } = certificate(ctx);
    return startNetlabApp(ctx, 'https-secure', {
      TLS_CERT_FILE: cert,
      TLS_KEY_FILE: key,
      LOG_LEVEL: 'info',
      TLS_SESSION_TICKETS: String(tickets),
    });
  },
});

const bare = (id, label, script, { tickets }) => ({
  id,
  label: `${label}${tickets ? '' : ', no tickets'}`,
  skip: () => opensslMissing(),
  start: (ctx) => {
    const { cert, key } = certificate(ctx);
    return startNodeScript(ctx, id, script, {
      NETLAB_BENCH_TLS_CERT: cert,
      NETLAB_BENCH_TLS_KEY: key,
      ...(tickets ? {} : { NETLAB_BENCH_TLS_NO_TICKETS: '1' }),
    });
  },
});
const bareHttps = (opts) =>
  bare('bare', 'bare https.createServer', 'baselines/https-hello-bare.mjs', opts);
const bareH2 = bare('bare-h2', 'bare http2.createSecureServer', 'baselines/http2-hello-bare.mjs', {
  tickets: true,
});

const makeNginx = ({ tickets }) => ({
  id: 'nginx',
  label: `nginx with TLS (1 worker${tickets ? '' : ', no tickets'})`,
  skip: () => nginxMissing() ?? opensslMissing(),
  start: async (ctx) => {
    // The same Mozilla cipher list as the app, from the app's own settings.
    const settings = join(ctx.root, 'packages/tls/dist/settings.js');
    const { CIPHERS } = await import(pathToFileURL(settings).href);
    return startNginx(ctx, BODY, { tls: { ...certificate(ctx), ciphers: CIPHERS, tickets } });
  },
});
const keepAlive = { tickets: true };
const fullHandshakes = { tickets: false };

const secondsOf = (ctx) => (ctx.smoke ? 1 : 5);

/** wrk (or autocannon) on GET / over TLS; a 1 s warm-up first outside smoke mode. */
async function httpLoad(ctx, server, headers = {}) {
  const url = `https://127.0.0.1:${server.port}/`;
  if (!ctx.smoke) await ctx.httpLoad.run({ url, connections: 64, seconds: 1, headers });
  return ctx.httpLoad.run({ url, connections: 64, seconds: secondsOf(ctx), headers });
}

/** The app's count of resumed handshakes, from its admin /metrics. */
async function resumedHandshakes(server) {
  const text = await (await fetch(`http://127.0.0.1:${server.adminPort}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('netlab_tls_handshakes_total{resumed="true"'));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

const keepAliveNote = 'a bare Node server does about 0.5x nginx on keep-alive here (issue 9)';

export const scenarios = [
  {
    id: 'https-secure-h1',
    app: 'https-secure',
    title: 'https-secure GET / keep-alive, HTTP/1.1 over TLS',
    measures:
      'req/s and latency of `wrk -t1 -c64 -d5s --latency https://…/` (HTTP/1.1 over TLS 1.3, ' +
      'keep-alive; or autocannon) after a 1 s warm-up; smoke: 1 s.',
    skip: (ctx) => ctx.httpLoad.missing(),
    subjects: [makeApp(keepAlive), bareHttps(keepAlive), makeNginx(keepAlive)],
    measure: async (ctx, server) => {
      const r = await httpLoad(ctx, server);
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
        label: 'req/s vs bare https',
        metric: 'reqPerSec',
        app: 'app',
        baseline: 'bare',
        target: 0.85,
      },
      {
        kind: 'ratio',
        label: 'req/s vs nginx',
        metric: 'reqPerSec',
        app: 'app',
        baseline: 'nginx',
      },
      {
        kind: 'ratio',
        label: 'req/s, bare https vs nginx',
        metric: 'reqPerSec',
        app: 'bare',
        baseline: 'nginx',
        note: keepAliveNote,
      },
      { kind: 'info', label: 'app peak RSS', metric: 'peakRssMB', app: 'app' },
    ],
  },
  {
    id: 'https-secure-h2',
    app: 'https-secure',
    title: 'https-secure GET / over HTTP/2',
    measures:
      'req/s of `h2load -t1 -c64 -m1 -D5 https://…/` (HTTP/2 over TLS 1.3, one stream in flight ' +
      'per connection) after a 1 s warm-up; smoke: 1 s. h2load runs on the same CPU as wrk.',
    skip: () => h2loadMissing(),
    subjects: [makeApp(keepAlive), bareH2, makeNginx(keepAlive)],
    measure: async (ctx, server) => {
      const url = `https://127.0.0.1:${server.port}/`;
      const wrap = ctx.pinning.wrap;
      if (!ctx.smoke) await runH2load({ url, connections: 64, seconds: 1, wrap });
      const r = await runH2load({ url, connections: 64, seconds: secondsOf(ctx), wrap });
      return { reqPerSec: r.reqPerSec, errors: r.errors };
    },
    checks: [
      {
        kind: 'ratio',
        label: 'req/s vs bare http2',
        metric: 'reqPerSec',
        app: 'app',
        baseline: 'bare-h2',
        target: 0.85,
      },
      {
        kind: 'ratio',
        label: 'req/s vs nginx',
        metric: 'reqPerSec',
        app: 'app',
        baseline: 'nginx',
      },
      {
        kind: 'ratio',
        label: 'req/s, bare http2 vs nginx',
        metric: 'reqPerSec',
        app: 'bare-h2',
        baseline: 'nginx',
      },
    ],
  },
  {
    id: 'https-secure-handshakes',
    app: 'https-secure',
    title: 'https-secure full TLS handshakes',
    measures:
      'requests/s of wrk with `Connection: close` (or autocannon): every request is a new ' +
      'connection with a full TLS 1.3 handshake: session tickets are off in every subject, ' +
      'since wrk resumes when it can (the app checks its own count of resumed handshakes); ' +
      'after a 1 s warm-up; smoke: 1 s.',
    skip: (ctx) => ctx.httpLoad.missing(),
    subjects: [makeApp(fullHandshakes), bareHttps(fullHandshakes), makeNginx(fullHandshakes)],
    measure: async (ctx, server, subject) => {
      const r = await httpLoad(ctx, server, { Connection: 'close' });
      if (subject.id === 'app' && (await resumedHandshakes(server)) > r.requests * 0.01) {
        throw new Error('the load generator resumed TLS sessions: these are not full handshakes');
      }
      return { reqPerSec: r.reqPerSec, latencyP99Ms: r.latencyP99Ms, errors: r.errors };
    },
    checks: [
      {
        kind: 'ratio',
        label: 'handshakes/s vs bare https',
        metric: 'reqPerSec',
        app: 'app',
        baseline: 'bare',
        target: 0.95,
      },
      {
        kind: 'ratio',
        label: 'handshakes/s vs nginx',
        metric: 'reqPerSec',
        app: 'app',
        baseline: 'nginx',
      },
      {
        kind: 'ratio',
        label: 'handshakes/s, bare https vs nginx',
        metric: 'reqPerSec',
        app: 'bare',
        baseline: 'nginx',
        note: 'a bare Node server does about 0.74x nginx on handshakes here (issue 9)',
      },
    ],
  },
];
