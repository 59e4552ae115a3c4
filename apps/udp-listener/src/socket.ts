import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';

/** What binding `::` answers on a machine without IPv6. */
const NO_IPV6 = new Set(['EAFNOSUPPORT', 'EADDRNOTAVAIL', 'EPROTONOSUPPORT']);

/**
 * A UDP socket bound the way DESIGN.md says: HOST unset is every interface,
 * one dual-stack socket on `::` where the OS has IPv6 (IPv4 senders arrive
 * as `::ffff:a.b.c.d`), else `0.0.0.0`. A HOST name is resolved first,
 * because a dgram socket's family must match the address it binds.
 */
export async function bindUdp(host: string | undefined, port: number): Promise<dgram.Socket> {
  if (host !== undefined) {
    const { address, family } = await lookup(host);
    return bind(family === 6 ? 'udp6' : 'udp4', address, port);
  }
  try {
    return await bind('udp6', '::', port);
  } catch (err) {
    if (!NO_IPV6.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
    return bind('udp4', '0.0.0.0', port);
  }
}

function bind(type: dgram.SocketType, address: string, port: number): Promise<dgram.Socket> {
  // ipv6Only: false is what makes `::` dual-stack whatever the OS default is.
  const socket = dgram.createSocket(type === 'udp6' ? { type, ipv6Only: false } : { type });
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      socket.close();
      reject(err);
    };
    socket.once('error', onError);
    socket.bind({ port, address }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}
