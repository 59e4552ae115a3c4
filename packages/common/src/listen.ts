import type { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';

interface Listenable extends EventEmitter {
  listen(options: { port: number; host?: string }): unknown;
  address(): AddressInfo | string | null;
}

/**
 * `server.listen` as a promise that rejects on EADDRINUSE and friends instead
 * of emitting an 'error' nobody awaits. With no host Node binds `::` with
 * dual-stack sockets where the OS has IPv6 (else `0.0.0.0`), which is what
 * "unset = every interface" means in DESIGN.md.
 */
export function listen(server: Listenable, port: number, host?: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(host === undefined ? { port } : { port, host });
  });
}
