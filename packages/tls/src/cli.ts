#!/usr/bin/env node
// `pnpm certs [dir] [name…]`: a demo CA, a server certificate for the names
// (default localhost, 127.0.0.1, ::1) and a client certificate, as PEM files.
import { resolve } from 'node:path';
import { createDemoPki, writeDemoPki } from './demo-pki.js';

const [dirArg, ...names] = process.argv.slice(2);
if (dirArg === '-h' || dirArg === '--help') {
  console.error('usage: pnpm certs [dir (default ./certs)] [server name or IP …]');
  process.exit(0);
}
const dir = resolve(process.env.INIT_CWD ?? process.cwd(), dirArg ?? 'certs');
const serverNames = names.length > 0 ? names : ['localhost', '127.0.0.1', '::1'];
const paths = await writeDemoPki(dir, await createDemoPki({ serverNames }));
process.stdout.write(
  [
    `wrote a demo CA, a server certificate (${serverNames.join(', ')}) and a client certificate to ${dir}:`,
    ...Object.values(paths).map((p) => `  ${p}`),
    '',
    'serve with mTLS:',
    `  TLS_CERT_FILE=${paths.serverCert} TLS_KEY_FILE=${paths.serverKey} TLS_CLIENT_CA_FILE=${paths.caCert} pnpm start`,
    'connect:',
    `  curl --cacert ${paths.caCert} --cert ${paths.clientCert} --key ${paths.clientKey} https://127.0.0.1:8443/whoami`,
    '',
  ].join('\n'),
);
