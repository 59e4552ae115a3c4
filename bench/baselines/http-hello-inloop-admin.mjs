// http-hello with its admin server in the main event loop, as every netlab
// app had it before the admin server moved to its own thread: the "before"
// of bench/scenarios/admin-probes.mjs. Same server, same config, same logs;
// only where /livez is answered differs.
// usage: PORT=… ADMIN_PORT=… node <this file>

import { schema } from '../../apps/http-hello/dist/config.js';
import { createHelloServer } from '../../apps/http-hello/dist/server.js';
import {
  createAdminServer,
  createLogger,
  createRegistry,
  loadConfig,
} from '../../packages/common/dist/index.js';

const config = loadConfig(schema, process.env);
const logger = createLogger({ service: 'http-hello', version: 'bench', level: config.LOG_LEVEL });
const registry = createRegistry('http-hello');
const server = createHelloServer(config, { logger, registry, version: 'bench', pid: process.pid });
const admin = createAdminServer({ metrics: registry, logger, thread: false });
await admin.listen(config.ADMIN_PORT, config.HOST);
await server.listen();
admin.setReadiness('ready');
process.on('SIGTERM', () => process.exit(0));
