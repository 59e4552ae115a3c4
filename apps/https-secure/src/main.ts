#!/usr/bin/env node
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  type ClusterPrimary,
  createClusterPrimary,
  EXIT_CONFIG,
  formatIssue,
  parseConfig,
  runService,
} from '@netlab/common';
import { type PreparedTls, prepareTls } from '@netlab/tls';
import { schema } from './config.js';
import { createHttpsServer, type HttpsServer } from './server.js';
import { SERVICE, version } from './version.js';
import { shareWithWorkers } from './worker-tls.js';

// The certificate is part of the config: a missing, unreadable or mismatched
// one stops the start with one line per variable and exit 78, like any bad
// variable, before anything listens. (A bad variable is reported by
// runService below, which parses the same environment.)
let tls: PreparedTls | undefined;
const parsed = parseConfig(schema, process.env);
if (parsed.ok) {
  const prepared = await prepareTls(parsed.config, { hostname: hostname(), commonName: SERVICE });
  if (!prepared.ok) {
    for (const issue of prepared.issues) process.stderr.write(`${formatIssue(issue)}\n`);
    process.exit(EXIT_CONFIG);
  }
  tls = prepared.tls;
}

let server: HttpsServer | undefined;
let primary: ClusterPrimary | undefined;
// The conventional "reload your config" signal: read the certificate files
// again (each worker reads its own; the primary passes the signal on).
process.on('SIGHUP', () => {
  void server?.reloadCertificate('SIGHUP');
  for (const pid of primary?.pids ?? []) process.kill(pid, 'SIGHUP');
});

await runService(
  {
    name: SERVICE,
    version,
    schema,
    envPrefixes: ['HSTS_', 'H2_', 'HTTP_REDIRECT_'],
    create: ({ config, logger, registry }) => {
      if (config.WORKERS > 1) {
        // Workers inherit the environment: give them the primary's certificate.
        const shared = shareWithWorkers(tls!);
        Object.assign(process.env, shared.env);
        process.on('exit', shared.cleanup);
        primary = createClusterPrimary(config, {
          logger,
          registry,
          workerEntry: fileURLToPath(new URL('./worker.js', import.meta.url)),
          metricPrefix: 'netlab_http',
        });
        return primary;
      }
      server = createHttpsServer(config, {
        logger,
        registry,
        version,
        pid: process.pid,
        tls: tls!,
      });
      return server;
    },
  },
  process,
);
