// Sends --count datagrams of --size bytes to 127.0.0.1:--port as fast as one
// Node socket can (at most --window sends in flight, each callback sending
// the next), then asks the receiver how many it counted, until the count
// stops growing. Prints { sent, counted, sharePct, seconds, sentPerSec, echoes }.
// The receiver is asked with a 1-byte datagram (the baselines answer with
// their count), or with GET /stats on --admin-port (udp-listener, which
// also says the receive buffer it was granted: recvBufferKiB).
import dgram from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    'admin-port': { type: 'string' },
    count: { type: 'string', default: '200000' },
    size: { type: 'string', default: '512' },
    window: { type: 'string', default: '64' },
  },
});
const port = Number(values.port);
const total = Number(values.count);
const window = Number(values.window);
const payload = Buffer.alloc(Number(values.size), 0x61);

const socket = dgram.createSocket('udp4');
let echoes = 0;
let answer;
socket.on('message', (msg) => {
  // A count answer is a few digits; an echo is a whole payload.
  if (msg.length < 32 && answer) answer(Number(String(msg)));
  else echoes++;
});
socket.on('error', (err) => {
  console.error(`socket error: ${err.message}`);
  process.exit(1);
});
await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));

const started = performance.now();
await new Promise((resolve, reject) => {
  let sent = 0;
  let done = 0;
  const sendOne = () => {
    sent++;
    socket.send(payload, port, '127.0.0.1', (err) => {
      if (err) return reject(err);
      done++;
      if (sent < total) sendOne();
      else if (done === total) resolve();
    });
  };
  for (let i = 0; i < Math.min(window, total); i++) sendOne();
});
const seconds = (performance.now() - started) / 1000;

async function askUdp() {
  const reply = new Promise((resolve) => {
    answer = resolve;
  });
  socket.send('?', port, '127.0.0.1');
  return Promise.race([reply, sleep(1000).then(() => null)]);
}

let recvBufferKiB;
async function askHttp() {
  const res = await fetch(`http://127.0.0.1:${values['admin-port']}/stats`);
  const stats = await res.json();
  recvBufferKiB = stats.listening.recvBufferBytes / 1024;
  return stats.totals.datagrams;
}

// Wait for the receiver to take in what still sits in its socket buffer:
// done when the count reaches what was sent or holds still for 300 ms.
const ask = values['admin-port'] ? askHttp : askUdp;
let counted = -1;
let still = 0;
for (const deadline = Date.now() + 15_000; Date.now() < deadline; ) {
  const now = await ask();
  if (now === null) continue;
  still = now === counted ? still + 1 : 0;
  counted = now;
  if (counted >= total || still >= 3) break;
  await sleep(100);
}
socket.close();
if (counted < 0) {
  console.error('the receiver never answered how many it counted');
  process.exit(1);
}
console.log(
  JSON.stringify({
    sent: total,
    counted,
    sharePct: (100 * counted) / total,
    seconds,
    sentPerSec: total / seconds,
    echoes,
    ...(recvBufferKiB === undefined ? {} : { recvBufferKiB }),
  }),
);
