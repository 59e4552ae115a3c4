import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface AppInfo {
  /** Folder name under apps/, e.g. `tcp-echo`. */
  name: string;
  protocol: string;
  main: string;
  port: number;
  adminPort: number;
  /** A ready-to-paste command with `{port}` filled in. */
  example: string;
}

interface PackageJson {
  netlab?: { protocol?: string; example?: string };
}

interface PortSpec {
  default: number;
}

/**
 * Every app under `<root>/apps` that declares a `netlab` block in its
 * package.json. Ports come from the app's own config declarations
 * (dist/config.js), so the runner can never disagree with the app's docs.
 */
export async function discoverApps(root: string, portOffset = 0): Promise<AppInfo[]> {
  const appsDir = join(root, 'apps');
  const apps: AppInfo[] = [];
  for (const name of readdirSync(appsDir).sort()) {
    const pkgPath = join(appsDir, name, 'package.json');
    if (!existsSync(pkgPath)) continue;
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as PackageJson;
    if (!pkg.netlab) continue;
    const main = join(appsDir, name, 'dist/main.js');
    const configJs = join(appsDir, name, 'dist/config.js');
    if (!existsSync(main) || !existsSync(configJs)) {
      throw new Error(`${name} is not built (no dist/main.js): run \`pnpm build\` first`);
    }
    const { schema } = (await import(pathToFileURL(configJs).href)) as {
      schema: { PORT: PortSpec; ADMIN_PORT: PortSpec };
    };
    const port = schema.PORT.default + portOffset;
    apps.push({
      name,
      protocol: pkg.netlab.protocol ?? 'tcp',
      main,
      port,
      adminPort: schema.ADMIN_PORT.default + portOffset,
      example: (pkg.netlab.example ?? '').replaceAll('{port}', String(port)),
    });
  }
  return apps;
}
