#!/usr/bin/env node
// A cluster worker (WORKERS > 1): the HTTPS server only. The primary owns the
// admin server, the signals and the decision to stop (see @netlab/common's
// runClusterWorker), and hands over a generated certificate (worker-tls.ts).
import { hostname } from 'node:os';
import { runClusterWorker } from '@netlab/common';
import { prepareTls, TlsError } from '@netlab/tls';
import { schema } from './config.js';
import { createHttpsServer, type HttpsServer } from './server.js';
import { SERVICE, version } from './version.js';

let server: HttpsServer | undefined;
process.on('SIGHUP', () => void server?.reloadCertificate('SIGHUP'));

await runClusterWorker(
  {
    name: SERVICE,
    version,
    schema,
    create: async ({ config, logger, registry }) => {
      // The primary checked the same files before forking us.
      const prepared = await prepareTls(config, { hostname: hostname(), commonName: SERVICE });
      if (!prepared.ok) {
        const [first] = prepared.issues;
        throw new TlsError('NETLAB_ERR_TLS_CONTEXT', first!.variable, first!.message);
      }
      server = createHttpsServer(config, {
        logger,
        registry,
        version,
        pid: process.pid,
        tls: prepared.tls,
        // Every worker writes to the primary's stdout.
        sharedLogOutput: true,
      });
      return server;
    },
  },
  process,
);
