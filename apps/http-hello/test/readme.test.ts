import { readFileSync } from 'node:fs';
import { configTable } from '@netlab/common';
import { type ReadyApp, readExamples, runExample, startApp } from '@netlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../src/config.js';
import { MAIN, README } from './helpers.js';

describe('README', () => {
  it('documents every variable, generated from the config declarations', () => {
    expect(readFileSync(README, 'utf8')).toContain(configTable(schema));
  });

  describe('examples', () => {
    let app: ReadyApp;
    beforeAll(async () => {
      app = await startApp(MAIN, { HOST: '127.0.0.1' });
    });
    afterAll(() => app.kill());

    const examples = readExamples(README);
    it('has examples to run', () => expect(examples.length).toBeGreaterThanOrEqual(10));
    it.each(examples.map((e) => [e.command, e] as const))('$ %s', async (_, example) => {
      const result = await runExample(example, { 8080: app.port, 9001: app.adminPort });
      expect(
        result.matches,
        `README line ${example.line} printed:\n${result.stdout}${result.stderr}`,
      ).toBe(true);
    });
  });
});
