// A client that writes --bytes to an echo server and never reads a byte of
// the echo. It respects its own socket's backpressure (waits for 'drain') so
// it never holds the whole payload itself; against a server that stops
// reading when it cannot write, writes stall. The run ends when every byte was
// written, when no write drained for --stall-ms, or after --max-ms.
// Prints { bytes, written, seconds, ended }.
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    bytes: { type: 'string' },
    'stall-ms': { type: 'string', default: '2000' },
    'max-ms': { type: 'string', default: '30000' },
  },
});
const total = Number(values.bytes);
const stallMs = Number(values['stall-ms']);
const chunk = Buffer.alloc(64 * 1024, 'x');

const socket = net.connect({ port: Number(values.port), host: values.host });
socket.pause(); // never read: the echo piles up in the kernel, then in the server
let written = 0;
let started = 0;
let stallTimer;
let done = false;

function finish(ended) {
  if (done) return;
  done = true;
  clearTimeout(stallTimer);
  clearTimeout(maxTimer);
  const seconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify({ bytes: total, written, seconds, ended }));
  socket.destroy();
}

const maxTimer = setTimeout(() => finish('max-time'), Number(values['max-ms']));

function pump() {
  clearTimeout(stallTimer);
  while (written < total) {
    const n = Math.min(chunk.length, total - written);
    written += n;
    if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
      stallTimer = setTimeout(() => finish('stalled'), stallMs);
      socket.once('drain', pump);
      return;
    }
  }
  // Every byte is in the kernel or the server now; give the server a moment
  // to take the last of them before the connection closes.
  stallTimer = setTimeout(() => finish('all-written'), Math.min(stallMs, 500));
}

socket.on('connect', () => {
  started = performance.now();
  pump();
});
socket.on('error', (error) => {
  console.error(`socket error after ${written} bytes written: ${error.message}`);
  process.exit(1);
});
