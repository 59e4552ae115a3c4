import dgram from 'node:dgram';
import net from 'node:net';

/**
 * Asks the kernel for a free loopback port by binding port 0 and closing it.
 * Another process could take it before we use it; on a dev box that race is
 * rare enough, and a server that fails to bind is reported as a crash.
 */
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** The same for a UDP port. */
export function freeUdpPort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, host, () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}
