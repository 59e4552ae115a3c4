import { configTable } from '@netlab/common';
import { readmeSuite } from '@netlab/testkit';
import { schema } from '../src/config.js';
import { MAIN, README } from './helpers.js';

readmeSuite({
  readme: README,
  main: MAIN,
  configTable: configTable(schema),
  defaultPorts: { port: 8090, adminPort: 9006 },
  minExamples: 15,
});
