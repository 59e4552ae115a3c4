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
  /**
   * A ready-to-paste command with `{port}` filled in, for a server whose
   * certificate the client does not have (Docker's: `curl -k`); the runner's
   * table uses {@link exampleWith} and the certificate files it knows.
   */
  example: string;
  /** The package.json template: `{port}`, `{tls-curl}`, `{tls-cli}`. */
  template: string;
  /** The app generates a certificate when given none (it declares TLS_CERT_DIR). */
  tls: boolean;
}

/** What a client needs to verify a TLS app and, with mTLS, to be let in. */
export interface ClientFiles {
  ca?: string | undefined;
  clientCert?: string | undefined;
  clientKey?: string | undefined;
}

/**
 * The template with its placeholders filled: `{tls-curl}` becomes curl's
 * flags (`--cacert … --cert … --key …`, or `-k` when no CA is known) and
 * `{tls-cli}` the TLS client's (`--ca …`, or `--insecure`).
 */
export function exampleWith(template: string, port: number, files: ClientFiles = {}): string {
  const client = (cert: string, key: string) =>
    files.clientCert && files.clientKey ? [cert, files.clientCert, key, files.clientKey] : [];
  const curl = [...(files.ca ? ['--cacert', files.ca] : ['-k']), ...client('--cert', '--key')];
  const cli = [...(files.ca ? ['--ca', files.ca] : ['--insecure']), ...client('--cert', '--key')];
  return template
    .replaceAll('{port}', String(port))
    .replaceAll('{tls-curl}', curl.map(shellWord).join(' '))
    .replaceAll('{tls-cli}', cli.map(shellWord).join(' '));
}

/** A word as a shell reads it: quoted only when it has to be. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
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
      schema: { PORT: PortSpec; ADMIN_PORT: PortSpec; TLS_CERT_DIR?: unknown };
    };
    const template = pkg.netlab.example ?? '';
    const port = schema.PORT.default + portOffset;
    apps.push({
      name,
      protocol: pkg.netlab.protocol ?? 'tcp',
      main,
      port,
      adminPort: schema.ADMIN_PORT.default + portOffset,
      example: exampleWith(template, port),
      template,
      tls: schema.TLS_CERT_DIR !== undefined,
    });
  }
  return apps;
}
