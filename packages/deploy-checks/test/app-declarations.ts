import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The part of a config variable's declaration (@netlab/common VarSpec) the checks read. */
export interface VarDecl {
  readonly default: unknown;
  parse(raw: string): { value: unknown } | { error: string };
}

export interface AppDecl {
  /** Folder name under apps/. */
  readonly name: string;
  /** `protocol` of the app's package.json `netlab` block: tcp, udp, http, https, tls. */
  readonly protocol: string;
  readonly schema: Readonly<Record<string, VarDecl>>;
  readonly port: number;
  readonly adminPort: number;
  readonly shutdownTimeoutMs: number;
}

/**
 * Every app under `<root>/apps` with a `netlab` block, as it declares itself:
 * its built config schema (dist/config.js) is the one source of ports and
 * defaults, as for the local runner.
 */
export async function loadApps(root: string): Promise<AppDecl[]> {
  const apps: AppDecl[] = [];
  for (const name of readdirSync(join(root, 'apps')).sort()) {
    const pkgPath = join(root, 'apps', name, 'package.json');
    if (!existsSync(pkgPath)) continue;
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { netlab?: { protocol?: string } };
    if (!pkg.netlab) continue;
    const configJs = join(root, 'apps', name, 'dist/config.js');
    if (!existsSync(configJs)) throw new Error(`${name} is not built: run \`pnpm build\` first`);
    const { schema } = (await import(pathToFileURL(configJs).href)) as {
      schema: Record<string, VarDecl>;
    };
    apps.push({
      name,
      protocol: pkg.netlab.protocol ?? 'tcp',
      schema,
      port: schema.PORT?.default as number,
      adminPort: schema.ADMIN_PORT?.default as number,
      shutdownTimeoutMs: schema.SHUTDOWN_TIMEOUT_MS?.default as number,
    });
  }
  return apps;
}
