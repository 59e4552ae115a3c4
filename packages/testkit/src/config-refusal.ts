import { expect } from 'vitest';
import { type SpawnedApp, spawnApp } from './spawn-app.js';

/**
 * Starts `main` with a bad `env` and checks the config convention: exit 78,
 * one stderr line per bad variable (each containing its `expected` text, in
 * that order), no stack trace. Returns the exited app for further checks.
 */
export async function expectConfigRefused(
  main: string,
  env: Record<string, string>,
  expected: string[],
): Promise<SpawnedApp> {
  const app = spawnApp(main, env);
  const { code } = await app.exited;
  expect(code).toBe(78);
  const lines = app.stderr().trim().split('\n');
  expect(lines).toHaveLength(expected.length);
  for (const [i, text] of expected.entries()) expect(lines[i]).toContain(text);
  expect(app.stderr()).not.toMatch(/\n\s+at /); // no stack trace
  return app;
}
