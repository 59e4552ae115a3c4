// The bare "hello world" of the http module: no logging, no limits, no admin
// server. The real http-hello is measured against it.
import http from 'node:http';

const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end('Hello HTTP');
});
// usage: node <this file> <port> [host]
server.listen(Number(process.argv[2] ?? 8080), process.argv[3] ?? '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
