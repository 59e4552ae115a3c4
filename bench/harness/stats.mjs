/** Median of the finite numbers in `values`, or null when there are none. */
export function median(values) {
  const xs = values
    .filter((v) => typeof v === 'number' && Number.isFinite(v))
    .sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const mid = xs.length >> 1;
  return xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
}

/** Median of each numeric key across a list of round results. */
export function medianByKey(rounds) {
  const keys = new Set(rounds.flatMap((r) => Object.keys(r)));
  const out = {};
  for (const key of keys) {
    const m = median(rounds.map((r) => r[key]));
    if (m !== null) out[key] = m;
  }
  return out;
}
