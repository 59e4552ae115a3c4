import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { get2, metricValue, type Started, startHttps, tempDir } from './helpers.js';

const exec = promisify(execFile);

// The shared /ws echo (tested in full on http-hello), here over TLS.
let app: Started;
let caFile: string;
// Started per test, not once per file: Stryker credits the code a
// beforeAll runs to no test, so the wiring these tests check would go unchecked.
beforeEach(async () => {
  app = await startHttps();
  caFile = join(await tempDir('ws'), 'ca.pem');
  await writeFile(caFile, app.ca);
});
afterEach(() => app.close());

describe('/ws over TLS', () => {
  it('echoes text and binary with Python websockets over wss://', async () => {
    const script = `
import asyncio, ssl, websockets
async def main():
    ctx = ssl.create_default_context(cafile='${caFile}')
    ctx.check_hostname = False
    async with websockets.connect('wss://127.0.0.1:${app.port}/ws', ssl=ctx) as ws:
        await ws.send('over tls'); print(await ws.recv())
        await ws.send(b'\\x01'); print(repr(await ws.recv()))
    print(ws.close_code)
asyncio.run(main())
`;
    const { stdout } = await exec('/usr/bin/python3', ['-c', script], { timeout: 10_000 });
    expect(stdout).toBe("over tls\nb'\\x01'\n1000\n");
    expect(await metricValue(app.registry, 'netlab_ws_messages_total', 'direction="out"')).toBe(2);
    const line = await app.logs.waitFor((l) => l.msg === 'websocket');
    expect(line).toMatchObject({ messagesIn: 2, bytesIn: 9, closeCode: 1000 });
  });

  it('HTTP/2 has no /ws (no RFC 8441 extended CONNECT): 404', async () => {
    const res = await get2(`${app.url}/ws`, { ca: app.ca });
    expect(res.status).toBe(404);
  });
});
