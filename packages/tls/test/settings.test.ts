import { constants } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { waitUntil } from '@netlab/testkit';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CIPHERS,
  type ClientAuth,
  clientAuthOptions,
  createDemoPki,
  type DemoPki,
  parseCredentials,
  secureContextOptions,
} from '../src/index.js';

let pki: DemoPki;
let other: DemoPki;
beforeAll(async () => {
  [pki, other] = await Promise.all([
    createDemoPki(),
    createDemoPki({ caName: 'another CA', clientName: 'stranger' }),
  ]);
});

let server: tls.Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

/** A TLS server with our settings, and what its first failed handshake reported. */
async function serve(clientAuth?: ClientAuth) {
  const credentials = parseCredentials(pki.server.cert, pki.server.key, { cert: 'c', key: 'k' });
  server = tls.createServer(
    { ...secureContextOptions(credentials, clientAuth), ...clientAuthOptions(clientAuth) },
    (socket) => socket.end('ok'),
  );
  const failures: string[] = [];
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket) => {
    failures.push(String(err.code));
    socket.destroy();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, failures };
}

/** Connects and reads until the server closes: the text it got, or the error. */
function talk(port: number, opts: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      ca: pki.ca.cert,
      servername: 'localhost',
      ...opts,
    });
    let text = '';
    socket.setEncoding('utf8').on('data', (d: string) => {
      text += d;
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code}`));
    socket.on('end', () => resolve(text));
  });
}

describe('secureContextOptions: TLS 1.2 is the floor', () => {
  it('says so', () => {
    const credentials = parseCredentials(pki.server.cert, pki.server.key, { cert: 'c', key: 'k' });
    expect(secureContextOptions(credentials, undefined)).toMatchObject({
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.3',
    });
  });

  it('refuses a TLS 1.1 client as an unsupported protocol, and serves TLS 1.2', async () => {
    const { port, failures } = await serve();
    const old = await talk(port, {
      minVersion: 'TLSv1.1',
      maxVersion: 'TLSv1.1',
      // OpenSSL 3 allows TLS 1.1 only at security level 0: the client is willing.
      ciphers: 'DEFAULT@SECLEVEL=0',
    });
    expect(old).toMatch(/^error /);
    await waitUntil(async () => failures.length > 0, { what: 'the refusal reported' });
    expect(failures).toEqual(['ERR_SSL_UNSUPPORTED_PROTOCOL']);
    expect(await talk(port, { maxVersion: 'TLSv1.2' })).toBe('ok');
  });
});

describe('secureContextOptions: the whole set', () => {
  it('is Mozilla intermediate, the client CA when given, tickets on by default', () => {
    const credentials = parseCredentials(pki.server.cert, pki.server.key, { cert: 'c', key: 'k' });
    const common = {
      cert: pki.server.cert,
      key: pki.server.key,
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.3',
      ciphers: CIPHERS,
      honorCipherOrder: false,
    };
    expect(secureContextOptions(credentials, undefined)).toStrictEqual(common);
    expect(secureContextOptions(credentials, { ca: pki.ca.cert, required: false })).toStrictEqual({
      ...common,
      ca: pki.ca.cert,
    });
    expect(secureContextOptions(credentials, undefined, false)).toStrictEqual({
      ...common,
      secureOptions: constants.SSL_OP_NO_TICKET,
    });
  });

  it('without tickets, a returning client makes a full handshake', async () => {
    const credentials = parseCredentials(pki.server.cert, pki.server.key, { cert: 'c', key: 'k' });
    const resumed: boolean[] = [];
    server = tls.createServer(secureContextOptions(credentials, undefined, false), (socket) => {
      resumed.push(socket.isSessionReused());
      socket.end('ok');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const sessions: Buffer[] = [];
    const connect = (session?: Buffer) =>
      new Promise<void>((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port, ca: pki.ca.cert, session });
        socket.on('session', (s: Buffer) => sessions.push(s));
        socket.on('error', reject);
        socket.on('close', () => resolve());
        socket.resume();
      });
    await connect();
    // OpenSSL still sends TLS 1.3 session state (stateful tickets), but
    // Node keeps no session cache to resume it from.
    expect(sessions.length).toBeGreaterThan(0);
    await connect(sessions.at(-1));
    expect(resumed).toEqual([false, false]);
  });
});

describe('clientAuthOptions', () => {
  it('asks for a certificate when a CA is set, and rejects without a valid one only when required', () => {
    expect(clientAuthOptions(undefined)).toEqual({ requestCert: false, rejectUnauthorized: false });
    expect(clientAuthOptions({ ca: pki.ca.cert, required: true })).toEqual({
      requestCert: true,
      rejectUnauthorized: true,
    });
    expect(clientAuthOptions({ ca: pki.ca.cert, required: false })).toEqual({
      requestCert: true,
      rejectUnauthorized: false,
    });
  });

  it('required: a client from another CA gets nothing, one from ours is served', async () => {
    const { port } = await serve({ ca: pki.ca.cert, required: true });
    expect(await talk(port, { ...other.client })).not.toBe('ok');
    expect(await talk(port, { ...pki.client })).toBe('ok');
  });
});
