import { read } from 'node:fs';

/** Reads up to `length` bytes at `position` of `fd`; resolves with the bytes read (maybe fewer). */
export const readAt = (fd: number, length: number, position: number) =>
  new Promise<Buffer>((resolve, reject) => {
    const buf = Buffer.alloc(length);
    read(fd, buf, 0, length, position, (err, n) =>
      err ? reject(err) : resolve(buf.subarray(0, n)),
    );
  });

/** What a player UI wants to know of a media file before it plays it; null where unknown. */
export interface MediaInfo {
  /** Seconds. */
  duration: number | null;
  /** Pixels, of the first video track. */
  width: number | null;
  height: number | null;
  /** RFC 6381 codec strings as `<video>`'s canPlayType wants them (`avc1.4d401e`, `mp4a.40.2`, `vp9`, `opus`), one per track. */
  codecs: string[];
}

export const UNKNOWN: MediaInfo = Object.freeze({
  duration: null,
  width: null,
  height: null,
  codecs: Object.freeze([]) as unknown as string[],
});
