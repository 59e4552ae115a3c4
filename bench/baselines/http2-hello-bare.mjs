// The bare "hello world" of http2.createSecureServer, with HTTP/1.1 allowed
// as https-secure has it: the HTTP/2 baseline, same certificate
// (NETLAB_BENCH_TLS_CERT, NETLAB_BENCH_TLS_KEY).
import { constants } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';

const options = {
  cert: readFileSync(process.env.NETLAB_BENCH_TLS_CERT),
  key: readFileSync(process.env.NETLAB_BENCH_TLS_KEY),
  // NETLAB_BENCH_TLS_NO_TICKETS=1: no session resumption, every handshake a full one.
  ...(process.env.NETLAB_BENCH_TLS_NO_TICKETS ? { secureOptions: constants.SSL_OP_NO_TICKET } : {}),
  allowHTTP1: true,
};
const server = http2.createSecureServer(options, (_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end('Hello HTTPS');
});
// usage: node <this file> <port> [host]
server.listen(Number(process.argv[2] ?? 8443), process.argv[3] ?? '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
