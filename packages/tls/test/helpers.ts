import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
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

/**
 * A certificate and key that parse and belong together, but that OpenSSL
 * refuses at its default security level (a 512-bit RSA key: "ee key too
 * small"), to reach the createSecureContext checks.
 */
export async function weakPair(): Promise<{ cert: string; key: string }> {
  const dir = await tempDir('weak');
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:512',
    '-nodes',
    '-subj',
    '/CN=weak',
    '-days',
    '2',
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ]);
  return { cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8') };
}
