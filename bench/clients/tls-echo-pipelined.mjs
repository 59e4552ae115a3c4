// Pipelined 1 KiB messages through the raw TLS echo baseline: keeps
// --concurrency messages in flight until --requests have come back, the same
// load as `netlab-tls-client bench` puts on the app, without any framing.
// Prints { requests, seconds, reqPerSec }.
import tls from 'node:tls';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    requests: { type: 'string', default: '100000' },
    concurrency: { type: 'string', default: '64' },
    size: { type: 'string', default: '1024' },
  },
});
const requests = Number(values.requests);
const size = Number(values.size);
const message = Buffer.alloc(size, 0x61);
const socket = tls.connect({
  port: Number(values.port),
  host: '127.0.0.1',
  rejectUnauthorized: false,
});
socket.setNoDelay(true);
let sent = 0;
let bytes = 0;
let started = 0;

socket.on('secureConnect', () => {
  started = performance.now();
  const first = Math.min(Number(values.concurrency), requests);
  for (; sent < first; sent++) socket.write(message);
});
socket.on('data', (d) => {
  const before = Math.floor(bytes / size);
  bytes += d.length;
  const answered = Math.floor(bytes / size);
  for (let i = before; i < answered && sent < requests; i++, sent++) socket.write(message);
  if (answered >= requests) {
    const seconds = (performance.now() - started) / 1000;
    console.log(JSON.stringify({ requests, seconds, reqPerSec: requests / seconds }));
    socket.destroy();
  }
});
socket.on('error', (e) => {
  console.error(`tls-echo-pipelined: ${e.message}`);
  process.exit(1);
});
