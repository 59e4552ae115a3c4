import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { expectConfigRefused, readyz, spawnApp, useApps, waitUntil } from '@netlab/testkit';
import { describe, expect, it } from 'vitest';
import { MAIN, udpClient } from './helpers.js';

const start = useApps(MAIN);

/** The groups joined on loopback, as the kernel lists them (/proc/net/igmp: little-endian hex). */
function loopbackGroups(): string[] {
  const text = readFileSync('/proc/net/igmp', 'utf8');
  const lo = /^\d+\s+lo\s*:.*\n((?:\t\t\t\t.*\n)*)/m.exec(text)?.[1] ?? '';
  return [...lo.matchAll(/^\t\t\t\t([0-9A-F]{8})/gm)].map(([, hex]) =>
    Buffer.from(hex!, 'hex').reverse().join('.'),
  );
}

describe('the udp-listener process', () => {
  it('is ready once bound, answers, and on SIGTERM closes the socket and exits 0', async () => {
    const app = await start();
    expect(await readyz(app)).toBe(200);
    // Bound (with the receive buffer the kernel granted) before ready.
    const bound = app.logs.lines.findIndex((l) => typeof l.recvBufferBytes === 'number');
    const ready = app.logs.lines.findIndex((l) => typeof l.adminPort === 'number');
    expect(bound).toBeGreaterThanOrEqual(0);
    expect(bound).toBeLessThan(ready);
    const c = await udpClient();
    await c.send('ping', app.port);
    expect(String(await c.next())).toBe('ping');
    c.close();

    app.child.kill('SIGTERM');
    const { code } = await app.exited;
    expect(code).toBe(0);
    const closed = app.logs.find((l) => l.msg === 'udp socket closed')[0];
    expect(closed).toMatchObject({ datagrams: 1, replies: 1 });
    expect(app.logs.lines.at(-1)?.msg).toBe('stopped');
    // The port is free again.
    const again = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => again.bind(app.port, '127.0.0.1', resolve));
    again.close();
  });

  it('never says ready, and exits 1, when its port is taken', async () => {
    const taken = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => taken.bind(0, '127.0.0.1', resolve));
    const app = spawnApp(MAIN, {
      PORT: String(taken.address().port),
      ADMIN_PORT: '0',
      HOST: '127.0.0.1',
    });
    const { code } = await app.exited;
    taken.close();
    expect(code).toBe(1);
    expect(app.logs.find((l) => typeof l.adminPort === 'number')).toEqual([]);
    expect(app.logs.find((l) => l.level === 'fatal')[0]).toMatchObject({
      msg: 'failed to start',
      err: { code: 'EADDRINUSE' },
    });
  });

  it('joins UDP_MULTICAST_GROUPS at start, receives what is sent to them, and leaves at stop', async () => {
    const group = `239.255.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
    const app = await start({
      UDP_MULTICAST_GROUPS: group,
      UDP_MULTICAST_INTERFACE: '127.0.0.1',
      UDP_REPLY: 'none',
      // HOST unset: a socket bound to 127.0.0.1 would not see datagrams sent to the group.
      HOST: '',
    });
    expect(loopbackGroups()).toContain(group);
    const sender = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => sender.bind(0, '127.0.0.1', resolve));
    sender.setMulticastInterface('127.0.0.1');
    await new Promise((resolve) => sender.send('to the group', app.port, group, resolve));
    sender.close();
    const line = await fetchJson(app.adminPort, '/datagrams', (body) => body.received === 1);
    expect(line.datagrams[0]).toMatchObject({
      address: '127.0.0.1',
      preview: { text: 'to the group' },
    });

    app.child.kill('SIGTERM');
    expect((await app.exited).code).toBe(0);
    expect(app.logs.find((l) => l.msg === 'left multicast groups')[0]).toMatchObject({
      groups: [group],
    });
    expect(loopbackGroups()).not.toContain(group);
  });

  it('exits 1 with NETLAB_ERR_MULTICAST_JOIN when a group cannot be joined', async () => {
    const app = spawnApp(MAIN, {
      PORT: '0',
      ADMIN_PORT: '0',
      HOST: '127.0.0.1',
      UDP_MULTICAST_GROUPS: '239.1.2.3',
      UDP_MULTICAST_INTERFACE: '192.0.2.254', // not an address of this machine
    });
    expect((await app.exited).code).toBe(1);
    expect(app.logs.find((l) => l.level === 'fatal')[0]).toMatchObject({
      err: { code: 'NETLAB_ERR_MULTICAST_JOIN' },
    });
    expect(app.logs.find((l) => typeof l.adminPort === 'number')).toEqual([]);
  });

  it.each([
    [{ UDP_REPLY: 'loud' }, ['UDP_REPLY: expected one of echo, ack, none, got "loud"']],
    [
      { UDP_MULTICAST_GROUPS: '10.0.0.1', UDP_HISTORY_SIZE: '-1', PORT: '70000' },
      ['PORT:', 'UDP_HISTORY_SIZE:', 'UDP_MULTICAST_GROUPS:'],
    ],
    [{ UDP_RECV_BUFFER_BYTES: '1k' }, ['UDP_RECV_BUFFER_BYTES: expected an integer']],
  ])('refuses bad config %o with one line per variable and exit 78', async (env, expected) => {
    const app = await expectConfigRefused(MAIN, env, expected);
    expect(app.logs.lines).toEqual([]);
  });
});

/** GET an admin path until its JSON satisfies `until`. */
function fetchJson(
  adminPort: number,
  path: string,
  until: (body: { received: number }) => boolean,
  // biome-ignore lint/suspicious/noExplicitAny: test JSON
): Promise<any> {
  return waitUntil(async () => {
    const body = (await (await fetch(`http://127.0.0.1:${adminPort}${path}`)).json()) as {
      received: number;
    };
    return until(body) ? body : undefined;
  });
}
