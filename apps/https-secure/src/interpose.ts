import type { EventEmitter } from 'node:events';

type Listener = (...args: unknown[]) => void;

/**
 * Puts `gate` in front of the listeners `emitter` has for `event` now: they
 * are removed, and called (in their order, with the same arguments) only
 * when `gate` calls `pass`. Listeners added later are not affected.
 *
 * Public EventEmitter API only (listeners/removeListener). https-secure uses
 * it twice, on listeners that node:tls and node:http2 install in the server's
 * constructor: 'connection' (so the first bytes are looked at before TLS
 * takes the socket: plaintext.ts) and 'secureConnection' (so the client
 * certificate is judged, and a refused client logged with its address,
 * before HTTP/2 or HTTP/1 takes the socket).
 */
export function interpose<A extends unknown[]>(
  emitter: EventEmitter,
  event: string,
  gate: (pass: () => void, ...args: A) => void,
): void {
  const downstream = emitter.listeners(event) as Listener[];
  for (const listener of downstream) emitter.removeListener(event, listener);
  emitter.on(event, (...args: A) => {
    gate(
      () => {
        for (const listener of downstream) listener.apply(emitter, args);
      },
      ...args,
    );
  });
}
