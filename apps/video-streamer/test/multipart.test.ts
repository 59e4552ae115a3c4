import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { connect, metricValue, waitUntil } from '@netlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Reply, request, type Started, startStreamer, tempDir } from './helpers.js';

// Bigger than a few STREAM_CHUNK_BYTES, so a part spans several reads.
const CHUNK = 16 * 1024;
const BIG = randomBytes(5 * CHUNK + 123);
const NINE = Buffer.from('abcdefghi');
const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx';

let app: Started;
let dir: Awaited<ReturnType<typeof tempDir>>;
let nginx: ChildProcess;
let nginxUrl: string;

/** A port free right now (nginx cannot listen on port 0 and tell us which it got). */
async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

beforeAll(async () => {
  dir = await tempDir();
  // nginx's workers run as nobody when started as root: let them read the folder.
  await chmod(dir.path, 0o755);
  const media = join(dir.path, 'media');
  await mkdir(media);
  await mkdir(join(dir.path, 'logs'));
  await writeFile(join(media, 'nine.mp4'), NINE);
  await writeFile(join(media, 'big.mp4'), BIG);
  app = await startStreamer(media, { STREAM_CHUNK_BYTES: String(CHUNK), MAX_RANGES: '4' });

  // nginx serving the same folder: the reference for multipart/byteranges.
  const port = await freePort();
  await writeFile(
    join(dir.path, 'nginx.conf'),
    `daemon off;
pid nginx.pid;
error_log logs/error.log;
events {}
http {
  access_log off;
  client_body_temp_path logs;
  types { video/mp4 mp4; }
  server { listen 127.0.0.1:${port}; root media; location / {} }
}
`,
  );
  nginx = spawn(NGINX, ['-p', dir.path, '-c', join(dir.path, 'nginx.conf')], { stdio: 'ignore' });
  nginxUrl = `http://127.0.0.1:${port}`;
  await waitUntil(
    () =>
      new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        s.on('connect', () => resolve(s.destroy() !== undefined));
        s.on('error', () => resolve(false));
      }),
    { what: 'nginx to listen', timeoutMs: 10_000 },
  );
});
afterAll(async () => {
  nginx?.kill();
  await app?.close();
  await dir?.remove();
});

/** The response with its boundary replaced by a fixed word, so two servers' bodies compare. */
function normalised(res: Reply): { status: number; type: string; length: number; body: string } {
  const type = String(res.headers['content-type']);
  const boundary = /boundary=(.+)$/.exec(type)?.[1] ?? 'BOUNDARY';
  const pieces = res.body.toString('latin1').split(boundary);
  return {
    status: res.status,
    type: type.replace(boundary, 'BOUNDARY'),
    // Content-Length as if the boundary were the same word (nginx's is 20 digits, ours 24 hex).
    length:
      Number(res.headers['content-length']) -
      (pieces.length - 1) * (boundary.length - 'BOUNDARY'.length),
    body: pieces.join('BOUNDARY'),
  };
}

describe('multipart/byteranges (RFC 9110 §14.6), byte for byte as nginx sends it', () => {
  it.each([
    ['nine.mp4', 'bytes=0-1,5-6'],
    ['nine.mp4', 'bytes=5-6,0-1'],
    ['nine.mp4', 'bytes=0-1,3-4,7-100'],
    ['nine.mp4', 'bytes=0-0,-2'],
    ['big.mp4', `bytes=10-${CHUNK * 2 + 5},${CHUNK * 3}-${CHUNK * 4 + 7},-100`],
    ['big.mp4', 'bytes=0-0,999999-,1000-1000'],
  ])('%s %s', async (name, range) => {
    const [ours, theirs] = await Promise.all([
      request(`${app.url}/videos/${name}`, { headers: { range } }),
      request(`${nginxUrl}/${name}`, { headers: { range } }),
    ]);
    expect(theirs.status).toBe(206);
    expect(normalised(ours)).toEqual(normalised(theirs));
    expect(ours.body.length).toBe(Number(ours.headers['content-length']));
  });

  it('frames each part as RFC 9110 §14.6 shows, with a random boundary per response', async () => {
    const a = await request(`${app.url}/videos/nine.mp4`, { headers: { range: 'bytes=0-1,5-6' } });
    const b = await request(`${app.url}/videos/nine.mp4`, { headers: { range: 'bytes=0-1,5-6' } });
    const boundary = /^multipart\/byteranges; boundary=([0-9a-f]{24})$/.exec(
      String(a.headers['content-type']),
    )?.[1];
    expect(boundary).toBeDefined();
    expect(b.headers['content-type']).not.toBe(a.headers['content-type']);
    expect(a.status).toBe(206);
    expect(a.headers['content-range']).toBeUndefined();
    expect(a.body.toString('latin1')).toBe(
      `\r\n--${boundary}\r\nContent-Type: video/mp4\r\nContent-Range: bytes 0-1/9\r\n\r\nab` +
        `\r\n--${boundary}\r\nContent-Type: video/mp4\r\nContent-Range: bytes 5-6/9\r\n\r\nfg` +
        `\r\n--${boundary}--\r\n`,
    );
    expect(a.headers['content-length']).toBe(String(a.body.length));
  });

  it('answers HEAD with the multipart headers and no body', async () => {
    const res = await request(`${app.url}/videos/nine.mp4`, {
      method: 'HEAD',
      headers: { range: 'bytes=0-1,5-6' },
    });
    expect(res.status).toBe(206);
    expect(res.headers['content-type']).toMatch(/^multipart\/byteranges; boundary=/);
    expect(res.body.length).toBe(0);
  });

  it('coalesces overlapping ranges (CVE-2011-3192): the same bytes asked 4 times are sent once', async () => {
    const res = await request(`${app.url}/videos/big.mp4`, {
      headers: { range: 'bytes=0-,0-,1-,2-' },
    });
    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes 0-${BIG.length - 1}/${BIG.length}`);
    expect(res.body.equals(BIG)).toBe(true); // (toEqual walks a Buffer byte by byte: slow)
  });

  it('refuses more than MAX_RANGES ranges with 416 NETLAB_ERR_TOO_MANY_RANGES, and serves exactly MAX_RANGES', async () => {
    const four = await request(`${app.url}/videos/nine.mp4`, {
      headers: { range: 'bytes=0-0,2-2,4-4,6-6' },
    });
    expect(four.status).toBe(206);
    expect(four.body.toString('latin1').match(/Content-Range: /g)?.length).toBe(4);
    const five = await request(`${app.url}/videos/nine.mp4`, {
      headers: { range: 'bytes=0-0,2-2,4-4,6-6,8-8', 'x-request-id': 'too-many' },
    });
    expect(five.status).toBe(416);
    expect(five.headers['content-range']).toBe('bytes */9');
    expect(JSON.parse(five.body.toString())).toMatchObject({
      code: 'NETLAB_ERR_TOO_MANY_RANGES',
    });
    expect(await app.logs.waitFor((l) => l.requestId === 'too-many')).toMatchObject({
      status: 416,
      code: 'NETLAB_ERR_TOO_MANY_RANGES',
    });
  });

  it('counts and logs the body bytes of a multipart answer, framing included', async () => {
    const before = await metricValue(app.registry, 'netlab_media_bytes_sent_total');
    const res = await request(`${app.url}/videos/big.mp4`, {
      headers: { range: `bytes=0-${CHUNK * 2},-10`, 'x-request-id': 'multi-bytes' },
    });
    expect(res.status).toBe(206);
    const line = await app.logs.waitFor((l) => l.requestId === 'multi-bytes');
    expect(line).toMatchObject({ status: 206, bytes: res.body.length });
    expect(await metricValue(app.registry, 'netlab_media_bytes_sent_total')).toBe(
      before + res.body.length,
    );
  });

  it('serves the next request on the same connection after a multipart answer', async () => {
    const socket = await connect(app.port);
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.write('GET /videos/nine.mp4 HTTP/1.1\r\nHost: x\r\nRange: bytes=0-0,8-8\r\n\r\n');
    socket.write('GET /videos/nine.mp4 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await once(socket, 'close');
    const text = Buffer.concat(chunks).toString('latin1');
    expect(text.match(/^HTTP\/1\.1 \d+/gm)).toEqual(['HTTP/1.1 206', 'HTTP/1.1 200']);
    expect(text.endsWith('\r\n\r\nabcdefghi')).toBe(true);
  });
});
