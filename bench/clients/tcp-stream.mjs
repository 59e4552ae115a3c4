// Streams --bytes through an echo server on one connection, writing and
// reading at the same time, and waiting for 'drain' whenever write() says the
// socket is full. Prints { bytes, seconds, mbps } once every byte came back.
// --verify checks each byte read against what was sent (costs CPU: smoke only).
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    bytes: { type: 'string' },
    chunk: { type: 'string', default: String(64 * 1024) },
    verify: { type: 'boolean', default: false },
  },
});
const total = Number(values.bytes);
const chunkSize = Number(values.chunk);
const pattern = Buffer.alloc(chunkSize);
for (let i = 0; i < chunkSize; i++) pattern[i] = i % 251;

const socket = net.connect({ port: Number(values.port), host: values.host });
socket.setNoDelay(true);
let written = 0;
let received = 0;
let started = 0;

function fail(message) {
  console.error(message);
  process.exit(1);
}

function pump() {
  while (written < total) {
    const n = Math.min(chunkSize, total - written);
    written += n;
    const ok = socket.write(n === chunkSize ? pattern : pattern.subarray(0, n));
    if (!ok) return void socket.once('drain', pump);
  }
  socket.end(); // half-close: the echo flushes what is left, then ends
}

socket.on('connect', () => {
  started = performance.now();
  pump();
});
socket.on('data', (data) => {
  if (values.verify) {
    for (let i = 0; i < data.length; i++) {
      if (data[i] !== pattern[(received + i) % chunkSize]) {
        fail(`byte ${received + i} differs from what was sent`);
      }
    }
  }
  received += data.length;
});
socket.on('end', () => {
  const seconds = (performance.now() - started) / 1000;
  if (received !== total) fail(`echo ended after ${received} of ${total} bytes`);
  console.log(JSON.stringify({ bytes: total, seconds, mbps: total / 1e6 / seconds }));
  socket.destroy();
});
socket.on('error', (error) => fail(`socket error after ${received} bytes read: ${error.message}`));
