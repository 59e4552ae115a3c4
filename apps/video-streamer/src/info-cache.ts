import type { MediaInfo } from './read-at.js';

/**
 * What was read from each file's headers, so a listing opens only files it
 * has not seen. Keyed by what changes whenever the content can have
 * changed, without reading it: device, inode, size and nanosecond mtime
 * (the ETag's inputs), plus how it was parsed. Bounded: least recently used
 * entries go first once `max` are held.
 */
export class InfoCache {
  readonly #max: number;
  readonly #entries = new Map<string, MediaInfo>();

  constructor(max: number) {
    this.#max = max;
  }

  get(key: string): MediaInfo | undefined {
    const info = this.#entries.get(key);
    if (info !== undefined) {
      // A Map iterates in insertion order: re-inserting makes this the newest.
      this.#entries.delete(key);
      this.#entries.set(key, info);
    }
    return info;
  }

  set(key: string, info: MediaInfo): void {
    this.#entries.delete(key);
    this.#entries.set(key, info);
    while (this.#entries.size > this.#max) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
