import { configTable } from '@netlab/common';
import { readmeSuite } from '@netlab/testkit';
import { schema } from '../src/config.js';
import { MAIN, README } from './helpers.js';

// The examples run against the app with the defaults `pnpm start` gives
// it: the names under netlab.test come from the built-in demo zone
// (DNS_DEMO_ZONE), so a user gets the same answers with no DNS server of
// their own, and so does this test, offline.
readmeSuite({
  readme: README,
  main: MAIN,
  configTable: configTable(schema),
  defaultPorts: { port: 8053, adminPort: 9004 },
  env: {},
  minExamples: 17,
});
