#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { EXIT_CONFIG, formatIssue, parseConfig, runService } from '@netlab/common';
import { type PreparedTls, prepareTls } from '@netlab/tls';
import { schema } from './config.js';
import { createProtocolServer, type ProtocolServer } from './server.js';

const SERVICE = 'tls-custom-protocol';
const { version } = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as { version: string };

// The certificate is part of the config: missing, unreadable or mismatched
// files stop the start with one line per variable and exit 78, before
// anything listens. (Other bad variables are reported by runService, which
// parses the same environment.)
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

let server: ProtocolServer | undefined;
// The conventional "reload your config" signal: read the certificate files again.
process.on('SIGHUP', () => void server?.reloadCertificate('SIGHUP'));

await runService(
  {
    name: SERVICE,
    version,
    schema,
    create: ({ config, logger, registry }) => {
      server = createProtocolServer(config, { logger, registry, tls: tls! });
      return server;
    },
  },
  process,
);
