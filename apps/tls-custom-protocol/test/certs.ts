import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate from a CA the server does not trust. */
  strangerCert: string;
  strangerKey: string;
  path(name: 'ca' | 'server' | 'server-key' | 'client' | 'client-key'): string;
  remove(): void;
}

/**
 * A small PKI made with the openssl command line, once per test file: a CA,
 * a server certificate for localhost/127.0.0.1/::1 (serverAuth), a client
 * certificate (clientAuth) and a client certificate of another CA.
 */
export function makePki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'netlab-pki-'));
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ext = (name: string, text: string) => {
    execFileSync('bash', ['-c', `cat > ${name}`], { cwd: dir, input: text });
  };
  const newCa = (name: string) =>
    run(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      `/CN=${name}`,
      '-days',
      '2',
      '-keyout',
      `${name}-key.pem`,
      '-out',
      `${name}.pem`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
  const issue = (name: string, signer: string, subject: string, extFile: string) => {
    run(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      subject,
      '-keyout',
      `${name}-key.pem`,
      '-out',
      `${name}.csr`,
    );
    run(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${signer}.pem`,
      '-CAkey',
      `${signer}-key.pem`,
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      extFile,
      '-out',
      `${name}.pem`,
    );
  };
  newCa('ca');
  newCa('stranger-ca');
  ext(
    'server.ext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n',
  );
  ext('client.ext', 'subjectAltName=DNS:test-client\nextendedKeyUsage=clientAuth\n');
  issue('server', 'ca', '/CN=localhost', 'server.ext');
  issue('client', 'ca', '/O=netlab/CN=test-client', 'client.ext');
  issue('stranger', 'stranger-ca', '/CN=stranger', 'client.ext');
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  const files = {
    ca: 'ca.pem',
    server: 'server.pem',
    'server-key': 'server-key.pem',
    client: 'client.pem',
    'client-key': 'client-key.pem',
  } as const;
  return {
    dir,
    ca: read('ca.pem'),
    serverCert: read('server.pem'),
    serverKey: read('server-key.pem'),
    clientCert: read('client.pem'),
    clientKey: read('client-key.pem'),
    strangerCert: read('stranger.pem'),
    strangerKey: read('stranger-key.pem'),
    path: (name) => join(dir, files[name]),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
