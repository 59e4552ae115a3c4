import { type Preview, preview } from './preview.js';

export interface DatagramEntry {
  /** 1 for the first datagram since start: gaps show what the ring no longer holds. */
  seq: number;
  time: string;
  address: string;
  port: number;
  size: number;
  preview: Preview;
}

/**
 * The last `capacity` datagrams, for GET /datagrams. A ring over storage
 * allocated once: each datagram costs a copy of its first `previewBytes`
 * bytes into its slot and a few numbers, no allocation, and the memory is
 * `capacity * previewBytes` whatever arrives. Holding the received Buffers
 * instead would keep up to 64 KiB alive per entry. Previews are formatted
 * only when someone asks.
 */
export class History {
  readonly capacity: number;
  readonly #previewBytes: number;
  readonly #bytes: Buffer;
  readonly #kept: Uint16Array;
  readonly #sizes: Uint32Array;
  readonly #ports: Uint16Array;
  readonly #times: Float64Array;
  readonly #addresses: string[];
  #count = 0;

  constructor(capacity: number, previewBytes: number) {
    this.capacity = capacity;
    this.#previewBytes = previewBytes;
    this.#bytes = Buffer.alloc(capacity * previewBytes);
    this.#kept = new Uint16Array(capacity);
    this.#sizes = new Uint32Array(capacity);
    this.#ports = new Uint16Array(capacity);
    this.#times = new Float64Array(capacity);
    this.#addresses = new Array<string>(capacity).fill('');
  }

  /** Datagrams recorded since start (the ring holds the last `capacity` of them). */
  get count(): number {
    return this.#count;
  }

  add(time: number, address: string, port: number, data: Buffer): void {
    if (this.capacity === 0) return;
    const slot = this.#count % this.capacity;
    this.#count++;
    // A loop rather than data.copy(): for the few dozen bytes of a preview,
    // copy()'s checks and the view it makes of each datagram's fresh
    // ArrayBuffer cost more than the bytes (6% of the receive path in a
    // profile under a flood).
    const kept = Math.min(data.length, this.#previewBytes);
    const bytes = this.#bytes;
    for (let i = 0, at = slot * this.#previewBytes; i < kept; i++) bytes[at + i] = data[i]!;
    this.#kept[slot] = kept;
    this.#sizes[slot] = data.length;
    this.#ports[slot] = port;
    this.#times[slot] = time;
    this.#addresses[slot] = address;
  }

  /** Oldest first, newest last, like the tail of a log. */
  entries(): DatagramEntry[] {
    const held = Math.min(this.#count, this.capacity);
    const entries: DatagramEntry[] = [];
    for (let seq = this.#count - held + 1; seq <= this.#count; seq++) {
      const slot = (seq - 1) % this.capacity;
      const start = slot * this.#previewBytes;
      entries.push({
        seq,
        time: new Date(this.#times[slot]!).toISOString(),
        address: this.#addresses[slot]!,
        port: this.#ports[slot]!,
        size: this.#sizes[slot]!,
        preview: preview(
          this.#bytes.subarray(start, start + this.#kept[slot]!),
          this.#sizes[slot]!,
        ),
      });
    }
    return entries;
  }
}
