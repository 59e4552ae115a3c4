/**
 * `?rate=` on a download: at most this many bytes per second, to play a slow
 * origin to a CDN or a player. Bounded: under MIN_RATE a single download
 * could hold a connection for days; above MAX_RATE it is no cap at all.
 */
export const MIN_RATE = 1024;
export const MAX_RATE = 1024 * 1024 * 1024;

/** The pacing of one download, for sendFileBody. */
export interface Pace {
  /** Largest chunk to read at a time: a tenth of a second's worth, so the flow is smooth. */
  readonly chunk: number;
  /** Milliseconds to wait before sending `bytes` more (0: send now, and it is counted). */
  wait(bytes: number): number;
}

/** The `rate` of a query string (without `?`): undefined when absent, null when malformed or out of bounds. */
export function readRate(query: string): number | undefined | null {
  if (!query.includes('rate=')) return undefined;
  const text = new URLSearchParams(query).get('rate');
  if (text === null) return undefined;
  if (!/^\d{1,10}$/.test(text)) return null;
  const rate = Number(text);
  return rate < MIN_RATE || rate > MAX_RATE ? null : rate;
}

/** Paces to `rate` bytes per second: each chunk may go once the previous ones have "drained" at that rate. */
export function pace(rate: number): Pace {
  let allowedAt = 0;
  return {
    chunk: Math.max(MIN_RATE, Math.floor(rate / 10)),
    wait(bytes) {
      const now = performance.now();
      if (now < allowedAt) return Math.ceil(allowedAt - now);
      allowedAt = Math.max(allowedAt, now) + (bytes * 1000) / rate;
      return 0;
    },
  };
}
