#!/usr/bin/env node
// A cluster worker (WORKERS > 1): the HTTP server only. The primary owns the
// admin server, the signals and the decision to stop (see @netlab/common's
// runClusterWorker and createClusterPrimary).
import { runClusterWorker } from '@netlab/common';
import { schema } from './config.js';
import { createHelloServer } from './server.js';
import { SERVICE, version } from './version.js';

await runClusterWorker(
  {
    name: SERVICE,
    version,
    schema,
    create: ({ config, logger, registry }) =>
      createHelloServer(config, {
        logger,
        registry,
        version,
        pid: process.pid,
        // Every worker writes to the primary's stdout.
        sharedLogOutput: true,
      }),
  },
  process,
);
