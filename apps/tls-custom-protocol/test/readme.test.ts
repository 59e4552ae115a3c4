import { fileURLToPath } from 'node:url';
import { configTable } from '@netlab/common';
import { readmeSuite } from '@netlab/testkit';
import { schema } from '../src/config.js';
import { MAIN, README } from './helpers.js';

readmeSuite({
  readme: README,
  main: MAIN,
  configTable: configTable(schema),
  defaultPorts: { port: 7443, adminPort: 9005 },
  // The examples are written for a person at the repository root.
  cwd: fileURLToPath(new URL('../../../', import.meta.url)),
  minExamples: 8,
});
