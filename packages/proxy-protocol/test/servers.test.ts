import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { createLogger, createRegistry, loadConfig } from '@netlab/common';
import { LogCapture } from '@netlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptProxyProtocol, connectionOrigin, proxyProtocolVars } from '../src/index.js';
import { inet, tlv, v2 } from './build.js';

const HEADER = v2(
  0x21,
  0x11,
  inet([203, 0, 113, 5], [192, 0, 2, 1], 33333, 443),
  tlv(0x01, 'http/1.1'),
);

function gate(server: net.Server) {
  const logger = createLogger({
    service: 't',
    version: 't',
    level: 'debug',
    destination: new LogCapture(),
  });
  const config = loadConfig(proxyProtocolVars(), { PROXY_PROTOCOL: 'required' });
  acceptProxyProtocol(server, config, {
    logger,
    registry: createRegistry('t', { defaultMetrics: false }),
  });
}

/**
 * A one-connection balancer: the client's first chunk (a ClientHello) goes
 * to `port` in the same write as `header`, so both leave in one segment;
 * then bytes are relayed both ways.
 */
async function prependingRelay(port: number, header: Buffer) {
  let first = 0;
  const relay = net.createServer((inbound) => {
    const outbound = net.connect({ port, host: '127.0.0.1', noDelay: true });
    outbound.on('error', () => inbound.destroy());
    inbound.on('error', () => outbound.destroy());
    inbound.once('data', (chunk: Buffer) => {
      const joined = Buffer.concat([header, chunk]);
      first = joined.length;
      outbound.write(joined);
      inbound.pipe(outbound).pipe(inbound);
    });
  });
  return { port: await listen(relay), firstWrite: () => first, close: () => relay.close() };
}

async function listen(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

describe('the gate in front of real Node servers', () => {
  let dir: string;
  let key: Buffer;
  let cert: Buffer;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pp-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    key = readFileSync(join(dir, 'key.pem'));
    cert = readFileSync(join(dir, 'cert.pem'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('http: the header and the request in one segment get a normal answer, with the client from the header', async () => {
    const server = http.createServer((req, res) => {
      res.setHeader('connection', 'close');
      res.end(JSON.stringify(connectionOrigin(req.socket).client));
    });
    gate(server);
    const port = await listen(server);
    const socket = net.connect(port, '127.0.0.1');
    socket.write(Buffer.concat([HEADER, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]));
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    await once(socket, 'close');
    const text = Buffer.concat(chunks).toString();
    expect(text.startsWith('HTTP/1.1 200 OK')).toBe(true);
    expect(text.endsWith('{"address":"203.0.113.5","port":33333}')).toBe(true);
    server.close();
  });

  it('tls: the header and the ClientHello in one segment complete the handshake; the TLS socket finds its origin', async () => {
    const server = tls.createServer({ key, cert }, (socket) => {
      socket.end(JSON.stringify(connectionOrigin(socket).client));
    });
    gate(server);
    const port = await listen(server);
    const relay = await prependingRelay(port, HEADER);
    const client = tls.connect({ port: relay.port, host: '127.0.0.1', rejectUnauthorized: false });
    const chunks: Buffer[] = [];
    client.on('data', (d: Buffer) => chunks.push(d));
    await once(client, 'end');
    expect(Buffer.concat(chunks).toString()).toBe('{"address":"203.0.113.5","port":33333}');
    expect(relay.firstWrite()).toBeGreaterThan(HEADER.length + 100);
    client.destroy();
    relay.close();
    server.close();
  });
});
