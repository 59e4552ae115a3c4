import { configTable } from '@netlab/common';
import { readmeSuite } from '@netlab/testkit';
import { schema } from '../src/config.js';
import { MAIN, README } from './helpers.js';

// The examples run as a user runs them, from the repository root against
// `pnpm start`, which keeps the certificate in .netlab/certs/https-secure/:
// readmeSuite points that path at a fresh folder of this run's own, so
// parallel runs never share one (no fixed /tmp name).
readmeSuite({
  readme: README,
  main: MAIN,
  configTable: configTable(schema),
  defaultPorts: { port: 8443, adminPort: 9002 },
  minExamples: 15,
});
