import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** A self-signed EC P-256 certificate for localhost, one day long, as `cert.pem` and `key.pem` in `dir` (the openssl CLI). */
export function writeTestCertificate(dir: string): void {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
    ],
    { stdio: 'ignore' },
  );
}
