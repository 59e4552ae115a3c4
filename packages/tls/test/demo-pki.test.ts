import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clientAuthOptions,
  createDemoPki,
  type DemoPki,
  parseCredentials,
  secureContextOptions,
  writeDemoPki,
} from '../src/index.js';
import { run, tempDir } from './helpers.js';

let pki: DemoPki;
let paths: Awaited<ReturnType<typeof writeDemoPki>>;
beforeAll(async () => {
  pki = await createDemoPki({ serverNames: ['localhost', '127.0.0.1'], clientName: 'alice' });
  paths = await writeDemoPki(await tempDir('pki'), pki);
});

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

describe('createDemoPki', () => {
  it('makes a CA that signed both certificates, each for its own purpose', () => {
    const ca = new X509Certificate(pki.ca.cert);
    const server = new X509Certificate(pki.server.cert);
    const client = new X509Certificate(pki.client.cert);
    expect(ca.ca).toBe(true);
    for (const leaf of [server, client]) {
      expect(leaf.ca).toBe(false);
      expect(leaf.checkIssued(ca)).toBe(true);
      expect(leaf.verify(ca.publicKey)).toBe(true);
    }
    expect(server.keyUsage).toEqual([SERVER_AUTH]);
    expect(client.keyUsage).toEqual([CLIENT_AUTH]);
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(client.subject).toBe('CN=alice');
  });

  it('passes openssl verify for each purpose, and only for its own', async () => {
    const verify = (purpose: string, cert: string) =>
      run('openssl', ['verify', '-CAfile', paths.caCert, '-purpose', purpose, cert]).then(
        () => 'ok',
        () => 'refused',
      );
    expect(await verify('sslserver', paths.serverCert)).toBe('ok');
    expect(await verify('sslclient', paths.clientCert)).toBe('ok');
    expect(await verify('sslserver', paths.clientCert)).toBe('refused');
    expect(await verify('sslclient', paths.serverCert)).toBe('refused');
  });

  it('works for a real mutual-TLS handshake with our settings', async () => {
    const clientAuth = { ca: pki.ca.cert, required: true };
    const server = tls.createServer({
      ...secureContextOptions(
        parseCredentials(pki.server.cert, pki.server.key, { cert: 'c', key: 'k' }),
        clientAuth,
      ),
      ...clientAuthOptions(clientAuth),
    });
    server.on('secureConnection', (socket) =>
      socket.end(socket.getPeerX509Certificate()?.subject ?? 'none'),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const socket = tls.connect({
        port: (server.address() as AddressInfo).port,
        host: '127.0.0.1',
        ca: pki.ca.cert,
        cert: pki.client.cert,
        key: pki.client.key,
      });
      let text = '';
      socket.setEncoding('utf8').on('data', (d: string) => {
        text += d;
      });
      await once(socket, 'end');
      expect(socket.authorized).toBe(true);
      expect(text).toBe('CN=alice');
    } finally {
      server.close();
    }
  });
});

afterAll(() => {});
