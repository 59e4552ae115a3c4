import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const run = promisify(execFile);

export const tempDir = (prefix: string) => mkdtemp(join(tmpdir(), `netlab-tls-${prefix}-`));

export async function fileIn(dir: string, name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

/** `openssl x509 -text` of a PEM certificate. */
export async function opensslText(pem: string): Promise<string> {
  const dir = await tempDir('x509');
  const file = await fileIn(dir, 'cert.pem', pem);
  return (await run('openssl', ['x509', '-noout', '-text', '-in', file])).stdout;
}
