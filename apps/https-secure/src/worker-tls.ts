import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PreparedTls } from '@netlab/tls';

/** Where the primary leaves the workers their session ticket keys. */
export const TICKET_KEYS_VAR = 'NETLAB_TLS_TICKET_KEYS_FILE';

/**
 * What the cluster primary hands its workers so that, whichever worker a
 * connection lands on, the client sees one server: the same certificate
 * and the same session ticket keys.
 *
 * A certificate generated in memory exists only in the primary, and each
 * worker would generate a different one; it is written to a private
 * directory (0700, key 0600) and the workers load it as TLS_CERT_FILE /
 * TLS_KEY_FILE. Ticket keys (48 random bytes) go to the same directory, so a
 * ticket issued by one worker resumes on another. Files, not environment
 * variables: /proc/<pid>/environ is readable by every process of the user.
 * Returns the variables to add to the workers' environment and a cleanup.
 */
export function shareWithWorkers(tls: PreparedTls): {
  env: Record<string, string>;
  cleanup(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'netlab-https-'));
  const env: Record<string, string> = { [TICKET_KEYS_VAR]: join(dir, 'ticket-keys') };
  writeFileSync(env[TICKET_KEYS_VAR]!, randomBytes(48), { mode: 0o600 });
  if (tls.source.kind === 'generated') {
    env.TLS_CERT_FILE = join(dir, 'cert.pem');
    env.TLS_KEY_FILE = join(dir, 'key.pem');
    writeFileSync(env.TLS_CERT_FILE, tls.credentials.cert, { mode: 0o644 });
    writeFileSync(env.TLS_KEY_FILE, tls.credentials.key, { mode: 0o600 });
  }
  return { env, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The worker's side: the shared ticket keys, when the primary left some. */
export function sharedTicketKeys(path: string | undefined): Buffer | undefined {
  return path === undefined ? undefined : readFileSync(path);
}
