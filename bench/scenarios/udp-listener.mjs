import dgram from 'node:dgram';
import { join } from 'node:path';
import { buildC } from '../harness/c-build.mjs';
import { freeUdpPort } from '../harness/free-port.mjs';
import { appMissing, startNetlabApp } from '../harness/netlab-app.mjs';
import { runNodeClient } from '../harness/node-client.mjs';
import { cpuSeconds } from '../harness/process-cpu.mjs';
import { startServer, waitUntil } from '../harness/server-process.mjs';

/** Every subject asks for the same kernel receive buffer: udp-listener's default, 4 MiB. */
const RECV_BUFFER_BYTES = 4 * 1024 * 1024;
const DATAGRAM_BYTES = 512;

/** True when the UDP counter on `port` answers a 1-byte question (the baselines' protocol). */
function answersCount(port) {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    const done = (ok) => {
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 500);
    socket.once('message', () => done(true));
    socket.once('error', () => done(false));
    socket.send('?', port, '127.0.0.1');
  });
}

async function startCounter(ctx, name, command, args) {
  const port = await freeUdpPort();
  const server = await startServer({
    name,
    command,
    args: [...args, String(port), '127.0.0.1', String(RECV_BUFFER_BYTES)],
    cwd: ctx.root,
    tmpDir: ctx.tmpDir,
    ready: () => waitUntil(`${name} udp port ${port}`, () => answersCount(port)),
  });
  return Object.assign(server, { port });
}

const appEnv = { UDP_RECV_BUFFER_BYTES: String(RECV_BUFFER_BYTES) };

export const scenarios = [
  {
    id: 'udp-listener-flood',
    app: 'udp-listener',
    title: 'udp-listener under a flood',
    measures:
      `Share of 200,000 datagrams of ${DATAGRAM_BYTES} bytes (smoke: 20,000) the receiver counts, ` +
      'sent from one Node socket as fast as it can (64 sends in flight; the client pinned to CPU 0 ' +
      'like the HTTP load generator) to 127.0.0.1; the rest the ' +
      `kernel drops when the receive buffer is full. Every receiver asks for SO_RCVBUF = ` +
      `${RECV_BUFFER_BYTES} bytes (Linux grants at most net.core.rmem_max and reports twice that). ` +
      'echo mode: every datagram answered (UDP_REPLY_RATE_PER_SEC and UDP_REPLY_BURST raised to 1,000,000).',
    subjects: [
      {
        id: 'app-none',
        label: 'udp-listener, UDP_REPLY=none',
        skip: (ctx) => appMissing(ctx, 'udp-listener'),
        start: (ctx) =>
          startNetlabApp(ctx, 'udp-listener', { ...appEnv, UDP_REPLY: 'none' }, { udp: true }),
      },
      {
        id: 'app-echo',
        label: 'udp-listener, UDP_REPLY=echo',
        skip: (ctx) => appMissing(ctx, 'udp-listener'),
        start: (ctx) =>
          startNetlabApp(
            ctx,
            'udp-listener',
            {
              ...appEnv,
              UDP_REPLY: 'echo',
              UDP_REPLY_RATE_PER_SEC: '1000000',
              UDP_REPLY_BURST: '1000000',
            },
            { udp: true },
          ),
      },
      {
        id: 'naive',
        label: 'naive Node counter',
        start: (ctx) =>
          startCounter(ctx, 'naive-udp-counter', process.execPath, [
            join(ctx.benchDir, 'baselines/udp-counter-naive.mjs'),
          ]),
      },
      {
        id: 'c',
        label: 'C recv() loop',
        skip: async (ctx) => (await buildC(ctx, 'udp-recv')).skipped ?? null,
        start: async (ctx) => {
          const { path } = await buildC(ctx, 'udp-recv');
          return startCounter(ctx, 'c-udp-recv', path, []);
        },
      },
    ],
    measure: async (ctx, server) => {
      const args = [
        '--port',
        String(server.port),
        '--count',
        String(ctx.smoke ? 20_000 : 200_000),
        '--size',
        String(DATAGRAM_BYTES),
      ];
      if (server.adminPort) args.push('--admin-port', String(server.adminPort));
      const cpuBefore = cpuSeconds(server.pid);
      const result = await runNodeClient(ctx, 'udp-flood.mjs', args, 120_000, { pinned: true });
      const cpu = cpuSeconds(server.pid) - cpuBefore;
      const { sharePct, sentPerSec, seconds, counted, recvBufferKiB } = result;
      return {
        sharePct,
        sentPerSec,
        seconds,
        // What each datagram cost the receiver, whatever share it got: far
        // less at the mercy of a noisy machine than the share itself.
        cpuUsPerDatagram: counted > 0 ? (cpu * 1e6) / counted : null,
        ...(recvBufferKiB ? { recvBufferKiB } : {}),
      };
    },
    checks: [
      {
        kind: 'ratio',
        label: 'share counted, UDP_REPLY=none vs C recv() loop',
        metric: 'sharePct',
        app: 'app-none',
        baseline: 'c',
        target: 0.97,
      },
      {
        kind: 'ratio',
        label: 'share counted, UDP_REPLY=echo vs C recv() loop',
        metric: 'sharePct',
        app: 'app-echo',
        baseline: 'c',
      },
      {
        kind: 'ratio',
        label: 'share counted, naive Node counter vs C recv() loop',
        metric: 'sharePct',
        app: 'naive',
        baseline: 'c',
      },
      {
        kind: 'ratio',
        label: 'share counted, UDP_REPLY=none vs naive Node counter',
        metric: 'sharePct',
        app: 'app-none',
        baseline: 'naive',
        target: 0.97,
      },
      {
        kind: 'ratio',
        label: 'receiver CPU per datagram, UDP_REPLY=none vs naive Node counter',
        metric: 'cpuUsPerDatagram',
        app: 'app-none',
        baseline: 'naive',
        target: 1.1,
        op: '<=',
      },
      {
        kind: 'ratio',
        label: 'receiver CPU per datagram, naive Node counter vs C recv() loop',
        metric: 'cpuUsPerDatagram',
        app: 'naive',
        baseline: 'c',
      },
      {
        kind: 'info',
        label: `receive buffer granted (${RECV_BUFFER_BYTES / 1024} KiB asked, every subject)`,
        metric: 'recvBufferKiB',
        app: 'app-none',
      },
      { kind: 'info', label: 'datagrams/s sent to the C loop', metric: 'sentPerSec', app: 'c' },
      {
        kind: 'info',
        label: 'app peak RSS (UDP_REPLY=none)',
        metric: 'peakRssMB',
        app: 'app-none',
      },
    ],
  },
];
