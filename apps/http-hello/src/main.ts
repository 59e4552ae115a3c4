#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { createClusterPrimary, runService } from '@netlab/common';
import { schema } from './config.js';
import { createHelloServer } from './server.js';
import { SERVICE, version } from './version.js';

await runService(
  {
    name: SERVICE,
    version,
    schema,
    envPrefixes: ['HELLO_'],
    create: ({ config, logger, registry }) =>
      config.WORKERS > 1
        ? createClusterPrimary(config, {
            logger,
            registry,
            workerEntry: fileURLToPath(new URL('./worker.js', import.meta.url)),
            metricPrefix: 'netlab_http',
          })
        : createHelloServer(config, { logger, registry, version, pid: process.pid }),
  },
  process,
);
