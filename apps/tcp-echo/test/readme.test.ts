import { configTable } from '@netlab/common';
import { readmeSuite } from '@netlab/testkit';
import { schema } from '../src/config.js';
import { MAIN, README } from './helpers.js';

readmeSuite({
  readme: README,
  main: MAIN,
  configTable: configTable(schema),
  defaultPorts: { port: 7000, adminPort: 9000 },
  minExamples: 4,
});
