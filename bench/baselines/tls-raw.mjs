// The raw TLS baselines of the tls-custom-protocol scenarios: the least a
// Node TLS server can do, with the same certificate and TLS settings as the
// app. NETLAB_BENCH_TLS_MODE=echo pipes the socket to itself (the issue's
// baseline); =source reads an 8-byte count and sends that many bytes, as
// STREAM does, without any framing.
// usage: NETLAB_BENCH_TLS_CERT=… NETLAB_BENCH_TLS_KEY=… NETLAB_BENCH_TLS_MODE=echo|source node <this file> <port> [host]
import { readFileSync } from 'node:fs';
import tls from 'node:tls';

const block = Buffer.alloc(64 * 1024);
const server = tls.createServer(
  {
    cert: readFileSync(process.env.NETLAB_BENCH_TLS_CERT),
    key: readFileSync(process.env.NETLAB_BENCH_TLS_KEY),
    minVersion: 'TLSv1.2',
  },
  (socket) => {
    socket.on('error', () => socket.destroy());
    if (process.env.NETLAB_BENCH_TLS_MODE !== 'source') {
      socket.pipe(socket);
      return;
    }
    socket.once('data', (head) => {
      let left = Number(head.readBigUInt64BE(0));
      const pump = () => {
        while (left > 0) {
          const n = Math.min(left, block.length);
          left -= n;
          if (!socket.write(n === block.length ? block : block.subarray(0, n))) {
            socket.once('drain', pump);
            return;
          }
        }
        socket.end();
      };
      pump();
    });
  },
);
server.listen(Number(process.argv[2] ?? 7443), process.argv[3] ?? '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
