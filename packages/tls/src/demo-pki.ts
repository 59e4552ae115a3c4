import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { altNames, pemFile } from './self-signed.js';

export interface KeyPair {
  cert: string;
  key: string;
}

export interface DemoPki {
  ca: KeyPair;
  server: KeyPair;
  client: KeyPair;
}

export interface DemoPkiOptions {
  /** The server certificate's subjectAltNames. */
  serverNames?: readonly string[];
  /** The client certificate's subject CN. */
  clientName?: string;
  /** Subject CN of the CA, to tell two demo CAs apart. */
  caName?: string;
  days?: number;
  /**
   * Validity of the client certificate alone, in days from now (default
   * `days`); negative gives a client certificate that has already expired,
   * signed by a CA that has not (to try how a server refuses it).
   */
  clientDays?: number;
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * A small CA with one server and one client certificate, for mTLS demos and
 * tests. Each certificate gets the extensions a verifier checks: the CA
 * `basicConstraints cA` and `keyCertSign`; the server `serverAuth` and its
 * names; the client `clientAuth`. (selfsigned's own `clientCertificate`
 * option signs the client with a certificate that is not a CA, so OpenSSL
 * refuses the chain; here a real CA signs both.)
 */
export async function createDemoPki(opts: DemoPkiOptions = {}): Promise<DemoPki> {
  const notBeforeDate = new Date(Date.now() - 5 * 60 * 1000);
  const notAfterDate = new Date(Date.now() + (opts.days ?? 365) * DAY_MS);
  const base = { keyType: 'ec' as const, curve: 'P-256' as const, algorithm: 'sha256' };
  const ca = await generate([{ name: 'commonName', value: opts.caName ?? 'netlab demo CA' }], {
    ...base,
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + 2 * (opts.days ?? 365) * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const signer = { ca: { cert: ca.cert, key: ca.private } };
  const serverNames = opts.serverNames ?? ['localhost', '127.0.0.1', '::1'];
  const server = await generate([{ name: 'commonName', value: serverNames[0] ?? 'localhost' }], {
    ...base,
    ...signer,
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: altNames(serverNames) },
    ],
  });
  const client = await generate(
    [{ name: 'commonName', value: opts.clientName ?? 'netlab client' }],
    {
      ...base,
      ...signer,
      ...(opts.clientDays === undefined
        ? { notBeforeDate, notAfterDate }
        : clientValidity(notBeforeDate, opts.clientDays)),
      extensions: [
        { name: 'basicConstraints', cA: false, critical: true },
        { name: 'keyUsage', digitalSignature: true, critical: true },
        { name: 'extKeyUsage', clientAuth: true },
      ],
    },
  );
  return {
    ca: { cert: pemFile(ca.cert), key: pemFile(ca.private) },
    server: { cert: pemFile(server.cert), key: pemFile(server.private) },
    client: { cert: pemFile(client.cert), key: pemFile(client.private) },
  };
}

/** An expired one (days < 0) ends `days` ago and began a day before that. */
function clientValidity(notBefore: Date, days: number) {
  const notAfterDate = new Date(Date.now() + days * DAY_MS);
  return {
    notBeforeDate: days < 0 ? new Date(notAfterDate.getTime() - DAY_MS) : notBefore,
    notAfterDate,
  };
}

/** The file names writeDemoPki uses. */
export const DEMO_PKI_FILES = {
  caCert: 'ca.pem',
  caKey: 'ca-key.pem',
  serverCert: 'server.pem',
  serverKey: 'server-key.pem',
  clientCert: 'client.pem',
  clientKey: 'client-key.pem',
} as const;

/** Writes a DemoPki into `dir`: certificates 0644, keys 0600. Returns the paths. */
export async function writeDemoPki(
  dir: string,
  pki: DemoPki,
): Promise<Record<keyof typeof DEMO_PKI_FILES, string>> {
  await mkdir(dir, { recursive: true });
  const paths = Object.fromEntries(
    Object.entries(DEMO_PKI_FILES).map(([k, name]) => [k, join(dir, name)]),
  ) as Record<keyof typeof DEMO_PKI_FILES, string>;
  const files: Array<[string, string, number]> = [
    [paths.caCert, pki.ca.cert, 0o644],
    [paths.caKey, pki.ca.key, 0o600],
    [paths.serverCert, pki.server.cert, 0o644],
    [paths.serverKey, pki.server.key, 0o600],
    [paths.clientCert, pki.client.cert, 0o644],
    [paths.clientKey, pki.client.key, 0o600],
  ];
  for (const [path, text, mode] of files) {
    await writeFile(path, text, { mode });
    await chmod(path, mode); // an existing file keeps its old mode through writeFile
  }
  return paths;
}
