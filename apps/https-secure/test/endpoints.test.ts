import { rm } from 'node:fs/promises';
import http2 from 'node:http2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  fileIn,
  get1,
  get2,
  h2request,
  metricValue,
  type Reply,
  run,
  type Started,
  startHttps,
  tempDir,
  tlsConnect,
  waitUntil,
} from './helpers.js';

let app: Started;
let dir: string;
let caFile: string;

// Started per test, not once per file: Stryker credits the code a
// beforeAll runs to no test, so the wiring these tests check would go unchecked.
beforeEach(async () => {
  app = await startHttps({ MAX_BODY_BYTES: '1024', HSTS_MAX_AGE_S: '600' });
  dir = await tempDir('endpoints');
  caFile = await fileIn(dir, 'server.pem', app.ca);
});
afterEach(async () => {
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

const versions = [
  ['HTTP/1.1', get1, '1.1', 'http/1.1'],
  ['HTTP/2', get2, '2.0', 'h2'],
] as const;

describe.each(versions)('over %s', (_, get, httpVersion, alpn) => {
  const call = (path: string, opts: Parameters<typeof get>[1] | object = {}) =>
    get(`${app.url}${path}`, { ca: app.ca, ...opts });

  it('says hello with HSTS on the response', async () => {
    const res = await call('/');
    expect(res.status).toBe(200);
    expect(res.body).toBe('Hello HTTPS\n');
    expect(res.headers['strict-transport-security']).toBe('max-age=600');
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
  });

  it('puts HSTS on errors too', async () => {
    const res = await call('/nope');
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'NETLAB_ERR_NOT_FOUND' });
    expect(res.headers['strict-transport-security']).toBe('max-age=600');
  });

  it('reports the HTTP version and the TLS session in /whoami', async () => {
    const res = await call('/whoami');
    const body = JSON.parse(res.body);
    expect(body).toMatchObject({ httpVersion, path: '/whoami', remote: { address: '127.0.0.1' } });
    expect(body.tls).toMatchObject({
      version: 'TLSv1.3',
      cipher: expect.stringMatching(/^TLS_(AES|CHACHA20)/),
      alpnProtocol: alpn,
      resumed: false,
      clientCertificate: null,
    });
  });

  it('echoes a body and refuses one over MAX_BODY_BYTES with 413', async () => {
    const ok = await call('/echo', { method: 'POST', body: 'over tls' });
    expect(ok.status).toBe(200);
    expect(ok.body).toBe('over tls');
    const big = await call('/echo', {
      method: 'POST',
      body: 'x'.repeat(2000),
      headers: { 'content-length': '2000' },
    });
    expect(big.status).toBe(413);
    expect(JSON.parse(big.body)).toMatchObject({ code: 'NETLAB_ERR_BODY_TOO_LARGE' });
  });

  it('answers /status and /delay', async () => {
    expect((await call('/status/418')).status).toBe(418);
    const delayed = await call('/delay/10');
    expect(JSON.parse(delayed.body)).toEqual({ delayMs: 10 });
  });
});

describe('HTTP/2 header compression', () => {
  it('sends response headers without HPACK’s dynamic table (a unique X-Request-Id would churn it)', async () => {
    const session = http2.connect(app.url, { ca: app.ca });
    try {
      const ids = new Set<string>();
      for (let i = 0; i < 3; i++) {
        const res = await h2request(session, '/');
        expect(res.body).toBe('Hello HTTPS\n');
        ids.add(String(res.headers['x-request-id']));
      }
      expect(ids.size).toBe(3);
      // What the client's decoder holds is what the server's encoder indexed.
      expect(session.state.inflateDynamicTableSize).toBe(0);
    } finally {
      session.close();
    }
  });
});

describe('HTTP/2 echo past MAX_BODY_BYTES without a declared length', () => {
  it('resets that stream once the 200 is under way, and the session goes on', async () => {
    const session = http2.connect(app.url, { ca: app.ca });
    try {
      const stream = session.request({ ':path': '/echo', ':method': 'POST' }, { endStream: false });
      const status = new Promise<number>((resolve) =>
        stream.on('response', (h) => resolve(Number(h[':status']))),
      );
      stream.on('data', () => {});
      const closed = new Promise<number>((resolve) =>
        stream.on('close', () => resolve(stream.rstCode)),
      );
      stream.on('error', () => {});
      stream.write(Buffer.alloc(600, 0x61));
      expect(await status).toBe(200);
      stream.write(Buffer.alloc(600, 0x61)); // 1,200 bytes: past the limit of 1,024
      // CANCEL, not NO_ERROR (which reads as "response complete"): the client can tell the echo was cut.
      expect(await closed).toBe(http2.constants.NGHTTP2_CANCEL);
      const line = await app.logs.waitFor((l) => l.path === '/echo' && l.status === 413);
      expect(line).toMatchObject({ code: 'NETLAB_ERR_BODY_TOO_LARGE' });
      expect((await h2request(session, '/')).status).toBe(200);
    } finally {
      session.close();
    }
  });
});

describe('TLS settings', () => {
  it('reports the SNI name the client sent', async () => {
    const res = await get1(`${app.url}/whoami`, { ca: app.ca, servername: 'localhost' });
    expect(JSON.parse(res.body).tls.servername).toBe('localhost');
  });

  it.each([
    ['-tls1_2', 'TLSv1.2'],
    ['-tls1_3', 'TLSv1.3'],
  ])('openssl s_client %s gets an answer', async (flag, version) => {
    const { stdout } = await run('bash', [
      '-c',
      `printf 'GET /whoami HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n' | openssl s_client -quiet -connect 127.0.0.1:${app.port} ${flag} -CAfile ${caFile} -verify_return_error 2>/dev/null`,
    ]);
    const body = JSON.parse(stdout.slice(stdout.indexOf('{')));
    expect(body.tls.version).toBe(version);
  });

  it.each([
    ['TLS 1.1', '-tls1_1', 'ERR_SSL_UNSUPPORTED_PROTOCOL'],
    ['TLS 1.0', '-tls1', 'ERR_SSL_UNSUPPORTED_PROTOCOL'],
    [
      'CBC-only ciphers',
      "-tls1_2 -cipher 'ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES256-SHA384:AES128-SHA'",
      'ERR_SSL_NO_SHARED_CIPHER',
    ],
  ])('refuses a client offering only %s', async (_, flags, code) => {
    const errors = () =>
      metricValue(app.registry, 'netlab_tls_handshake_errors_total', `code="${code}"`);
    const before = await errors();
    const result = await run('bash', [
      '-c',
      // @SECLEVEL=0 lets this OpenSSL offer what its defaults would not, so
      // the refusal seen is the server's.
      `printf 'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' | openssl s_client -connect 127.0.0.1:${app.port} ${flags} ${flags.includes('-cipher') ? '' : "-cipher 'DEFAULT:@SECLEVEL=0'"} 2>&1`,
    ]).catch((err: { stdout: string; code: number }) => err);
    expect('code' in result ? result.code : 0).not.toBe(0);
    expect(result.stdout).not.toContain('Hello HTTPS');
    expect(result.stdout).toMatch(
      /alert (protocol version|handshake failure)|no protocols available/,
    );
    // The server counts it as it sends the alert: by the time the client has
    // exited the count may still be on its way.
    await waitUntil(async () => (await errors()) === before + 1, { what: 'the count' });
  });

  it('negotiates TLS 1.2 with an AEAD ECDHE cipher when the client caps the version', async () => {
    const socket = await tlsConnect(app.port, { ca: app.ca, maxVersion: 'TLSv1.2' });
    expect(socket.getProtocol()).toBe('TLSv1.2');
    expect(socket.getCipher().name).toMatch(
      /^ECDHE-(ECDSA|RSA)-(AES\d+-GCM-SHA\d+|CHACHA20-POLY1305)$/,
    );
    socket.destroy();
  });

  it('resumes a session from its ticket: isSessionReused() and /whoami say so', async () => {
    const first = await tlsConnect(app.port, { ca: app.ca, ALPNProtocols: ['http/1.1'] });
    // TLS 1.3 sends the ticket after the handshake; reading a response gets it.
    const session = await new Promise<Buffer>((resolve) => {
      first.once('session', resolve);
      first.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    first.destroy();
    const second = await tlsConnect(app.port, { ca: app.ca, session, ALPNProtocols: ['http/1.1'] });
    expect(second.isSessionReused()).toBe(true);
    const reply = await new Promise<string>((resolve) => {
      let text = '';
      second.setEncoding('utf8').on('data', (d: string) => {
        text += d;
        if (text.includes('}\n}')) resolve(text);
      });
      second.write('GET /whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    });
    second.destroy();
    expect(JSON.parse(reply.slice(reply.indexOf('{'))).tls.resumed).toBe(true);
    expect(
      await metricValue(app.registry, 'netlab_tls_handshakes_total', 'resumed="true"'),
    ).toBeGreaterThan(0);
  });

  it.each([
    ['--http2', 'HTTP/2', '2.0'],
    ['--http1.1', 'HTTP/1.1', '1.1'],
  ])(
    'curl %s --cacert <the generated cert> verifies and gets /whoami',
    async (flag, _, httpVersion) => {
      const { stdout } = await run('curl', ['-sS', flag, '--cacert', caFile, `${app.url}/whoami`]);
      expect(JSON.parse(stdout).httpVersion).toBe(httpVersion);
    },
  );

  it('keeps serving after a client speaks plain HTTP to the TLS port', async () => {
    const result = await run('curl', ['-sS', `http://127.0.0.1:${app.port}/`]).catch(
      (err: { code: number }) => err,
    );
    expect('code' in result && result.code).not.toBe(0);
    const res: Reply = await get1(`${app.url}/`, { ca: app.ca });
    expect(res.status).toBe(200);
  });
});

describe('TLS_SESSION_TICKETS=false', () => {
  it('issues no ticket, so a returning client makes a full handshake', async () => {
    const noTickets = await startHttps({ TLS_SESSION_TICKETS: 'false' });
    try {
      const first = await tlsConnect(noTickets.port, { ca: noTickets.ca });
      let ticket: Buffer | undefined;
      first.on('session', (s: Buffer) => {
        ticket = s;
      });
      first.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await new Promise((resolve) => first.resume().once('close', resolve));
      // Without a ticket Node still hands over a session object; offering it fails to resume.
      const second = await tlsConnect(noTickets.port, {
        ca: noTickets.ca,
        ...(ticket ? { session: ticket } : {}),
      });
      expect(second.isSessionReused()).toBe(false);
      second.destroy();
    } finally {
      await noTickets.close();
    }
  });
});
