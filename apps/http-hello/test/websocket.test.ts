import { execFile } from 'node:child_process';
import { once } from 'node:events';
import type net from 'node:net';
import { promisify } from 'node:util';
import { waitUntil } from '@netlab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, metricValue, readUntilClose, type Started, startHello } from './helpers.js';

const exec = promisify(execFile);

let app: Started | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** Opens a raw WebSocket: the handshake by hand, the 101 head read off. */
async function rawWs(
  port: number,
  path = '/ws',
): Promise<{ socket: net.Socket; frames: Buffer[] }> {
  const socket = await connect(port);
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  let buffered = Buffer.alloc(0);
  const frames: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      buffered = Buffer.concat([buffered, d]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = buffered.subarray(0, end).toString('latin1');
      if (!head.startsWith('HTTP/1.1 101 ')) reject(new Error(head));
      // RFC 6455 §1.3's example key and its accept value.
      if (!head.includes('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo='))
        reject(new Error(head));
      socket.off('data', onData);
      const rest = buffered.subarray(end + 4);
      if (rest.length > 0) frames.push(rest);
      socket.on('data', (f: Buffer) => frames.push(f));
      resolve();
    };
    socket.on('data', onData);
  });
  socket.on('error', () => {});
  return { socket, frames };
}

/** A client frame: masked unless `mask` is false (a zero mask key keeps the payload readable). */
function frame(
  opcode: number,
  payload: Buffer,
  opts: { fin?: boolean; mask?: boolean } = {},
): Buffer {
  const fin = opts.fin ?? true;
  const mask = opts.mask ?? true;
  const head = [(fin ? 0x80 : 0) | opcode];
  if (payload.length < 126) head.push((mask ? 0x80 : 0) | payload.length);
  else head.push((mask ? 0x80 : 0) | 126, payload.length >> 8, payload.length & 0xff);
  return Buffer.concat([Buffer.from(head), mask ? Buffer.alloc(4) : Buffer.alloc(0), payload]);
}

/** The close code of the server's close frame among `frames`, once the connection is closed. */
async function closeCodeOf(socket: net.Socket, frames: Buffer[]): Promise<number> {
  if (!socket.destroyed) await once(socket, 'close');
  const all = Buffer.concat(frames);
  // Server frames are unmasked; find the close frame (opcode 8).
  let at = 0;
  while (at + 2 <= all.length) {
    const opcode = all[at]! & 0x0f;
    let len = all[at + 1]! & 0x7f;
    let start = at + 2;
    if (len === 126) {
      len = all.readUInt16BE(at + 2);
      start = at + 4;
    }
    if (opcode === 8) return all.readUInt16BE(start);
    at = start + len;
  }
  return -1;
}

describe('/ws with ANSWER_CONTROL=false', () => {
  it('ignores close_after= and close_code=: every message is echoed, the connection stays open', async () => {
    app = await startHello({ ANSWER_CONTROL: 'false' });
    const { socket, frames } = await rawWs(app.port, '/ws?close_after=1&close_code=4000');
    socket.write(frame(1, Buffer.from('a')));
    socket.write(frame(1, Buffer.from('b')));
    // Two unmasked text frames back: 0x81 0x01 'a', 0x81 0x01 'b'.
    await waitUntil(() => Buffer.concat(frames).length >= 6, { what: 'two echoes' });
    expect(Buffer.concat(frames).toString('latin1')).toBe('\x81\x01a\x81\x01b');
    expect(socket.destroyed).toBe(false);
    socket.write(frame(8, Buffer.from([0x03, 0xe8])));
    expect(await closeCodeOf(socket, frames)).toBe(1000);
  });
});

describe('/ws with Python websockets (Debian python3-websockets)', () => {
  it('echoes text and binary, answers a ping, closes with the client’s code', async () => {
    app = await startHello();
    const script = `
import asyncio, websockets
async def main():
    async with websockets.connect('ws://127.0.0.1:${app.port}/ws') as ws:
        await ws.send('héllo'); print(repr(await ws.recv()))
        await ws.send(b'\\x00\\xff'); print(repr(await ws.recv()))
        await (await ws.ping(b'p'))
        print('pong')
        await ws.close(code=4001, reason='bye')
    print(ws.close_code)
asyncio.run(main())
`;
    const { stdout } = await exec('/usr/bin/python3', ['-c', script], { timeout: 10_000 });
    expect(stdout).toBe("'héllo'\nb'\\x00\\xff'\npong\n4001\n");
    const line = await app.logs.waitFor((l) => l.msg === 'websocket');
    expect(line).toMatchObject({
      path: '/ws',
      status: 101,
      messagesIn: 2,
      messagesOut: 2,
      bytesIn: 8,
      bytesOut: 8,
      closeCode: 4001,
      closeReason: 'bye',
    });
    expect(await metricValue(app.registry, 'netlab_ws_messages_total', 'direction="in"')).toBe(2);
    expect(await metricValue(app.registry, 'netlab_ws_closes_total', 'code="4001"')).toBe(1);
    expect(await metricValue(app.registry, 'netlab_ws_connections_total')).toBe(1);
  });

  it('close_after=N and close_code= close after N echoes; delay= holds each, in order', async () => {
    app = await startHello();
    const script = `
import asyncio, time, websockets
async def main():
    async with websockets.connect('ws://127.0.0.1:${app.port}/ws?delay=100ms&close_after=2&close_code=4000') as ws:
        t = time.monotonic()
        await ws.send('a'); await ws.send('b'); await ws.send('c')
        print(await ws.recv(), await ws.recv(), time.monotonic() - t >= 0.1)
        try:
            await ws.recv()
        except websockets.ConnectionClosed as e:
            print(e.rcvd.code, e.rcvd.reason)
asyncio.run(main())
`;
    const { stdout } = await exec('/usr/bin/python3', ['-c', script], { timeout: 10_000 });
    expect(stdout).toBe('a b True\n4000 close_after\n');
  });
});

describe('/ws against hostile frames (RFC 6455 §5.1, §5.5, §7.4.1, §8.1)', () => {
  it.each([
    ['an unmasked client frame', () => frame(1, Buffer.from('hi'), { mask: false }), 1002],
    ['invalid UTF-8 in a text message', () => frame(1, Buffer.from([0xc3, 0x28])), 1007],
    ['a fragmented control frame', () => frame(9, Buffer.from('p'), { fin: false }), 1002],
    ['a close with a reserved code (1005)', () => frame(8, Buffer.from([0x03, 0xed])), 1002],
    ['a close with code 999', () => frame(8, Buffer.from([0x03, 0xe7])), 1002],
    [
      'a length over the maximum message size',
      () => Buffer.from([0x82, 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
      1009,
    ],
    ['a reserved opcode', () => frame(3, Buffer.from('x')), 1002],
  ])('%s is closed with %s', async (_name, make, code) => {
    app = await startHello({ WS_MAX_MESSAGE_BYTES: '1024' });
    const { socket, frames } = await rawWs(app.port);
    socket.write(make());
    expect(await closeCodeOf(socket, frames)).toBe(code);
    const line = await app.logs.waitFor((l) => l.msg === 'websocket');
    expect(line.closeCode).toBe(code);
  });

  it('a message just over WS_MAX_MESSAGE_BYTES across fragments is 1009; at it, echoed', async () => {
    app = await startHello({ WS_MAX_MESSAGE_BYTES: '200' });
    const ok = await rawWs(app.port);
    ok.socket.write(frame(2, Buffer.alloc(100, 1), { fin: false }));
    ok.socket.write(frame(0, Buffer.alloc(100, 2)));
    await waitUntil(() => Buffer.concat(ok.frames).length >= 204);
    expect(Buffer.concat(ok.frames).subarray(0, 4)).toEqual(Buffer.from([0x82, 126, 0, 200]));
    ok.socket.destroy();
    const over = await rawWs(app.port);
    over.socket.write(frame(2, Buffer.alloc(100, 1), { fin: false }));
    over.socket.write(frame(0, Buffer.alloc(101, 2)));
    expect(await closeCodeOf(over.socket, over.frames)).toBe(1009);
  });
});

describe('/ws limits and lifecycle', () => {
  it('closes a message in more than WS_MAX_FRAGMENTS fragments with 1008', async () => {
    app = await startHello({ WS_MAX_FRAGMENTS: '3' });
    const ok = await rawWs(app.port);
    ok.socket.write(frame(1, Buffer.from('a'), { fin: false }));
    ok.socket.write(frame(0, Buffer.from('b'), { fin: false }));
    ok.socket.write(frame(0, Buffer.from('c')));
    await waitUntil(() => Buffer.concat(ok.frames).length >= 5);
    expect(Buffer.concat(ok.frames).toString('latin1')).toBe('\x81\x03abc');
    ok.socket.destroy();
    const over = await rawWs(app.port);
    for (const c of 'abc')
      over.socket.write(frame(c === 'a' ? 1 : 0, Buffer.from(c), { fin: false }));
    over.socket.write(frame(0, Buffer.from('d')));
    expect(await closeCodeOf(over.socket, over.frames)).toBe(1008);
  });

  it('refuses the connection past WS_MAX_CONNECTIONS with 503 and a code', async () => {
    app = await startHello({ WS_MAX_CONNECTIONS: '1' });
    const first = await rawWs(app.port);
    const socket = await connect(app.port);
    socket.write(
      'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    const text = await readUntilClose(socket);
    expect(text.startsWith('HTTP/1.1 503 ')).toBe(true);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).code).toBe(
      'NETLAB_ERR_WS_TOO_MANY_CONNECTIONS',
    );
    expect(
      await metricValue(
        app.registry,
        'netlab_ws_upgrades_rejected_total',
        'code="NETLAB_ERR_WS_TOO_MANY_CONNECTIONS"',
      ),
    ).toBe(1);
    first.socket.destroy();
  });

  it('closes an idle connection with 1001 after WS_IDLE_TIMEOUT_MS', async () => {
    app = await startHello({ WS_IDLE_TIMEOUT_MS: '300' });
    const { socket, frames } = await rawWs(app.port);
    expect(await closeCodeOf(socket, frames)).toBe(1001);
  });

  it('closes every connection with 1001 on shutdown', async () => {
    app = await startHello();
    const { socket, frames } = await rawWs(app.port);
    const closing = app.server.close({ timeoutMs: 5000 });
    expect(await closeCodeOf(socket, frames)).toBe(1001);
    await closing;
    app = undefined;
  });

  it.each([
    ['no key', '', 400, 'NETLAB_ERR_WS_BAD_HANDSHAKE'],
    [
      'a short key',
      'Sec-WebSocket-Key: abc==\r\nSec-WebSocket-Version: 13\r\n',
      400,
      'NETLAB_ERR_WS_BAD_HANDSHAKE',
    ],
    [
      'version 8',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n',
      426,
      'NETLAB_ERR_WS_VERSION',
    ],
  ])('refuses a handshake with %s: %s and a JSON code', async (_name, headers, status, code) => {
    app = await startHello();
    const socket = await connect(app.port);
    socket.write(
      `GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${headers}\r\n`,
    );
    const text = await readUntilClose(socket);
    expect(text.startsWith(`HTTP/1.1 ${status} `)).toBe(true);
    if (status === 426) expect(text).toContain('\r\nSec-WebSocket-Version: 13\r\n');
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).code).toBe(code);
    const line = await app.logs.waitFor((l) => l.msg === 'websocket refused');
    expect(line).toMatchObject({ status, code });
  });

  it('refuses a bad close_code before the handshake, naming it', async () => {
    app = await startHello();
    const socket = await connect(app.port);
    socket.write(
      'GET /ws?close_code=1005 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    const text = await readUntilClose(socket);
    expect(text.startsWith('HTTP/1.1 400 ')).toBe(true);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({
      code: 'NETLAB_ERR_BAD_CONTROL',
      parameter: 'close_code',
    });
  });

  it('answers an Upgrade to another path as plain HTTP/1.1 (curl --http2 on cleartext)', async () => {
    app = await startHello();
    const socket = await connect(app.port);
    socket.write(
      'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n' +
        'HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n',
    );
    const text = await readUntilClose(socket);
    expect(text.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
    expect(text.endsWith('\r\n\r\nHello HTTP\n')).toBe(true);
  });
});
