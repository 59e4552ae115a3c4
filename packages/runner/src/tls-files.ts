import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { type AppInfo, exampleWith } from './apps.js';
import type { RunnerApp } from './runner.js';

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

/**
 * The apps as the runner starts them: each TLS app with its TLS_CERT_DIR and
 * a table command that verifies its certificate, and a note per generated
 * certificate saying where it is. Paths as the user types them: relative to
 * `cwd` when under it.
 */
export function withTlsFiles(
  apps: AppInfo[],
  root: string,
  env: Record<string, string | undefined>,
  cwd: string,
): { apps: RunnerApp[]; notes: string[] } {
  const shown = (path: string) => {
    const rel = relative(cwd, path);
    return rel.startsWith('..') || isAbsolute(rel) ? path : rel;
  };
  const notes: string[] = [];
  const prepared = apps.map((app): RunnerApp => {
    if (!app.tls) return app;
    const files = tlsFiles(root, app.name, env);
    if (files.generatedCert) {
      notes.push(
        `${app.name}'s self-signed certificate, kept across restarts: ${shown(files.generatedCert)}`,
      );
    }
    const tryIt = exampleWith(app.template, app.port, {
      ca: files.ca && shown(files.ca),
      clientCert: files.clientCert && shown(files.clientCert),
      clientKey: files.clientKey && shown(files.clientKey),
    });
    return { ...app, env: files.env, tryIt };
  });
  return { apps: prepared, notes };
}
