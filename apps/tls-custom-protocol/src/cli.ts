#!/usr/bin/env node
// netlab-tls-client: talk netlab/1 to a tls-custom-protocol server from the
// command line. The only file of the client side that touches `process`.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runBench } from './bench-client.js';
import { type ClientOptions, NetlabClient } from './client.js';

const usage = `usage: netlab-tls-client <command> [options]

commands:
  ping                     PING, and how long the answer took
  echo [text]              ECHO text (or --size random bytes) and print what came back
  info                     the TLS session as the server sees it
  time                     the server's clock
  stream --bytes N         ask for N bytes and report the throughput
  bench                    pipelined ECHO load: --requests N --concurrency C --size BYTES

options:
  --host H                 server address (default 127.0.0.1)
  --port P                 server port (default 7443)
  --ca FILE                trust this CA (PEM) instead of the system's
  --cert FILE --key FILE   client certificate and key (mTLS)
  --insecure               do not verify the server's certificate (self-signed servers)
  --servername NAME        SNI name, and the name the certificate must carry
  --json                   one JSON object on stdout instead of text
  --bytes N                stream: how many bytes (default 100000000)
  --size N                 echo/bench: payload bytes (default 1024 for bench)
  --requests N             bench: requests in all (default 100000)
  --concurrency C          bench: requests in flight at once (default 64)`;

type Values = Record<string, string | boolean | undefined>;

function fail(message: string, code = 1): never {
  process.stderr.write(`netlab-tls-client: ${message}\n`);
  process.exit(code);
}

function count(values: Values, name: string, fallback: number, min = 0): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min)
    fail(`--${name}: expected an integer >= ${min}, got "${raw}"`, 2);
  return n;
}

function file(values: Values, name: string): Buffer | undefined {
  const path = values[name];
  if (typeof path !== 'string') return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    fail(`--${name}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`, 2);
  }
}

let parsed: ReturnType<typeof parseArgs>;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '7443' },
      ca: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      insecure: { type: 'boolean', default: false },
      servername: { type: 'string' },
      json: { type: 'boolean', default: false },
      bytes: { type: 'string' },
      size: { type: 'string' },
      requests: { type: 'string' },
      concurrency: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
} catch (err) {
  fail(`${(err as Error).message}\n\n${usage}`, 2);
}
const { values, positionals } = parsed as { values: Values; positionals: string[] };
const [command, ...rest] = positionals;
if (values.help || command === undefined) {
  process.stdout.write(`${usage}\n`);
  process.exit(command === undefined && !values.help ? 2 : 0);
}
const port = count(values, 'port', 7443);
if (port < 1 || port > 65535) fail(`--port: expected an integer 1-65535, got "${values.port}"`, 2);
if ((values.cert === undefined) !== (values.key === undefined))
  fail('--cert and --key go together', 2);

const options: ClientOptions = {
  host: values.host as string,
  port,
  insecure: values.insecure === true,
};
const ca = file(values, 'ca');
const cert = file(values, 'cert');
const key = file(values, 'key');
if (ca) options.ca = ca;
if (cert && key) Object.assign(options, { cert, key });
if (typeof values.servername === 'string') options.servername = values.servername;

const json = values.json === true;
const out = (text: string, data: unknown) =>
  process.stdout.write(`${json ? JSON.stringify(data) : text}\n`);
const ms = (start: number) => Math.round((performance.now() - start) * 1000) / 1000;

async function main(): Promise<void> {
  const started = performance.now();
  const client = await NetlabClient.connect(options);
  const connectMs = ms(started);
  const where = `${options.host}:${port}`;
  try {
    switch (command) {
      case 'ping': {
        const t = performance.now();
        await client.ping();
        const rttMs = ms(t);
        const tls = `${client.socket.getProtocol()}, ${client.socket.getCipher().name}`;
        out(`PONG from ${where} in ${rttMs} ms (${tls}, connected in ${connectMs} ms)`, {
          command,
          server: where,
          rttMs,
          connectMs,
          protocol: client.socket.getProtocol(),
          cipher: client.socket.getCipher().name,
          alpn: client.socket.alpnProtocol,
        });
        break;
      }
      case 'echo': {
        const payload =
          values.size !== undefined
            ? randomBytes(count(values, 'size', 0))
            : Buffer.from(rest.join(' '));
        const back = await client.echo(payload);
        if (!back.equals(payload)) fail('ECHO came back different');
        if (json) out('', { command, bytes: back.length, text: back.toString('utf8') });
        else
          process.stdout.write(
            values.size !== undefined
              ? `${back.length} bytes, identical\n`
              : `${back.toString('utf8')}\n`,
          );
        break;
      }
      case 'info': {
        const info = await client.info();
        if (json) {
          out('', info);
          break;
        }
        const cert = info.clientCertificate;
        const lines = [
          `protocol       ${info.protocol}`,
          `cipher         ${info.cipher}`,
          `alpn           ${info.alpn || '(none)'}`,
          `servername     ${info.servername || '(none)'}`,
          `resumed        ${info.resumed}`,
          `peer           ${info.peer.address}:${info.peer.port}`,
          `authorized     ${info.authorized}${info.authorizationError ? ` (${info.authorizationError})` : ''}`,
          // Only behind a balancer that sent a PROXY header (PROXY_PROTOCOL).
          ...(info.proxy
            ? [
                `client         ${info.client.address}:${info.client.port} (PROXY v${info.proxy.version})`,
              ]
            : []),
          `client cert    ${cert ? `${cert.subject} (issuer ${cert.issuer})` : '(none)'}`,
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
        break;
      }
      case 'time': {
        const time = await client.time();
        out(time, { command, time });
        break;
      }
      case 'stream': {
        const bytes = count(values, 'bytes', 100_000_000);
        const t = performance.now();
        let received = 0;
        const total = await client.stream(bytes, (payload) => {
          received += payload.length;
        });
        const seconds = (performance.now() - t) / 1000;
        const mbps = Math.round((received / 1e6 / seconds) * 10) / 10;
        if (received !== total || total !== bytes)
          fail(`asked for ${bytes} bytes, got ${received}`);
        out(`received ${received} bytes in ${seconds.toFixed(3)} s: ${mbps} MB/s`, {
          command,
          bytes: received,
          seconds,
          mbps,
        });
        break;
      }
      case 'bench': {
        const result = await runBench(client, {
          requests: count(values, 'requests', 100_000, 1),
          concurrency: count(values, 'concurrency', 64, 1),
          size: count(values, 'size', 1024),
        });
        out(
          `${result.requests} ECHO requests of ${result.size} bytes, ${result.concurrency} in flight: ` +
            `${Math.round(result.requestsPerSecond)} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms`,
          { command, ...result },
        );
        break;
      }
      default:
        fail(`unknown command "${command}"\n\n${usage}`, 2);
    }
  } finally {
    client.close();
  }
}

main().catch((err: NodeJS.ErrnoException) => fail(`${err.code ?? 'error'}: ${err.message}`));
