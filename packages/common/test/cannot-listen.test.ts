import { describe, expect, it } from 'vitest';
import { cannotListen } from '../src/lifecycle.js';

describe('cannotListen: the one line for a port the user must free', () => {
  it('names the service, the address, the variable and the cause', () => {
    const err = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
    expect(cannotListen('tcp-echo', { variable: 'PORT', port: 7000, host: undefined }, err)).toBe(
      'tcp-echo: cannot listen: port 7000 (PORT) is already in use by another process (EADDRINUSE)',
    );
    expect(
      cannotListen(
        'x',
        { variable: 'ADMIN_PORT', port: 80, host: '127.0.0.1' },
        { code: 'EACCES' },
      ),
    ).toBe(
      'x: cannot listen: 127.0.0.1 port 80 (ADMIN_PORT) needs privileges (ports below 1024 do, unless net.ipv4.ip_unprivileged_port_start allows) (EACCES)',
    );
  });

  it('leaves every other error to the fatal log with its stack', () => {
    const target = { variable: 'PORT' as const, port: 1, host: undefined };
    expect(cannotListen('x', target, new Error('boom'))).toBeUndefined();
    expect(cannotListen('x', target, { code: 'toString' })).toBeUndefined();
    expect(cannotListen('x', target, null)).toBeUndefined();
  });
});
