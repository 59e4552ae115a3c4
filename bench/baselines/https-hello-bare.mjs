// The bare "hello world" of the https module: no logging, no limits, no
// admin server, Node's default TLS settings. https-secure is measured
// against it with the same certificate (NETLAB_BENCH_TLS_CERT, NETLAB_BENCH_TLS_KEY).
import { constants } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';

const tls = {
  cert: readFileSync(process.env.NETLAB_BENCH_TLS_CERT),
  key: readFileSync(process.env.NETLAB_BENCH_TLS_KEY),
  // NETLAB_BENCH_TLS_NO_TICKETS=1: no session resumption, every handshake a full one.
  ...(process.env.NETLAB_BENCH_TLS_NO_TICKETS ? { secureOptions: constants.SSL_OP_NO_TICKET } : {}),
};
const server = https.createServer(tls, (_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end('Hello HTTPS');
});
// usage: node <this file> <port> [host]
server.listen(Number(process.argv[2] ?? 8443), process.argv[3] ?? '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
