import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, freeUdpPort } from './free-port.mjs';
import { httpStatus, startServer, tcpAccepts, waitUntil } from './server-process.mjs';

/** Path of an app's built entry point. */
export function appMain(ctx, app) {
  return join(ctx.root, 'apps', app, 'dist', 'main.js');
}

/** A skip reason when the app is not built, else null. */
export function appMissing(ctx, app) {
  const main = appMain(ctx, app);
  return existsSync(main) ? null : `apps/${app}/dist/main.js not found (not built yet?)`;
}

/**
 * Starts `node apps/<app>/dist/main.js` (or another entry file, `main`) on
 * fresh loopback ports. Ready means GET /readyz on the admin port answers 200
 * and the service port accepts. `udp: true` is for an app whose service port
 * is UDP: a free UDP port, and /readyz alone (there is nothing to connect to;
 * a netlab app is only ready once its socket is bound).
 */
export async function startNetlabApp(
  ctx,
  app,
  env = {},
  { udp = false, main = appMain(ctx, app) } = {},
) {
  const port = udp ? await freeUdpPort() : await freePort();
  let adminPort = await freePort();
  while (adminPort === port) adminPort = await freePort();
  const server = await startServer({
    name: app,
    command: process.execPath,
    args: [main],
    cwd: ctx.root,
    tmpDir: ctx.tmpDir,
    env: {
      HOST: '127.0.0.1',
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      LOG_LEVEL: 'info',
      SHUTDOWN_TIMEOUT_MS: '1000',
      ...env,
    },
    ready: () =>
      waitUntil(`${app} /readyz`, async () => {
        const status = await httpStatus(`http://127.0.0.1:${adminPort}/readyz`);
        return status === 200 && (udp || (await tcpAccepts(port)));
      }),
  });
  return Object.assign(server, { port, adminPort });
}

/** Starts a plain Node script from bench/ with `<port> 127.0.0.1` as arguments. */
export async function startNodeScript(ctx, name, script, env = {}) {
  const port = await freePort();
  const server = await startServer({
    name,
    command: process.execPath,
    args: [join(ctx.benchDir, script), String(port), '127.0.0.1'],
    cwd: ctx.root,
    tmpDir: ctx.tmpDir,
    env,
    ready: () => waitUntil(`${name} port ${port}`, () => tcpAccepts(port)),
  });
  return Object.assign(server, { port });
}
