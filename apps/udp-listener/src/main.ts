#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { runService } from '@netlab/common';
import { schema } from './config.js';
import { createUdpListener } from './server.js';

const { version } = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as {
  version: string;
};

await runService(
  {
    name: 'udp-listener',
    version,
    schema,
    create: ({ config, logger, registry }) => createUdpListener(config, { logger, registry }),
  },
  process,
);
