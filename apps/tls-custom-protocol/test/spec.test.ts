import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, encodeFrame, RequestType, ResponseType } from '../src/protocol.js';
import { errorOf, rawConnect, type Started, startServer } from './helpers.js';
import { makePki, preparedTls, type TestPki } from './pki.js';

// The spec itself, so that doc and server cannot drift apart: the tables
// below are read out of docs/tls-protocol.md, not restated here.
const SPEC = readFileSync(
  fileURLToPath(new URL('../../../docs/tls-protocol.md', import.meta.url)),
  'utf8',
);

/** The rows of the first markdown table after `heading`, as arrays of cells. */
function tableAfter(heading: string): string[][] {
  const from = SPEC.indexOf(heading);
  if (from < 0) throw new Error(`"${heading}" not in the spec`);
  const lines = SPEC.slice(from).split('\n');
  const start = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(1, -1)
        .split('|')
        .map((c) => c.trim()),
    );
  }
  return rows;
}

const unquote = (cell: string) => cell.replace(/^`|`$/g, '');

/** INFO_REPLY's table: dotted field name → the JSON types it may have. */
const infoFields = new Map(
  tableAfter('### `INFO_REPLY`').map(([field, type]) => [
    unquote(field!),
    type!.split(' or ').map((t) => t.trim()),
  ]),
);

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (value === false) return 'false';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/**
 * Checks one INFO answer against the spec's table: every field it lists is
 * there (children of an object that is not null too), has one of its types,
 * and there is no field the table does not list.
 */
function checkAgainstSpec(info: Record<string, unknown>): void {
  const seen: string[] = [];
  const objects: string[] = [];
  const walk = (object: Record<string, unknown>, prefix: string) => {
    for (const [key, value] of Object.entries(object)) {
      const path = prefix + key;
      seen.push(path);
      const types = infoFields.get(path);
      expect(types, `${path} is not in the spec's INFO_REPLY table`).toBeDefined();
      // `false` is written as a type of its own: a boolean field allows it too.
      const type = jsonType(value);
      const ok = types!.includes(type) || (type === 'false' && types!.includes('boolean'));
      expect(ok, `${path} = ${JSON.stringify(value)}: spec says ${types!.join(' or ')}`).toBe(true);
      if (type === 'object') objects.push(path);
      if (type === 'object') walk(value as Record<string, unknown>, `${path}.`);
    }
  };
  walk(info, '');
  const expected = [...infoFields.keys()].filter((path) => {
    const parent = path.split('.').slice(0, -1).join('.');
    return parent === '' || objects.includes(parent);
  });
  expect(seen.sort()).toEqual(expected.sort());
}

let pki: TestPki;
beforeAll(async () => {
  pki = await makePki();
});
const started: Started[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.close();
});
async function start(env: Record<string, string> = {}, clientAuth?: 'optional') {
  const s = await startServer(pki, env, preparedTls(pki, clientAuth));
  started.push(s);
  return s;
}

async function rawInfo(s: Started, opts: Parameters<typeof rawConnect>[2] = {}) {
  const raw = await rawConnect(s.port, pki, opts);
  raw.socket.write(encodeFrame(RequestType.INFO, 1));
  const frame = await raw.waitFor((f) => f.id === 1);
  raw.socket.destroy();
  expect(frame.type).toBe(ResponseType.INFO_REPLY);
  return JSON.parse(frame.payload.toString('utf8')) as Record<string, unknown>;
}

describe('INFO_REPLY is what docs/tls-protocol.md says', () => {
  it('the table was read (a sanity check of the parser itself)', () => {
    expect([...infoFields.keys()]).toContain('clientCertificate.subjectaltname');
    expect(infoFields.get('alpn')).toEqual(['string', 'false']);
  });

  it('without a client certificate: every field of the table, of its type, and no other', async () => {
    const s = await start({}, 'optional');
    const info = await rawInfo(s, { maxVersion: 'TLSv1.2' });
    checkAgainstSpec(info);
    expect(info).toMatchObject({
      protocol: 'TLSv1.2',
      alpn: 'netlab/1',
      servername: false,
      resumed: false,
      authorized: false,
      authorizationError: null,
      clientCertificate: null,
      peer: { address: '127.0.0.1' },
    });
    const noAlpn = await rawInfo(s, { ALPNProtocols: [], servername: 'localhost' });
    checkAgainstSpec(noAlpn);
    expect(noAlpn).toMatchObject({ protocol: 'TLSv1.3', alpn: false, servername: 'localhost' });
  });

  it('with a trusted client certificate, and with one of a foreign CA', async () => {
    const s = await start({}, 'optional');
    const good = await rawInfo(s, pki.client);
    checkAgainstSpec(good);
    expect(good).toMatchObject({
      authorized: true,
      authorizationError: null,
      clientCertificate: { subject: 'CN=test-client', issuer: 'CN=netlab demo CA' },
    });
    const cert = good.clientCertificate as Record<string, string>;
    expect(cert.subjectaltname).toBe(new X509Certificate(pki.client.cert).subjectAltName ?? null);
    expect(cert.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(new Date(cert.validTo ?? 0).toISOString()).toBe(cert.validTo);
    // The demo client certificates carry no subjectAltName; the server's does
    // (as a client certificate it is refused for its purpose, but shown).
    const withSan = await rawInfo(s, pki.server);
    checkAgainstSpec(withSan);
    const san = new X509Certificate(pki.server.cert).subjectAltName;
    expect(san).toMatch(/^DNS:localhost/);
    expect((withSan.clientCertificate as Record<string, string>).subjectaltname).toBe(san);
    const stranger = await rawInfo(s, pki.stranger);
    checkAgainstSpec(stranger);
    expect(stranger).toMatchObject({
      authorized: false,
      authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      clientCertificate: { subject: 'CN=stranger' },
    });
  });
});

describe('the error table of the spec', () => {
  it('is the server’s table, code for code', () => {
    const table = tableAfter('## Errors').map(([code, name]) => [unquote(name!), Number(code)]);
    expect(Object.fromEntries(table)).toEqual(ErrorCode);
  });

  it('a STREAM of 2^53 bytes or more is STREAM_TOO_LARGE (not BAD_PAYLOAD), and the connection goes on', async () => {
    const s = await start();
    const raw = await rawConnect(s.port, pki);
    const count = (n: bigint) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64BE(n);
      return b;
    };
    raw.socket.write(
      Buffer.concat([
        encodeFrame(RequestType.STREAM, 1, count(2n ** 53n)),
        encodeFrame(RequestType.STREAM, 2, count(2n ** 64n - 1n)),
        encodeFrame(RequestType.PING, 3),
      ]),
    );
    await raw.waitFor((f) => f.id === 3);
    expect(raw.frames.map((f) => (f.type === ResponseType.ERROR ? errorOf(f) : f.id))).toEqual([
      { name: 'STREAM_TOO_LARGE', id: 1 },
      { name: 'STREAM_TOO_LARGE', id: 2 },
      3,
    ]);
    raw.socket.destroy();
  });
});
