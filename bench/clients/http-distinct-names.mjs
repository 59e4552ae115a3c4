// Keeps --connections keep-alive connections busy for --seconds with
// GET <path>?name=n<i>.<suffix>, a new name each request, so nothing is
// answered from a cache or joins a query in flight. Prints
// { reqPerSec, requests, errors, seconds } as its last line.
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    path: { type: 'string', default: '/resolve' },
    suffix: { type: 'string', default: 'bench.netlab.test' },
    connections: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '5' },
  },
});
const connections = Number(values.connections);
const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
const deadline = performance.now() + Number(values.seconds) * 1000;
const started = performance.now();
let next = 0;
let requests = 0;
let errors = 0;

function one() {
  return new Promise((resolve) => {
    const name = `n${(next++).toString(36)}.${values.suffix}`;
    const req = http.get(
      { host: values.host, port: Number(values.port), path: `${values.path}?name=${name}`, agent },
      (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) requests++;
          else errors++;
          resolve();
        });
      },
    );
    req.on('error', () => {
      errors++;
      resolve();
    });
  });
}

async function loop() {
  while (performance.now() < deadline) await one();
}

await Promise.all(Array.from({ length: connections }, loop));
const seconds = (performance.now() - started) / 1000;
agent.destroy();
console.log(JSON.stringify({ reqPerSec: requests / seconds, requests, errors, seconds }));
