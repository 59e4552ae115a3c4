// Byte throughput through a raw TLS baseline (bench/baselines/tls-raw.mjs) on
// one connection, timed from the end of the handshake:
// --mode echo writes --bytes and reads them back (waiting for 'drain');
// --mode source sends the count and reads that many bytes.
// Prints { bytes, seconds, mbps }.
import tls from 'node:tls';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    bytes: { type: 'string' },
    mode: { type: 'string', default: 'echo' },
  },
});
const total = Number(values.bytes);
const block = Buffer.alloc(64 * 1024, 0x61);
const socket = tls.connect({
  port: Number(values.port),
  host: '127.0.0.1',
  rejectUnauthorized: false,
});
let received = 0;
let started = 0;

socket.on('secureConnect', () => {
  started = performance.now();
  if (values.mode === 'source') {
    const head = Buffer.alloc(8);
    head.writeBigUInt64BE(BigInt(total));
    socket.write(head);
    return;
  }
  let written = 0;
  const pump = () => {
    while (written < total) {
      const n = Math.min(block.length, total - written);
      written += n;
      if (!socket.write(n === block.length ? block : block.subarray(0, n))) {
        socket.once('drain', pump);
        return;
      }
    }
  };
  pump();
});
socket.on('data', (d) => {
  received += d.length;
  if (received >= total) {
    const seconds = (performance.now() - started) / 1000;
    console.log(JSON.stringify({ bytes: received, seconds, mbps: received / 1e6 / seconds }));
    socket.destroy();
  }
});
socket.on('error', (e) => {
  console.error(`tls-bytes: ${e.message} after ${received} bytes`);
  process.exit(1);
});
