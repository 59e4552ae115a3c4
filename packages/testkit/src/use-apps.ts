import { afterEach } from 'vitest';
import { type ReadyApp, startApp } from './spawn-app.js';

/**
 * For a test file that starts real app processes: returns `start(env)`, which
 * starts `main` on loopback with ephemeral ports, and kills every app it
 * started after each test, whatever the test did to it.
 */
export function useApps(
  main: string,
  baseEnv: Record<string, string> = { HOST: '127.0.0.1' },
): (env?: Record<string, string>) => Promise<ReadyApp> {
  const apps: ReadyApp[] = [];
  afterEach(() => {
    for (const app of apps.splice(0)) app.kill();
  });
  return async (env = {}) => {
    const app = await startApp(main, { ...baseEnv, ...env });
    apps.push(app);
    return app;
  };
}

/**
 * The status of the app's GET /readyz. Bounded in time: a probe racing the
 * app's exit was seen to leave fetch waiting forever on a loaded machine.
 */
export const readyz = (app: ReadyApp): Promise<number> =>
  fetch(`http://127.0.0.1:${app.adminPort}/readyz`, { signal: AbortSignal.timeout(5000) }).then(
    (r) => r.status,
  );
