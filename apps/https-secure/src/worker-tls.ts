import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PreparedTls } from '@netlab/tls';

/**
 * What the cluster primary hands its workers so that, whichever worker a
 * connection lands on, the client sees one server: the same certificate.
 *
 * A certificate generated in memory exists only in the primary, and each
 * worker would generate a different one; it is written to a private
 * directory (0700, key 0600) and the workers load it as TLS_CERT_FILE /
 * TLS_KEY_FILE. Files, not environment variables: /proc/<pid>/environ is
 * readable by every process of the user. Mounted files and TLS_CERT_DIR
 * need nothing: the workers read the same files.
 *
 * Session ticket keys need nothing either: node:cluster workers listening
 * on one port already share them (a ticket issued by one worker resumes on
 * another without any key passed: test/workers.test.ts), so the ticket-key
 * file this module once wrote was removed.
 *
 * Returns the variables to add to the workers' environment and a cleanup.
 */
export function shareWithWorkers(tls: PreparedTls): {
  env: Record<string, string>;
  cleanup(): void;
} {
  if (tls.source.kind !== 'generated') return { env: {}, cleanup: () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'netlab-https-'));
  const env = { TLS_CERT_FILE: join(dir, 'cert.pem'), TLS_KEY_FILE: join(dir, 'key.pem') };
  writeFileSync(env.TLS_CERT_FILE, tls.credentials.cert, { mode: 0o644 });
  writeFileSync(env.TLS_KEY_FILE, tls.credentials.key, { mode: 0o600 });
  return { env, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
