import { once } from 'node:events';
import net from 'node:net';
import { waitUntil } from '@netlab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { metricValue, type Started, startEcho } from './helpers.js';

let echo: Started | undefined;
afterEach(async () => {
  await echo?.close();
  echo = undefined;
});

const closedLines = () => echo!.logs.find((l) => l.msg === 'connection closed');

describe('why a connection closed, in its log line', () => {
  it('a client RST is logged as reason "reset" with errno ECONNRESET and its IPv4 address', async () => {
    // HOST empty = unset: dual-stack, where Node reports IPv4 peers as ::ffff:127.0.0.1.
    echo = await startEcho({ HOST: '' });
    const client = net.connect({ port: echo.port, host: '127.0.0.1' });
    client.on('error', () => {});
    client.write('ping');
    await once(client, 'data');
    const port = client.localPort;
    client.resetAndDestroy();
    await waitUntil(() => closedLines().length === 1, { what: 'the close line' });
    expect(closedLines()[0]).toMatchObject({
      reason: 'reset',
      errno: 'ECONNRESET',
      remoteAddress: '127.0.0.1',
      remotePort: port,
      bytesIn: 4,
      bytesOut: 4,
    });
    expect(
      await metricValue(echo.registry, 'netlab_tcp_connections_closed_total', 'reason="reset"'),
    ).toBe(1);
  });

  it('a client that resets right after connecting is still logged with its peer fields and reason', async () => {
    echo = await startEcho();
    for (let i = 0; i < 5; i++) {
      const client = net.connect({ port: echo.port, host: '127.0.0.1' }, () =>
        client.resetAndDestroy(),
      );
      client.on('error', () => {});
    }
    await waitUntil(() => closedLines().length === 5, { what: 'five close lines' });
    for (const line of closedLines()) {
      expect(line).toMatchObject({ reason: 'reset', errno: 'ECONNRESET' });
      // The address when the kernel still knew it at accept; null (said,
      // not left out) when the reset came first and took it with it.
      expect(line).toHaveProperty('remoteAddress');
      expect([null, '127.0.0.1']).toContain(line.remoteAddress);
    }
  });

  it('a client that stops reading is cut after IDLE_TIMEOUT_MS without traffic, not twice that', async () => {
    const idleMs = 1500;
    echo = await startEcho({ IDLE_TIMEOUT_MS: String(idleMs) });
    const client = net.connect({ port: echo.port, host: '127.0.0.1' });
    client.on('error', () => {});
    client.pause(); // never reads its echo
    await once(client, 'connect');
    // Write until the kernel buffers both ways are full: from the last
    // 'drain' on, no byte moves in either direction.
    let lastProgress = performance.now();
    const chunk = Buffer.alloc(256 * 1024);
    const fill = () => {
      lastProgress = performance.now();
      while (client.write(chunk)) lastProgress = performance.now();
    };
    client.on('drain', fill);
    const closed = new Promise((resolve) => client.on('close', resolve));
    fill();
    await closed;
    const cutAfter = performance.now() - lastProgress;
    await waitUntil(() => closedLines().length === 1, { what: 'the close line' });
    expect(closedLines()[0]).toMatchObject({ reason: 'idle' });
    // The sweep cuts between 1x and 1.25x; Node's socket timeout took 2x.
    expect(cutAfter).toBeLessThan(idleMs * 1.7);
  });
});
