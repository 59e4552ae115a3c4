import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../..', import.meta.url));

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to its end (bounded by `timeoutMs`) and returns what it
 * printed. Synchronous on purpose: the suite is a script of steps, one at a
 * time, against one stack.
 */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Result {
  const r = spawnSync(cmd, args, {
    cwd: root,
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
    env: opts.env ?? process.env,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) return { status: null, stdout: r.stdout ?? '', stderr: String(r.error) };
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Like run, but throws (with what the command printed) unless it exits 0. */
export function ok(
  cmd: string,
  args: readonly string[],
  opts: Parameters<typeof run>[2] = {},
): string {
  const r = run(cmd, args, opts);
  if (r.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout.slice(-4000)}${r.stderr.slice(-4000)}`,
    );
  }
  return r.stdout;
}

/**
 * Why no engine can be used, or undefined when one answers. The engine is
 * whatever DOCKER_HOST (or the default socket) points at.
 */
export function engineMissing(): string | undefined {
  const server = run('docker', ['version', '--format', '{{.Server.Version}}'], {
    timeoutMs: 20_000,
  });
  if (server.status !== 0) {
    const why = (server.stderr.trim().split('\n')[0] ?? '') || 'no answer';
    return `no Docker engine reachable (docker version: ${why})`;
  }
  if (composeCommand() === undefined) return 'neither `docker compose` nor `docker-compose` runs';
  return undefined;
}

/** `docker compose` (v2, or the v1 shim) where it runs, else v1's `docker-compose`. */
export function composeCommand(): string[] | undefined {
  if (run('docker', ['compose', 'version'], { timeoutMs: 20_000 }).status === 0) {
    return ['docker', 'compose'];
  }
  if (run('docker-compose', ['version'], { timeoutMs: 20_000 }).status === 0) {
    return ['docker-compose'];
  }
  return undefined;
}
