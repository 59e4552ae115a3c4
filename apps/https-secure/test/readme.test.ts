import { configTable } from '@netlab/common';
import { readmeSuite } from '@netlab/testkit';
import { schema } from '../src/config.js';
import { MAIN, README } from './helpers.js';

readmeSuite({
  readme: README,
  main: MAIN,
  configTable: configTable(schema),
  defaultPorts: { port: 8443, adminPort: 9002 },
  // The README says so: the examples verify the certificate kept here.
  env: { TLS_CERT_DIR: '/tmp/netlab-https-secure' },
  minExamples: 13,
});
