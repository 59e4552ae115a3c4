#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { runService } from '@netlab/common';
import { schema } from './config.js';
import { createEchoServer } from './server.js';

const { version } = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as {
  version: string;
};

await runService(
  {
    name: 'tcp-echo',
    version,
    schema,
    create: ({ config, logger, registry }) => createEchoServer(config, { logger, registry }),
  },
  process,
);
