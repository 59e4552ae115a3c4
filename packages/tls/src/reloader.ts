import { type Stats, unwatchFile, watchFile } from 'node:fs';
import { createSecureContext, type Server as TlsServer } from 'node:tls';
import type { Logger } from '@netlab/common';
import { type Credentials, readCredentials } from './credentials.js';
import { TlsError } from './errors.js';
import { PAIR_NAMES, type PreparedTls } from './prepare.js';
import { secureContextOptions } from './settings.js';

export interface CertificateReloader {
  /** Reads the files again and, if the pair is good, serves it to new connections. */
  reload(reason: string): Promise<'reloaded' | 'unchanged' | 'failed' | 'no-files'>;
  /** The pair new connections get now. */
  readonly current: Credentials;
  stop(): void;
}

export interface ReloaderOptions {
  logger: Logger;
  /** How often the files are checked for a change (0: only on reload()). */
  watchIntervalMs: number;
  /** Told every outcome, for a metric. */
  onResult?: (result: 'reloaded' | 'failed') => void;
}

/**
 * Hot certificate reload for a TLS server (tls, https or http2): on a change
 * to the certificate or key file, or when asked (SIGHUP), the pair is read
 * and checked; a good one replaces the server's secure context, so new
 * connections get it and open ones keep theirs; a bad one (half-written,
 * mismatched, unreadable) is logged and the current one kept.
 *
 * The files are polled with fs.watchFile rather than fs.watch: Kubernetes
 * and most deploy tools replace a certificate by renaming a new file or
 * symlink over the old one, which an inotify watch on the old inode never
 * sees; a stat poll follows the path.
 */
export function watchCertificates(
  server: TlsServer,
  prepared: PreparedTls,
  opts: ReloaderOptions,
): CertificateReloader {
  const { logger } = opts;
  const { source, clientAuth, sessionTickets } = prepared;
  let current = prepared.credentials;
  // One reload at a time: two changes in a row must not race to set the context.
  let queue: Promise<unknown> = Promise.resolve();

  const files = source.kind === 'generated' ? [] : [source.certFile, source.keyFile];
  const names = source.kind === 'files' ? PAIR_NAMES : { cert: source.kind, key: source.kind };

  async function reloadNow(reason: string) {
    if (source.kind === 'generated') {
      logger.info({ reason }, 'certificate reload: nothing to reload, it was generated in memory');
      return 'no-files' as const;
    }
    let next: Credentials;
    try {
      next = await readCredentials(source.certFile, source.keyFile, names);
      createSecureContext(secureContextOptions(next, clientAuth, sessionTickets));
    } catch (err) {
      const code = err instanceof TlsError ? err.code : 'NETLAB_ERR_TLS_CONTEXT';
      logger.error(
        { reason, code, err: (err as Error).message, fingerprint256: current.info.fingerprint256 },
        'certificate reload failed: keeping the current certificate',
      );
      opts.onResult?.('failed');
      return 'failed' as const;
    }
    if (next.cert === current.cert && next.key === current.key) {
      logger.debug({ reason }, 'certificate reload: unchanged');
      return 'unchanged' as const;
    }
    server.setSecureContext({
      ...secureContextOptions(next, clientAuth, sessionTickets),
      // Keep the session ticket keys, so clients resume across a reload.
      ticketKeys: server.getTicketKeys(),
    });
    current = next;
    logger.info({ reason, ...certificateLogFields(next) }, 'certificate reloaded');
    opts.onResult?.('reloaded');
    return 'reloaded' as const;
  }

  const reload = (reason: string) => {
    const result = queue.then(() => reloadNow(reason));
    queue = result.catch(() => {});
    return result;
  };

  const onChange = (cur: Stats, prev: Stats) => {
    if (cur.mtimeMs === prev.mtimeMs && cur.ino === prev.ino && cur.size === prev.size) return;
    void reload('file changed');
  };
  if (opts.watchIntervalMs > 0) {
    for (const file of files) {
      watchFile(file, { interval: opts.watchIntervalMs, persistent: false }, onChange);
    }
  }

  return {
    reload,
    get current() {
      return current;
    },
    stop() {
      for (const file of files) unwatchFile(file, onChange);
    },
  };
}

/** What the logs say about a certificate: fingerprint, names, validity; never the key. */
export function certificateLogFields(credentials: Credentials) {
  const { info } = credentials;
  return {
    fingerprint256: info.fingerprint256,
    subject: info.subject,
    issuer: info.issuer,
    subjectAltNames: info.subjectAltNames,
    validFrom: info.validFrom,
    validTo: info.validTo,
  };
}
