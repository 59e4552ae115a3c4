import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Schema } from '@netlab/common';
import { parse } from 'yaml';

export const root = fileURLToPath(new URL('../../..', import.meta.url));

/** The parts of a Compose service these checks read. */
export interface Service {
  build?: {
    context?: string;
    dockerfile?: string;
    args?: Record<string, string>;
    network?: string;
  };
  image?: string;
  profiles?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test?: string[] };
  init?: boolean;
  restart?: string;
  read_only?: boolean;
  tmpfs?: string[];
  cap_drop?: string[];
  security_opt?: string[];
  stop_grace_period?: string;
  command?: unknown;
  [key: string]: unknown;
}

export interface ComposeFile {
  services: Record<string, Service>;
  [key: string]: unknown;
}

/**
 * `${VAR:-default}`, `${VAR-default}`, `${VAR}` and `$$`, as Compose
 * substitutes them before validating, with the variables in `env` (none:
 * what a user gets by default).
 */
export function interpolate(text: string, env: Record<string, string> = {}): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}/g,
    (whole, name: string | undefined, op: string | undefined, fallback: string | undefined) => {
      if (whole === '$$') return '$';
      const value = env[name!];
      if (op === ':-') return value ? value : (fallback ?? '');
      if (op === '-') return value ?? fallback ?? '';
      return value ?? '';
    },
  );
}

/** A compose file from the repo root, interpolated and parsed (YAML anchors and merge keys resolved). */
export function loadCompose(file: string): ComposeFile {
  const text = interpolate(readFileSync(join(root, file), 'utf8'));
  return parse(text, { merge: true }) as ComposeFile;
}

export interface Published {
  hostIp: string | undefined;
  published: number;
  target: number;
  protocol: 'tcp' | 'udp';
}

/** A short-syntax port, `[HOST_IP:]PUBLISHED:TARGET[/PROTOCOL]`. */
export function parsePort(spec: string): Published {
  const m = /^(?:(.+):)?(\d+):(\d+)(?:\/(tcp|udp))?$/.exec(spec);
  if (!m) throw new Error(`not a HOST:CONTAINER port: ${spec}`);
  return {
    hostIp: m[1],
    published: Number(m[2]),
    target: Number(m[3]),
    protocol: (m[4] ?? 'tcp') as 'tcp' | 'udp',
  };
}

/** A Compose duration (`15s`, `1m30s`, `500ms`) in milliseconds. */
export function durationMs(text: string): number {
  const units: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let rest = text;
  while (rest.length > 0) {
    const m = /^(\d+(?:\.\d+)?)(us|ms|s|m|h)/.exec(rest);
    if (!m) throw new Error(`not a duration: ${text}`);
    total += Number(m[1]) * units[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return total;
}

/** An app's config declarations, from its build output (as the runner reads them). */
export async function appSchema(app: string): Promise<Schema> {
  const url = pathToFileURL(join(root, 'apps', app, 'dist/config.js')).href;
  return ((await import(url)) as { schema: Schema }).schema;
}

/** The per-app stages of the Dockerfile: `FROM runtime AS app-<name>`, its ADMIN_PORT and EXPOSE. */
export function dockerfileStages(): Map<string, { adminPort: number; expose: string[] }> {
  const text = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const stages = new Map<string, { adminPort: number; expose: string[] }>();
  const stage = /^FROM runtime AS app-(\S+)\nENV ADMIN_PORT=(\d+)\nEXPOSE (.+)$/gm;
  for (const m of text.matchAll(stage)) {
    stages.set(m[1]!, { adminPort: Number(m[2]), expose: m[3]!.trim().split(/\s+/) });
  }
  return stages;
}
