import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readExamples, runExample } from './readme-examples.js';
import { type ReadyApp, startApp } from './spawn-app.js';

export interface ReadmeSuiteOptions {
  /** Path of the app's README.md. */
  readme: string;
  /** Path of the app's dist/main.js. */
  main: string;
  /** The config table generated from the app's declarations (configTable(schema)). */
  configTable: string;
  /** The documented default ports, rewritten to the ones the test app got. */
  defaultPorts: { port: number; adminPort: number };
  /** Environment for the app the examples run against. */
  env?: Record<string, string>;
  /** The least number of examples the README must have (so deleting them fails). */
  minExamples: number;
  /**
   * Where the examples run. Default: the repository root, where a user types
   * them (READMEs say so, and name files from there: apps/<app>/dist/cli.js).
   */
  cwd?: string;
}

/**
 * The README tests every app has: its config table matches the declarations,
 * and every ```console example runs against the real app, printing what the
 * README says it prints. The app runs as `pnpm start` runs it (its defaults;
 * `env` only for what a test cannot do otherwise), and the examples from the
 * repository root, as a user pastes them; only the ports and the certificate
 * folder are this run's own.
 */
export function readmeSuite(opts: ReadmeSuiteOptions): void {
  describe('README', () => {
    it('documents every variable, generated from the config declarations', () => {
      expect(readFileSync(opts.readme, 'utf8')).toContain(opts.configTable);
    });

    describe('examples', () => {
      let app: ReadyApp;
      // `pnpm start` keeps a TLS app's self-signed certificate in
      // .netlab/certs/<app>/ (TLS_CERT_DIR), and the README's commands name
      // that path: here a folder of this run's own stands in for it, so
      // concurrent runs never share one.
      const name = basename(dirname(opts.readme));
      const certPath = `.netlab/certs/${name}/`;
      const certDir = readFileSync(opts.readme, 'utf8').includes(certPath)
        ? mkdtempSync(join(tmpdir(), `netlab-readme-${name}-`))
        : undefined;
      beforeAll(async () => {
        app = await startApp(opts.main, {
          HOST: '127.0.0.1',
          ...(certDir ? { TLS_CERT_DIR: certDir } : {}),
          ...opts.env,
        });
      });
      afterAll(() => {
        app.kill();
        if (certDir) rmSync(certDir, { recursive: true, force: true });
      });

      const examples = readExamples(opts.readme);
      it('has examples to run', () =>
        expect(examples.length).toBeGreaterThanOrEqual(opts.minExamples));
      it.each(examples.map((e) => [e.command, e] as const))('$ %s', async (_, example) => {
        const ports = {
          [opts.defaultPorts.port]: app.port,
          [opts.defaultPorts.adminPort]: app.adminPort,
        };
        const command = certDir
          ? example.command.replaceAll(certPath, `${certDir}/`)
          : example.command;
        const cwd = opts.cwd ?? dirname(dirname(dirname(opts.readme)));
        const result = await runExample({ ...example, command }, ports, 10_000, cwd);
        expect(
          result.matches,
          `README line ${example.line} printed:\n${result.stdout}${result.stderr}`,
        ).toBe(true);
      });
    });
  });
}
