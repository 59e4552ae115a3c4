import { configTable } from '@netlab/common';
import { readmeSuite } from '@netlab/testkit';
import { afterAll, beforeAll } from 'vitest';
import { schema } from '../src/config.js';
import { type FixtureDns, startFixtureDns } from './fixture-dns.js';
import { MAIN, README } from './helpers.js';

// The examples run against the app asking the fixture DNS server, so they
// are hermetic: readmeSuite reads `env` when it starts the app, after this
// file's beforeAll has filled it in.
const env: Record<string, string> = {};
let dns: FixtureDns;
beforeAll(async () => {
  dns = await startFixtureDns();
  env.DNS_SERVERS = dns.server;
});
afterAll(() => dns.close());

readmeSuite({
  readme: README,
  main: MAIN,
  configTable: configTable(schema),
  defaultPorts: { port: 8053, adminPort: 9004 },
  env,
  minExamples: 16,
});
