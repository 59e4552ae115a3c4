import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClientAuth,
  clientAuthOptions,
  clientVerdict,
  createDemoPki,
  type DemoPki,
  describeTlsSession,
  parseCredentials,
  secureContextOptions,
} from '../src/index.js';

// Real handshakes over loopback: a server with our settings, a client that
// offers what each case needs, and the function under test called in the
// server's own 'secureConnection' listener, as https-secure and
// tls-custom-protocol call it.

let pki: DemoPki;
/** Same CA name as pki's, different key: a client certificate no server of pki's trusts. */
let foreign: DemoPki;
/** A client certificate that expired two days ago, from a CA that has not. */
let expired: DemoPki;
const servers: tls.Server[] = [];
beforeAll(async () => {
  [pki, foreign, expired] = await Promise.all([
    createDemoPki({ clientName: 'alice' }),
    createDemoPki({ clientName: 'mallory' }),
    createDemoPki({ caName: 'expired demo CA', clientName: 'bob', clientDays: -2 }),
  ]);
});
afterAll(() => {
  for (const server of servers) server.close();
});

interface ServerSide {
  clientAuth?: ClientAuth;
  ALPNProtocols?: string[];
  sessionTickets?: boolean;
}

/** A TLS server on port 0 that hands each connection's socket to `inspect` and closes it. */
async function serve<T>(side: ServerSide, inspect: (socket: tls.TLSSocket) => T) {
  const results: T[] = [];
  const server = tls.createServer({
    ...secureContextOptions(
      parseCredentials(pki.server.cert, pki.server.key, { cert: 'c', key: 'k' }),
      side.clientAuth,
      side.sessionTickets ?? true,
    ),
    ...clientAuthOptions(side.clientAuth),
    // The verdict is the listener's (clientVerdict), not Node's.
    rejectUnauthorized: false,
    ...(side.ALPNProtocols ? { ALPNProtocols: side.ALPNProtocols } : {}),
  });
  server.on('secureConnection', (socket) => {
    results.push(inspect(socket));
    // Some bytes, not a bare close: OpenSSL sends the TLS 1.3 session
    // tickets with the server's first write.
    socket.end('bye');
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;

  /** One connection: resolves once the server closed it, with what `inspect` returned. */
  async function connect(opts: tls.ConnectionOptions = {}) {
    let session: Buffer | undefined;
    const socket = tls.connect({ port, host: '127.0.0.1', ca: pki.ca.cert, ...opts });
    socket.on('session', (s: Buffer) => {
      session = s;
    });
    socket.resume();
    await once(socket, 'close');
    const result = results.shift();
    if (result === undefined) throw new Error('the server saw no secure connection');
    return { result, session };
  }
  return connect;
}

const alice = () => ({ cert: pki.client.cert, key: pki.client.key });
const required: () => ClientAuth = () => ({ ca: pki.ca.cert, required: true });
const optional: () => ClientAuth = () => ({ ca: pki.ca.cert, required: false });

describe('describeTlsSession', () => {
  it('reports TLS 1.3, the suite, ALPN, SNI and the verified client certificate', async () => {
    const connect = await serve(
      { clientAuth: required(), ALPNProtocols: ['h2', 'http/1.1'] },
      (s) => describeTlsSession(s),
    );
    const { result } = await connect({
      ...alice(),
      servername: 'localhost',
      ALPNProtocols: ['h2'],
      ciphers: 'TLS_CHACHA20_POLY1305_SHA256',
    });
    const x509 = new X509Certificate(pki.client.cert);
    expect(result).toStrictEqual({
      version: 'TLSv1.3',
      cipher: 'TLS_CHACHA20_POLY1305_SHA256',
      alpnProtocol: 'h2',
      servername: 'localhost',
      resumed: false,
      clientCertificate: {
        subject: 'CN=alice',
        issuer: 'CN=netlab demo CA',
        subjectAltNames: [],
        serialNumber: x509.serialNumber,
        validFrom: new Date(x509.validFrom).toISOString(),
        validTo: new Date(x509.validTo).toISOString(),
        fingerprint256: x509.fingerprint256,
        authorized: true,
      },
    });
  });

  it('reports TLS 1.2 and its cipher; false for no ALPN and no SNI, null for no certificate', async () => {
    const connect = await serve({ ALPNProtocols: ['h2', 'http/1.1'] }, (s) =>
      describeTlsSession(s),
    );
    // An IP literal as host: Node sends no SNI.
    const { result } = await connect({
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384',
    });
    expect(result).toStrictEqual({
      version: 'TLSv1.2',
      cipher: 'ECDHE-ECDSA-AES256-GCM-SHA384',
      alpnProtocol: false,
      servername: false,
      resumed: false,
      clientCertificate: null,
    });
  });

  it('reports a resumed session as resumed, and a new one as not', async () => {
    const connect = await serve({}, (s) => describeTlsSession(s).resumed);
    const first = await connect();
    expect(first.result).toBe(false);
    expect(first.session).toBeInstanceOf(Buffer);
    const second = await connect({ session: first.session });
    expect(second.result).toBe(true);
  });

  it('shows an unverified client certificate with OpenSSL’s reason (optional mode)', async () => {
    const connect = await serve({ clientAuth: optional() }, (s) => describeTlsSession(s));
    const { result } = await connect({ cert: foreign.client.cert, key: foreign.client.key });
    const x509 = new X509Certificate(foreign.client.cert);
    expect(result.clientCertificate).toStrictEqual({
      subject: 'CN=mallory',
      issuer: 'CN=netlab demo CA',
      subjectAltNames: [],
      serialNumber: x509.serialNumber,
      validFrom: new Date(x509.validFrom).toISOString(),
      validTo: new Date(x509.validTo).toISOString(),
      fingerprint256: x509.fingerprint256,
      authorized: false,
      authorizationError: 'CERT_SIGNATURE_FAILURE',
    });
  });
});

describe('clientVerdict', () => {
  /** The verdict, with the certificate as its subject (an X509Certificate does not compare). */
  const verdictOf = (clientAuth: ClientAuth | undefined) => (s: tls.TLSSocket) => {
    const { certificate, ...rest } = clientVerdict(s, clientAuth);
    return { ...rest, certificate: certificate?.subject };
  };

  it('accepts anyone and reads no certificate without client auth', async () => {
    const connect = await serve({}, verdictOf(undefined));
    // Not asked for, the client sends none; and none is read even so.
    const { result } = await connect(alice());
    expect(result).toStrictEqual({ accept: true, certificate: undefined });
  });

  it('accepts a valid certificate, with no error', async () => {
    const connect = await serve({ clientAuth: required() }, verdictOf(required()));
    const { result } = await connect(alice());
    expect(result).toStrictEqual({ accept: true, certificate: 'CN=alice' });
  });

  it('refuses no certificate when required, and lets it in when optional', async () => {
    const strict = await serve({ clientAuth: required() }, verdictOf(required()));
    expect((await strict()).result).toStrictEqual({
      accept: false,
      certificate: undefined,
      authorizationError: 'NO_CERTIFICATE',
    });
    const lax = await serve({ clientAuth: optional() }, verdictOf(optional()));
    expect((await lax()).result).toStrictEqual({
      accept: true,
      certificate: undefined,
      authorizationError: 'NO_CERTIFICATE',
    });
  });

  it('refuses an expired certificate with CERT_HAS_EXPIRED', async () => {
    const auth = { ca: expired.ca.cert, required: true };
    const connect = await serve({ clientAuth: auth }, verdictOf(auth));
    const { result } = await connect({ cert: expired.client.cert, key: expired.client.key });
    expect(result).toStrictEqual({
      accept: false,
      certificate: 'CN=bob',
      authorizationError: 'CERT_HAS_EXPIRED',
    });
  });

  it('lets in a certificate from a foreign CA when optional, with the reason', async () => {
    const connect = await serve({ clientAuth: optional() }, verdictOf(optional()));
    const { result } = await connect({ cert: foreign.client.cert, key: foreign.client.key });
    expect(result).toStrictEqual({
      accept: true,
      certificate: 'CN=mallory',
      authorizationError: 'CERT_SIGNATURE_FAILURE',
    });
  });
});
