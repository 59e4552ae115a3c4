import { configTable } from '@netlab/common';
import { readmeSuite } from '@netlab/testkit';
import { schema } from '../src/config.js';
import { MAIN, README } from './helpers.js';

readmeSuite({
  readme: README,
  main: MAIN,
  configTable: configTable(schema),
  defaultPorts: { port: 41234, adminPort: 9003 },
  // Dual-stack, as HOST unset gives, so the IPv6 example reaches it too.
  env: { HOST: '::' },
  minExamples: 9,
});
