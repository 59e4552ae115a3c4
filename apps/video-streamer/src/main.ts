#!/usr/bin/env node
import { runService } from '@netlab/common';
import { schema } from './config.js';
import { createStreamerServer } from './server.js';
import { SERVICE, version } from './version.js';

await runService(
  {
    name: SERVICE,
    version,
    schema,
    create: ({ config, logger, registry }) => createStreamerServer(config, { logger, registry }),
  },
  process,
);
