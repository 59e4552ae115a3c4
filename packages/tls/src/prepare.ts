import { createSecureContext } from 'node:tls';
import type { ConfigIssue } from '@netlab/common';
import type { TlsConfig } from './config.js';
import { type Credentials, parseCertificates, parseCredentials, readPem } from './credentials.js';
import { TlsError } from './errors.js';
import { generateSelfSigned, selfSignedInDir } from './self-signed.js';
import { type ClientAuth, secureContextOptions } from './settings.js';

/** Where the server's certificate came from, which decides what a reload reads. */
export type CertificateSource =
  | { kind: 'files'; certFile: string; keyFile: string }
  | { kind: 'cert-dir'; certFile: string; keyFile: string; created?: string }
  | { kind: 'generated' };

/** Everything a TLS server needs at start, checked. */
export interface PreparedTls {
  credentials: Credentials;
  source: CertificateSource;
  clientAuth: ClientAuth | undefined;
  /** TLS_SESSION_TICKETS. */
  sessionTickets: boolean;
}

export interface PrepareOptions {
  /** The machine's host name, added to a generated certificate's names. */
  hostname: string;
  /** Subject CN of a generated certificate. */
  commonName: string;
}

export const PAIR_NAMES = { cert: 'TLS_CERT_FILE', key: 'TLS_KEY_FILE' } as const;

/**
 * Loads or makes the server certificate and the client CA the config asks
 * for, and checks that OpenSSL takes them with our TLS settings. Problems
 * come back as config issues, one per variable, for the entry file to print
 * and exit 78 with: a server with a broken certificate must not start.
 */
export async function prepareTls(
  config: TlsConfig,
  opts: PrepareOptions,
): Promise<{ ok: true; tls: PreparedTls } | { ok: false; issues: ConfigIssue[] }> {
  const issues: ConfigIssue[] = [];
  const issue = (variable: string, message: string) => issues.push({ variable, message });
  const certFile = config.TLS_CERT_FILE;
  const keyFile = config.TLS_KEY_FILE;
  if (certFile !== undefined && keyFile === undefined) {
    issue('TLS_KEY_FILE', 'required when TLS_CERT_FILE is set');
  }
  if (keyFile !== undefined && certFile === undefined) {
    issue('TLS_CERT_FILE', 'required when TLS_KEY_FILE is set');
  }
  if (certFile !== undefined && config.TLS_CERT_DIR !== undefined) {
    issue('TLS_CERT_DIR', 'only for a generated certificate: unset it, or unset TLS_CERT_FILE');
  }

  const [server, clientCa] = await Promise.all([
    issues.length > 0 ? [] : loadServerCredentials(config, opts),
    config.TLS_CLIENT_CA_FILE === undefined
      ? undefined
      : readPem(config.TLS_CLIENT_CA_FILE, 'TLS_CLIENT_CA_FILE')
          .then((pem) => {
            parseCertificates(pem, 'TLS_CLIENT_CA_FILE');
            return pem;
          })
          .catch(asIssue),
  ]);
  if (Array.isArray(server)) issues.push(...server);
  if (isIssue(clientCa)) issues.push(clientCa);
  if (Array.isArray(server) || isIssue(clientCa)) return { ok: false, issues };

  const clientAuth =
    clientCa === undefined
      ? undefined
      : { ca: clientCa, required: config.TLS_CLIENT_AUTH === 'required' };
  try {
    createSecureContext(
      secureContextOptions(server.credentials, clientAuth, config.TLS_SESSION_TICKETS),
    );
  } catch (err) {
    return {
      ok: false,
      issues: [
        { variable: PAIR_NAMES.cert, message: `refused by OpenSSL: ${(err as Error).message}` },
      ],
    };
  }
  return { ok: true, tls: { ...server, clientAuth, sessionTickets: config.TLS_SESSION_TICKETS } };
}

/** The server's pair and where it came from, or every problem found on the way. */
async function loadServerCredentials(
  config: TlsConfig,
  opts: PrepareOptions,
): Promise<{ credentials: Credentials; source: CertificateSource } | ConfigIssue[]> {
  try {
    return await loadOrMake(config, opts);
  } catch (err) {
    return [asIssue(err)];
  }
}

async function loadOrMake(
  config: TlsConfig,
  opts: PrepareOptions,
): Promise<{ credentials: Credentials; source: CertificateSource } | ConfigIssue[]> {
  if (config.TLS_CERT_FILE !== undefined && config.TLS_KEY_FILE !== undefined) {
    const { TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile } = config;
    // Both read before either is judged, so two bad paths give two lines.
    const [cert, key] = await Promise.all([
      readPem(certFile, PAIR_NAMES.cert).catch(asIssue),
      readPem(keyFile, PAIR_NAMES.key).catch(asIssue),
    ]);
    const unread = [cert, key].filter(isIssue);
    if (unread.length > 0) return unread;
    return {
      credentials: parseCredentials(cert as string, key as string, PAIR_NAMES),
      source: { kind: 'files', certFile, keyFile },
    };
  }
  const self = {
    commonName: opts.commonName,
    names: generatedNames(opts.hostname, config.TLS_SAN),
    keyType: config.TLS_KEY_TYPE,
  };
  if (config.TLS_CERT_DIR === undefined) {
    return { credentials: await generateSelfSigned(self), source: { kind: 'generated' } };
  }
  const stored = await selfSignedInDir(config.TLS_CERT_DIR, self);
  return {
    credentials: stored.credentials,
    source: {
      kind: 'cert-dir',
      certFile: stored.certFile,
      keyFile: stored.keyFile,
      ...(stored.created === undefined ? {} : { created: stored.created }),
    },
  };
}

const SANE_HOST = /^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/i;

/** localhost, the loopback addresses, the host name (when it is a valid DNS name) and TLS_SAN. */
export function generatedNames(hostname: string, extra: readonly string[]): string[] {
  const names = ['localhost', '127.0.0.1', '::1'];
  if (SANE_HOST.test(hostname)) names.push(hostname.toLowerCase());
  for (const n of extra) names.push(n.toLowerCase());
  return [...new Set(names)];
}

function asIssue(err: unknown): ConfigIssue {
  if (err instanceof TlsError) return { variable: err.variable, message: err.message };
  throw err;
}

function isIssue(value: unknown): value is ConfigIssue {
  return typeof value === 'object' && value !== null && 'variable' in value && 'message' in value;
}
