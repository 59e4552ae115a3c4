// The naive Node echo every tutorial shows. It ignores write()'s return value,
// so a client that sends without reading makes it buffer everything in memory:
// the baseline the real tcp-echo is compared against, for speed and for RSS.
// (net's default allowHalfOpen: false ends our side once the client's ends.)
import net from 'node:net';

const server = net.createServer((socket) => {
  socket.on('data', (d) => socket.write(d));
  // Without a listener, a client reset (the slow reader hanging up) would crash it.
  socket.on('error', () => socket.destroy());
});
// usage: node <this file> <port> [host]
server.listen(Number(process.argv[2] ?? 7000), process.argv[3] ?? '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
