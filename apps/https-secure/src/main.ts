#!/usr/bin/env node
import { hostname } from 'node:os';
import { EXIT_CONFIG, formatIssue, parseConfig, runService } from '@netlab/common';
import { type PreparedTls, prepareTls } from '@netlab/tls';
import { schema } from './config.js';
import { createHttpsServer, type HttpsServer } from './server.js';
import { SERVICE, version } from './version.js';

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
// The conventional "reload your config" signal: read the certificate files again.
process.on('SIGHUP', () => void server?.reloadCertificate('SIGHUP'));

await runService(
  {
    name: SERVICE,
    version,
    schema,
    create: ({ config, logger, registry }) => {
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
