import type { Server, Socket } from 'node:net';
import type { Logger } from './logger.js';
import { peerAddress } from './peer-address.js';

/**
 * The open sockets of a server. `server.close()` only stops accepting; a
 * graceful shutdown also needs to know who is still connected so it can
 * give them a deadline and then destroy whoever is left.
 */
export class ConnectionSet {
  readonly #sockets = new Set<Socket>();
  #whenEmpty: Array<() => void> = [];

  add(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      if (this.#sockets.size === 0) for (const resolve of this.#whenEmpty.splice(0)) resolve();
    });
  }

  /**
   * Resolves once no socket is open. Waits for each socket's 'close' event,
   * not for `server.close()`'s callback: Node counts a destroyed socket out of
   * the server before the socket emits 'close', so the server's callback can
   * run before the per-connection cleanup (and its log line) has.
   */
  empty(): Promise<void> {
    if (this.#sockets.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#whenEmpty.push(resolve));
  }

  get size(): number {
    return this.#sockets.size;
  }

  [Symbol.iterator](): IterableIterator<Socket> {
    return this.#sockets.values();
  }
}

/**
 * Stops `server` accepting, waits up to `timeoutMs` for its connections to
 * end on their own, then destroys the rest (calling `onExpire` first for
 * each, so the caller can record why it was cut). Logs how many it waits
 * for and how many it had to cut; resolves with the latter.
 */
export async function drain(
  server: Server,
  connections: ConnectionSet,
  opts: { timeoutMs: number; logger: Logger; onExpire?: (socket: Socket) => void },
): Promise<{ destroyed: number }> {
  const { timeoutMs, logger, onExpire } = opts;
  if (connections.size > 0) {
    logger.info({ open: connections.size, timeoutMs }, 'waiting for open connections');
  }
  let destroyed = 0;
  const timer = setTimeout(() => {
    for (const socket of connections) {
      onExpire?.(socket);
      socket.destroy();
      destroyed++;
    }
  }, timeoutMs);
  server.close();
  await connections.empty();
  clearTimeout(timer);
  if (destroyed > 0) logger.warn({ destroyed }, 'shutdown deadline passed: connections cut');
  return { destroyed };
}

/** Who a refused connection came from, as Node's 'drop' event says. */
export interface DropInfo {
  remoteAddress?: string;
  remotePort?: number;
}

/**
 * Counts and logs connections refused at a cap without letting a flood of
 * refused clients flood the log too: the first refusal is logged with its
 * peer, then one line per `logIntervalMs` (default 5 s) with how many more
 * were refused in it, until an interval passes with none. (6,138 lines in
 * 5 s were seen under load before.) `variable` names the cap in the lines.
 */
export function reportDrops(opts: {
  limit: number;
  logger: Logger;
  onDrop: () => void;
  variable: string;
  logIntervalMs?: number;
}): { drop(info?: DropInfo): void; close(): void } {
  const intervalMs = opts.logIntervalMs ?? 5000;
  let quiet: NodeJS.Timeout | undefined;
  let since = 0;
  const report = () => {
    if (since === 0) {
      quiet = undefined;
      return;
    }
    opts.logger.warn(
      { rejected: since, intervalMs, limit: opts.limit },
      `connections rejected: ${opts.variable} reached`,
    );
    since = 0;
    quiet = setTimeout(report, intervalMs).unref();
  };
  return {
    drop(info) {
      opts.onDrop();
      if (quiet !== undefined) {
        since++;
        return;
      }
      opts.logger.warn(
        {
          remoteAddress: peerAddress(info?.remoteAddress),
          remotePort: info?.remotePort,
          limit: opts.limit,
        },
        `connection rejected: ${opts.variable} reached`,
      );
      quiet = setTimeout(report, intervalMs).unref();
    },
    // The count of a last, unfinished interval is not lost at shutdown.
    close() {
      clearTimeout(quiet);
      report();
      clearTimeout(quiet);
    },
  };
}

/**
 * Caps `server` at `limit` open connections. Node itself closes each one
 * past the cap as it arrives and emits 'drop'; this counts every one
 * (`onDrop`) and logs them as reportDrops does.
 */
export function limitConnections(
  server: Server,
  opts: {
    limit: number;
    logger: Logger;
    onDrop: () => void;
    logIntervalMs?: number;
    variable?: string;
  },
): void {
  server.maxConnections = opts.limit;
  const drops = reportDrops({ ...opts, variable: opts.variable ?? 'MAX_CONNECTIONS' });
  server.on('drop', (info) => drops.drop(info));
  server.on('close', () => drops.close());
}

/**
 * Closes every connection that has had no traffic either way for `idleMs`:
 * a sweep every `idleMs / 4` (50 ms to 5 s) compares each socket's byte
 * counters with the last sweep's. `socket.setTimeout` does the same per
 * socket, but re-arms a timer on every read and write; on keep-alive
 * `GET /` that cost 8-15% of http-hello's requests per second (measured with
 * wrk). Here a request costs nothing, and a connection is cut between
 * `idleMs` and `idleMs * 1.25` after its last byte.
 */
export function sweepIdle(
  connections: ConnectionSet,
  idleMs: number,
  onIdle: (socket: Socket) => void,
): { stop(): void } {
  const seen = new WeakMap<Socket, { bytes: number; since: number }>();
  const timer = setInterval(
    () => {
      const now = Date.now();
      for (const socket of connections) {
        const bytes = socket.bytesRead + socket.bytesWritten;
        const last = seen.get(socket);
        if (last === undefined || last.bytes !== bytes) seen.set(socket, { bytes, since: now });
        else if (now - last.since >= idleMs) onIdle(socket);
      }
    },
    Math.min(5000, Math.max(50, Math.floor(idleMs / 4))),
  );
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
