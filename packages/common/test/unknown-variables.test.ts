import { describe, expect, it } from 'vitest';
import {
  commonVars,
  editDistance,
  int,
  type Schema,
  unknownVariables,
  workerVars,
} from '../src/index.js';

const number = int({ default: 1, doc: '' });
/** tcp-echo's and http-hello's variables, as their schemas declare them. */
const tcpEcho: Schema = {
  ...commonVars({ port: 7000, adminPort: 9000 }),
  MAX_CONNECTIONS: number,
  IDLE_TIMEOUT_MS: number,
  TCP_KEEPALIVE_MS: number,
  TCP_NODELAY: number,
};
const httpHello: Schema = {
  ...commonVars({ port: 8080, adminPort: 9001 }),
  ...workerVars(),
  HELLO_MESSAGE: number,
  MAX_BODY_BYTES: number,
  MAX_DELAY_MS: number,
  MAX_CONNECTIONS: number,
  HEADERS_TIMEOUT_MS: number,
  REQUEST_TIMEOUT_MS: number,
  KEEP_ALIVE_TIMEOUT_MS: number,
  IDLE_TIMEOUT_MS: number,
  MAX_HEADER_SIZE: number,
};

const warned = (schema: Schema, name: string, value = '1', prefixes?: string[]) =>
  unknownVariables(schema, { [name]: value }, { prefixes });

describe('unknownVariables: typos of the app own variables warn', () => {
  it.each([
    ['MAX_CONECTIONS', 'MAX_CONNECTIONS'],
    ['MAX_CONNECTINOS', 'MAX_CONNECTIONS'],
    ['MAX_CONNECTION', 'MAX_CONNECTIONS'],
    ['MAX_CONECTONS', 'MAX_CONNECTIONS'],
    ['ADMIN_PROT', 'ADMIN_PORT'],
    ['ADMINPORT', 'ADMIN_PORT'],
    ['PROT', 'PORT'],
    ['HOSTS', 'HOST'],
    ['LOG_LEVL', 'LOG_LEVEL'],
    ['SHUTDOWN_TIMEOT_MS', 'SHUTDOWN_TIMEOUT_MS'],
    ['IDLE_TIMOUT_MS', 'IDLE_TIMEOUT_MS'],
    ['TCP_NODELAI', 'TCP_NODELAY'],
  ])('tcp-echo: %s → did you mean %s', (name, closest) => {
    expect(warned(tcpEcho, name)).toEqual([{ variable: name, closest }]);
  });

  it.each([
    ['WORKER', 'WORKERS'],
    ['HELLO_MESAGE', 'HELLO_MESSAGE'],
    ['KEEPALIVE_TIMEOUT_MS', 'KEEP_ALIVE_TIMEOUT_MS'],
  ])('http-hello: %s → did you mean %s', (name, closest) => {
    expect(warned(httpHello, name)).toEqual([{ variable: name, closest }]);
  });

  it('an unknown name with one of the app own prefixes warns, with no suggestion if none is close', () => {
    expect(warned(httpHello, 'HELLO_GREETING', 'hi', ['HELLO_'])).toEqual([
      { variable: 'HELLO_GREETING', closest: undefined },
    ]);
    expect(warned(httpHello, 'HELLO_GREETING', 'hi')).toEqual([]);
  });
});

describe('unknownVariables: what an ordinary environment holds never warns', () => {
  const ordinary = [
    'HOME',
    'PATH',
    'PWD',
    'OLDPWD',
    'TERM',
    'USER',
    'SHELL',
    'SHLVL',
    'HOSTNAME',
    'HOSTTYPE',
    'LANG',
    'LOGNAME',
    'TZ',
    'CI',
    'COLOR',
    'FORCE_COLOR',
    'NO_COLOR',
    'DEBUG',
    'NODE_ENV',
    'NODE_OPTIONS',
    'PNPM_HOME',
    'PNPM_SCRIPT_SRC_DIR',
    'TURBO_HASH',
    'TURBO_INVOCATION_DIR',
    'DOCKER_HOST',
    'KUBERNETES_PORT',
    'KUBERNETES_SERVICE_HOST',
    'VITEST_POOL_ID',
    'INIT_CWD',
    'TMPDIR',
    'EDITOR',
    'PAGER',
    'MAIL',
  ];
  it.each(ordinary)('%s', (name) => {
    expect(warned(tcpEcho, name)).toEqual([]);
    expect(warned(httpHello, name)).toEqual([]);
  });

  it.each(['npm_config_cache', 'npm_lifecycle_event', 'npm_package_name'])(
    'lower-case %s',
    (name) => {
      expect(warned(tcpEcho, name)).toEqual([]);
    },
  );

  it.each([
    ['HELLO_PORT', 'tcp://10.0.0.7:8080'],
    ['HELLO_SERVICE_PORT', '8080'],
    ['HELLO_SERVICE_HOST', '10.0.0.7'],
    ['HELLO_PORT_8080_TCP_ADDR', '10.0.0.7'],
    ['ECHO_PORT', 'tcp://10.0.0.8:7000'],
  ])('Kubernetes service link %s', (name, value) => {
    expect(warned(httpHello, name, value, ['HELLO_'])).toEqual([]);
    expect(warned(tcpEcho, name, value)).toEqual([]);
  });

  // The local runner passes every app's variables to every app.
  it.each([
    'UDP_REPLY',
    'UDP_MAX_DATAGRAM_BYTES',
    'DNS_SERVERS',
    'DNS_CACHE_TTL_MS',
    'MEDIA_DIR',
    'TLS_CERT_FILE',
    'TLS_KEY_FILE',
    'TLS_NODELAY',
    'HTTP2',
    'HELLO_MESSAGE',
    'MAX_BODY_BYTES',
    'WORKERS',
    'WORKER_MAX_RESTARTS',
    'KEEP_ALIVE_TIMEOUT_MS',
    'HEADERS_TIMEOUT_MS',
  ])("another app's variable %s does not warn in tcp-echo", (name) => {
    expect(warned(tcpEcho, name)).toEqual([]);
  });

  it.each(['TCP_KEEPALIVE_MS', 'TCP_NODELAY', 'UDP_REPLY', 'DNS_SERVERS', 'TLS_CERT_FILE'])(
    "another app's variable %s does not warn in http-hello",
    (name) => {
      expect(warned(httpHello, name, '1', ['HELLO_'])).toEqual([]);
    },
  );
});

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['HOST', 'HOST', 0],
    ['HOST', 'HOME', 2],
    ['PORT', 'PROT', 1],
    ['MAX_CONNECTIONS', 'MAX_CONECTIONS', 1],
    ['ABC', '', 3],
  ])('%s → %s: %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});
