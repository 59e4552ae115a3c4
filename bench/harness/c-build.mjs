import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { which } from './which.mjs';

const run = promisify(execFile);
const built = new Map();

/**
 * Compiles bench/c/<name>.c with `cc -O2` into bench/bin/<name> (gitignored)
 * when the binary is missing or older than its source. Resolves to
 * { path } or { skipped: reason } when there is no C compiler.
 */
export function buildC(ctx, name) {
  if (!built.has(name)) built.set(name, compile(ctx, name));
  return built.get(name);
}

async function compile(ctx, name) {
  const cc = which('cc');
  if (!cc) return { skipped: 'no C compiler (cc) on PATH' };
  const src = join(ctx.benchDir, 'c', `${name}.c`);
  const binDir = join(ctx.benchDir, 'bin');
  const out = join(binDir, name);
  mkdirSync(binDir, { recursive: true });
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(src).mtimeMs) return { path: out };
  try {
    await run(cc, ['-O2', '-Wall', '-o', out, src]);
  } catch (error) {
    throw new Error(`cc -O2 ${src} failed:\n${error.stderr || error.message}`);
  }
  return { path: out };
}
