import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { createLogger, createRegistry, loadConfig, type Registry } from '@netlab/common';
import { LogCapture } from '@netlab/testkit';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { schema } from '../src/config.js';
import type { LookupFn } from '../src/lookup.js';
import { createResolverServer, type ResolverServer } from '../src/server.js';
import { type FixtureDns, startFixtureDns } from './fixture-dns.js';

export { metricValue } from '@netlab/testkit';

export const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
export const README = fileURLToPath(new URL('../README.md', import.meta.url));

export interface Started {
  server: ResolverServer;
  port: number;
  url: string;
  logs: LogCapture;
  registry: Registry;
  close(): Promise<void>;
}

/** The API in-process on an ephemeral loopback port. */
export async function startApi(
  env: Record<string, string> = {},
  deps: { lookup?: LookupFn; now?: () => number } = {},
): Promise<Started> {
  const logs = new LogCapture();
  const logger = createLogger({
    service: 'dns-resolver-api',
    version: 'test',
    level: 'debug',
    destination: logs,
  });
  const registry = createRegistry('dns-resolver-api', { defaultMetrics: false });
  // The tests ask their fixture server for netlab.test, not the built-in demo zone.
  const config = loadConfig(schema, {
    PORT: '0',
    HOST: '127.0.0.1',
    DNS_DEMO_ZONE: 'false',
    ...env,
  });
  const server = createResolverServer(config, { logger, registry, ...deps });
  await server.listen();
  const port = server.address()!.port;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    logs,
    registry,
    close: () => server.close({ timeoutMs: 0 }),
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  // biome-ignore lint/suspicious/noExplicitAny: a test reads whatever JSON came back
  json: any;
}

/** One request on a fresh connection, the body read whole and parsed as JSON where it is. */
export function request(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: opts.method ?? 'GET', headers: opts.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString();
          let json: unknown;
          try {
            json = JSON.parse(body);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode!, headers: res.headers, body, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/**
 * For a test file: one fixture DNS server for the whole file (`fixture()`),
 * and `api(env, deps)`, which starts the API asking it (unless `env` sets
 * its own DNS_SERVERS) and closes every API it started after each test.
 */
export function useFixtureApi() {
  let dns: FixtureDns | undefined;
  const started: Started[] = [];
  beforeAll(async () => {
    dns = await startFixtureDns();
  });
  afterAll(() => dns?.close());
  afterEach(async () => {
    for (const api of started.splice(0)) await api.close();
  });
  const fixture = (): FixtureDns => {
    if (dns === undefined) throw new Error('the fixture DNS server starts in beforeAll');
    return dns;
  };
  const api = async (
    env: Record<string, string> = {},
    deps: Parameters<typeof startApi>[1] = {},
  ) => {
    const one = await startApi({ DNS_SERVERS: fixture().server, ...env }, deps);
    started.push(one);
    return one;
  };
  return { api, fixture };
}
