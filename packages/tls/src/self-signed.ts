import { randomBytes, type X509Certificate } from 'node:crypto';
import { chmod, mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { type Credentials, parseCredentials, readPem } from './credentials.js';
import { TlsError } from './errors.js';

export interface SelfSignedOptions {
  commonName: string;
  /** DNS names and IP addresses for subjectAltName. */
  names: readonly string[];
  keyType: 'ec' | 'rsa';
  now?: Date;
}

// At most 366 days (the issue's bound; browsers refuse server certificates
// valid for more than 398): a year, plus the five minutes of back-dating.
const VALIDITY_MS = 365 * 24 * 3600 * 1000;
// Back-dated so a client whose clock is a little behind ours does not see a
// certificate from the future.
const BACKDATE_MS = 5 * 60 * 1000;

/**
 * A self-signed server certificate. selfsigned's defaults are not safe to
 * take: it signs with SHA-1 (OpenSSL 3 refuses it at its default security
 * level) and marks the key for client auth too.
 */
export async function generateSelfSigned(opts: SelfSignedOptions): Promise<Credentials> {
  const now = opts.now ?? new Date();
  const notBefore = new Date(now.getTime() - BACKDATE_MS);
  const pems = await generate([{ name: 'commonName', value: opts.commonName }], {
    keyType: opts.keyType,
    ...(opts.keyType === 'rsa' ? { keySize: 2048 } : { curve: 'P-256' as const }),
    algorithm: 'sha256',
    notBeforeDate: notBefore,
    notAfterDate: new Date(now.getTime() + VALIDITY_MS),
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: altNames(opts.names) },
    ],
  });
  return parseCredentials(pemFile(pems.cert), pemFile(pems.private), {
    cert: 'generated',
    key: 'generated',
  });
}

/**
 * selfsigned's PEM has no final newline; a file without one breaks the
 * first thing people do with it, `cat cert.pem ca.pem > chain.pem`.
 */
export const pemFile = (pem: string) => (pem.endsWith('\n') ? pem : `${pem}\n`);

export function altNames(names: readonly string[]) {
  return names.map((n) => (isIP(n) ? { type: 7 as const, ip: n } : { type: 2 as const, value: n }));
}

export interface StoredSelfSigned {
  credentials: Credentials;
  /** Why a new certificate was made, or undefined when the stored one was reused. */
  created?: string;
  certFile: string;
  keyFile: string;
}

export const CERT_FILE_NAME = 'cert.pem';
export const KEY_FILE_NAME = 'key.pem';

/**
 * The self-signed certificate kept in `dir` (TLS_CERT_DIR): reused while it
 * is valid and covers every name asked for, so clients that pinned it keep
 * working across restarts; else a new one is written there, the key with
 * mode 0600.
 */
export async function selfSignedInDir(
  dir: string,
  opts: SelfSignedOptions,
  variable = 'TLS_CERT_DIR',
): Promise<StoredSelfSigned> {
  const certFile = join(dir, CERT_FILE_NAME);
  const keyFile = join(dir, KEY_FILE_NAME);
  const stored = await readStored(certFile, keyFile);
  const now = opts.now ?? new Date();
  const unfit = stored.credentials
    ? whyUnfit(stored.credentials.leaf, opts.names, now)
    : stored.why;
  if (unfit === undefined && stored.credentials) {
    await tightenKeyMode(keyFile, variable);
    return { credentials: stored.credentials, certFile, keyFile };
  }
  const credentials = await generateSelfSigned(opts);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // Key first and each file by rename, so a crash never leaves a
    // certificate beside a key that is not its own.
    await writeAtomically(keyFile, credentials.key, 0o600);
    await writeAtomically(certFile, credentials.cert, 0o644);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'error';
    throw new TlsError('NETLAB_ERR_TLS_CERT_DIR', variable, `cannot write to ${dir} (${code})`, {
      cause,
    });
  }
  return { credentials, created: unfit, certFile, keyFile };
}

async function readStored(
  certFile: string,
  keyFile: string,
): Promise<{ credentials?: Credentials; why?: string }> {
  try {
    const [cert, key] = await Promise.all([readPem(certFile, 'cert'), readPem(keyFile, 'key')]);
    return { credentials: parseCredentials(cert, key, { cert: certFile, key: keyFile }) };
  } catch (err) {
    if (err instanceof TlsError && err.code === 'NETLAB_ERR_TLS_READ') {
      const missing = (err.cause as NodeJS.ErrnoException).code === 'ENOENT';
      if (missing) return { why: 'none stored yet' };
    }
    return { why: `the stored one is unusable: ${(err as Error).message}` };
  }
}

function whyUnfit(leaf: X509Certificate, names: readonly string[], now: Date): string | undefined {
  // A day of margin: a certificate expiring during this run is renewed now.
  if (new Date(leaf.validTo).getTime() < now.getTime() + 24 * 3600 * 1000) {
    return `the stored one expires ${new Date(leaf.validTo).toISOString()}`;
  }
  const have = new Set((leaf.subjectAltName?.split(', ') ?? []).map(normaliseSan));
  const missing = names.filter(
    (n) => !have.has(normaliseSan(isIP(n) ? `IP Address:${n}` : `DNS:${n}`)),
  );
  if (missing.length > 0) return `the stored one lacks ${missing.join(', ')}`;
  return undefined;
}

/** OpenSSL prints `::1` as `0:0:0:0:0:0:0:1`; the URL parser writes both the same. */
function normaliseSan(entry: string): string {
  if (!entry.startsWith('IP Address:')) return entry.toLowerCase();
  const ip = entry.slice('IP Address:'.length);
  return `ip:${isIP(ip) === 6 ? new URL(`http://[${ip}]/`).hostname : ip}`;
}

async function writeAtomically(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, text, { mode });
  await chmod(tmp, mode); // writeFile's mode is filtered by the umask
  await rename(tmp, path);
}

async function tightenKeyMode(keyFile: string, variable: string): Promise<void> {
  try {
    const { mode } = await stat(keyFile);
    if ((mode & 0o077) !== 0) await chmod(keyFile, 0o600);
  } catch (cause) {
    throw new TlsError('NETLAB_ERR_TLS_CERT_DIR', variable, `cannot chmod ${keyFile}`, { cause });
  }
}
