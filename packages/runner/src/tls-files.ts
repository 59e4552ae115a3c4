import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Where a TLS app's certificates are, so the runner can keep the generated
 * one across restarts and print commands that verify it instead of `-k`.
 */
export interface TlsFiles {
  /** Variables to add to the app's environment (TLS_CERT_DIR). */
  env: Record<string, string>;
  /** The self-signed certificate the app keeps, when it generates one. */
  generatedCert?: string;
  /** What a client should trust: the generated certificate, or the CA beside TLS_CERT_FILE. */
  ca?: string;
  /** The client certificate and key, when the app asks for one (TLS_CLIENT_CA_FILE). */
  clientCert?: string;
  clientKey?: string;
}

/** The default home of generated certificates, under the repository (gitignored). */
export const CERT_HOME = join('.netlab', 'certs');

/**
 * The files of one TLS app under `env`. Without TLS_CERT_FILE the app
 * generates a certificate; the runner points TLS_CERT_DIR at a folder of
 * that app's own (`<TLS_CERT_DIR or <root>/.netlab/certs>/<app>`), so it is
 * the same at every start and two apps never write the same cert.pem.
 * With the files `pnpm certs` writes (TLS_CERT_FILE beside a ca.pem,
 * TLS_CLIENT_CA_FILE beside client.pem and client-key.pem), those.
 */
export function tlsFiles(
  root: string,
  app: string,
  env: Record<string, string | undefined>,
): TlsFiles {
  const files: TlsFiles = { env: {} };
  if (env.TLS_CERT_FILE) {
    const ca = join(dirname(env.TLS_CERT_FILE), 'ca.pem');
    if (existsSync(ca)) files.ca = ca;
  } else {
    const dir = join(env.TLS_CERT_DIR || join(root, CERT_HOME), app);
    files.env.TLS_CERT_DIR = dir;
    files.generatedCert = join(dir, 'cert.pem');
    files.ca = files.generatedCert;
  }
  if (env.TLS_CLIENT_CA_FILE) {
    const dir = dirname(env.TLS_CLIENT_CA_FILE);
    files.clientCert = join(dir, 'client.pem');
    files.clientKey = join(dir, 'client-key.pem');
  }
  return files;
}
