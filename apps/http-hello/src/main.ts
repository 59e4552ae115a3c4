#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { runService } from '@netlab/common';
import { createClusterPrimary } from './cluster.js';
import { schema } from './config.js';
import { createHelloServer } from './server.js';
import { SERVICE, version } from './version.js';

await runService(
  {
    name: SERVICE,
    version,
    schema,
    create: ({ config, logger, registry }) =>
      config.WORKERS > 1
        ? createClusterPrimary(config, {
            logger,
            registry,
            workerEntry: fileURLToPath(new URL('./worker.js', import.meta.url)),
          })
        : createHelloServer(config, { logger, registry, version, pid: process.pid }),
  },
  process,
);
