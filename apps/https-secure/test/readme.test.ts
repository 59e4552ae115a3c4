import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configTable } from '@netlab/common';
import { readmeSuite } from '@netlab/testkit';
import { afterAll } from 'vitest';
import { schema } from '../src/config.js';
import { MAIN, README } from './helpers.js';

// The examples run as a user runs them, from the repository root against
// `pnpm start`, which keeps the certificate in .netlab/https-secure/: here
// a fresh directory stands in for the root, so parallel runs never share a
// path (no fixed /tmp name).
const root = mkdtempSync(join(tmpdir(), 'https-secure-readme-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

readmeSuite({
  readme: README,
  main: MAIN,
  configTable: configTable(schema),
  defaultPorts: { port: 8443, adminPort: 9002 },
  env: { TLS_CERT_DIR: join(root, '.netlab/https-secure') },
  cwd: root,
  minExamples: 15,
});
