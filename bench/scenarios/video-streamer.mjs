import { spawn } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { appMissing, startNetlabApp, startNodeScript } from '../harness/netlab-app.mjs';
import { nginxMissing, startNginx } from '../harness/nginx.mjs';
import { loadPinning } from '../harness/pin.mjs';
import { which } from '../harness/which.mjs';

const MiB = 1024 * 1024;

/**
 * The files downloaded: one of 1 GiB for a single client, and one of
 * 256 MiB for 32 at once (32 GiB per run would make the scenario take
 * minutes; how fast 32 downloads go does not depend on how long each is).
 * Smoke: 16 MiB each.
 */
const FILES = {
  single: { name: 'single.mp4', bytes: (ctx) => (ctx.smoke ? 16 : 1024) * MiB },
  parallel: { name: 'parallel.mp4', bytes: (ctx) => (ctx.smoke ? 16 : 256) * MiB },
};

/**
 * The files, sparse, in the run's temp dir, made once per run: they take no
 * disk, and reading a hole costs no I/O, so every subject reads at memory
 * speed and the figure is the server's. The temp dir goes with the run.
 */
function mediaDir(ctx) {
  const dir = join(ctx.tmpDir, 'video-streamer-media');
  for (const file of Object.values(FILES)) {
    const path = join(dir, file.name);
    if (existsSync(path)) continue;
    mkdirSync(dir, { recursive: true });
    const fd = openSync(path, 'w');
    ftruncateSync(fd, file.bytes(ctx));
    closeSync(fd);
  }
  return dir;
}

const subjects = [
  {
    id: 'app',
    label: 'video-streamer',
    skip: (ctx) => appMissing(ctx, 'video-streamer'),
    start: (ctx) =>
      startNetlabApp(ctx, 'video-streamer', { MEDIA_DIR: mediaDir(ctx), LOG_LEVEL: 'info' }),
  },
  {
    id: 'naive',
    label: 'naive createReadStream().pipe(res)',
    start: (ctx) =>
      startNodeScript(ctx, 'naive-files', 'baselines/video-streamer-naive.mjs', {
        NETLAB_MEDIA_DIR: mediaDir(ctx),
      }),
  },
  {
    id: 'nginx',
    label: 'nginx (1 worker, sendfile on)',
    skip: () => nginxMissing(),
    start: (ctx) =>
      startNginx(ctx, undefined, {
        location: `root ${mediaDir(ctx)};
      rewrite ^/videos/(.*)$ /$1 break;
      sendfile on;
      tcp_nopush on;
      default_type application/octet-stream;`,
      }),
  },
];

/**
 * Downloads `count` copies of the file at once with one curl process
 * (`-Z`: parallel transfers), pinned like every HTTP load generator here,
 * and returns MB/s over the wall-clock time of the whole batch.
 */
async function download(ctx, port, count) {
  const file = count === 1 ? FILES.single : FILES.parallel;
  const url = `http://127.0.0.1:${port}/videos/${file.name}`;
  const args = ['-s', '--fail', '-w', '%{size_download}\\n'];
  if (count > 1) args.push('-Z', '--parallel-immediate', '--parallel-max', String(count));
  for (let i = 0; i < count; i++) args.push('-o', '/dev/null', url);
  const [cmd, wrapped] = loadPinning(true).wrap(which('curl'), args);
  const started = performance.now();
  const out = await new Promise((resolve, reject) => {
    const child = spawn(cmd, wrapped, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    let errors = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (text += d));
    // -Z draws its progress meter even with -s; keep only the tail for errors.
    child.stderr.setEncoding('utf8').on('data', (d) => (errors = (errors + d).slice(-2000)));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(text) : reject(new Error(`curl exited with ${code}: ${errors}`)),
    );
  });
  const seconds = (performance.now() - started) / 1000;
  const bytes = out
    .trim()
    .split('\n')
    .reduce((sum, n) => sum + Number(n), 0);
  if (bytes !== count * file.bytes(ctx)) {
    throw new Error(`curl got ${bytes} bytes, expected ${count * file.bytes(ctx)}`);
  }
  return { mbps: bytes / 1e6 / seconds, seconds };
}

/** The app against nginx (the target) and the naive pipe, and the naive pipe against nginx. */
const throughputChecks = (target) => [
  {
    kind: 'ratio',
    label: 'MB/s vs nginx sendfile',
    metric: 'mbps',
    app: 'app',
    baseline: 'nginx',
    target,
  },
  { kind: 'ratio', label: 'MB/s vs naive', metric: 'mbps', app: 'app', baseline: 'naive' },
  {
    kind: 'ratio',
    label: 'naive MB/s vs nginx sendfile',
    metric: 'mbps',
    app: 'naive',
    baseline: 'nginx',
  },
];

const curlMissing = () => (which('curl') ? null : 'curl not installed');

export const scenarios = [
  {
    id: 'video-streamer-single',
    app: 'video-streamer',
    title: 'video-streamer one download',
    measures:
      'MB/s of one `curl -o /dev/null` download of a 1 GiB sparse file (smoke: 16 MiB), ' +
      'client pinned to CPU 0, after a warm-up download of the same file.',
    skip: curlMissing,
    subjects,
    measure: async (ctx, server) => {
      if (!ctx.smoke) await download(ctx, server.port, 1);
      return download(ctx, server.port, 1);
    },
    checks: [
      ...throughputChecks(0.9),
      { kind: 'info', label: 'app peak RSS', metric: 'peakRssMB', app: 'app' },
    ],
  },
  {
    id: 'video-streamer-parallel',
    app: 'video-streamer',
    title: 'video-streamer 32 downloads at once',
    measures:
      'MB/s of 32 simultaneous downloads of a 256 MiB sparse file (smoke: 16 MiB) by one ' +
      '`curl -Z` process pinned to CPU 0; peak RSS of each server.',
    skip: curlMissing,
    subjects,
    measure: (ctx, server) => download(ctx, server.port, 32),
    checks: [
      ...throughputChecks(0.5),
      { kind: 'limit', label: 'app peak RSS', metric: 'peakRssMB', app: 'app', target: 150 },
      { kind: 'info', label: 'naive peak RSS', metric: 'peakRssMB', app: 'naive' },
      { kind: 'info', label: 'nginx peak RSS', metric: 'peakRssMB', app: 'nginx' },
    ],
  },
];
