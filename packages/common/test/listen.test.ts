import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listen } from '../src/index.js';

const servers: net.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});
const server = () => {
  const s = net.createServer();
  servers.push(s);
  return s;
};

describe('listen', () => {
  it('resolves with the bound address and leaves no listener of its own behind', async () => {
    const s = server();
    const address = await listen(s, 0, '127.0.0.1');
    expect(address).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
    expect(address.port).toBeGreaterThan(0);
    expect(s.listenerCount('error')).toBe(0);
    expect(s.listenerCount('listening')).toBe(0);
  });

  it('binds every interface when no host is given', async () => {
    const address = await listen(server(), 0);
    expect(['::', '0.0.0.0']).toContain(address.address);
  });

  it('rejects with EADDRINUSE when the port is taken, leaving no listener behind', async () => {
    const { port } = await listen(server(), 0, '127.0.0.1');
    const second = server();
    await expect(listen(second, port, '127.0.0.1')).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(second.listenerCount('error')).toBe(0);
    expect(second.listenerCount('listening')).toBe(0);
  });
});
