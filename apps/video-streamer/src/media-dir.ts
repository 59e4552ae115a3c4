import { type BigIntStats, close, constants, fstat, open, realpath } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { extname, join, sep } from 'node:path';
import { promisify } from 'node:util';
import { contentType } from 'mime-types';
import { mp4Duration } from './mp4-duration.js';

const openAsync = promisify(open);
const realpathAsync = promisify(realpath);
const fstatBig = (fd: number) =>
  new Promise<BigIntStats>((resolve, reject) =>
    fstat(fd, { bigint: true }, (err, stat) => (err ? reject(err) : resolve(stat))),
  );

// O_NOFOLLOW: the path is already resolved, so a symlink here means it was
// swapped in since; O_NONBLOCK: opening a FIFO someone left in the folder
// must not block a thread-pool thread until a writer shows up.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** An open regular file in the media folder. The caller owns `fd` and must close it. */
export interface MediaFile {
  readonly fd: number;
  readonly stat: BigIntStats;
  readonly size: number;
  readonly type: string;
}

export interface ListedFile {
  name: string;
  size: number;
  type: string;
  /** Seconds, for MP4/QuickTime files (read from the moov box); null when unknown. */
  duration: number | null;
  url: string;
}

/** The Content-Type of `name` from the mime-db table (`mime-types`), octet-stream when unknown. */
export function typeOf(name: string): string {
  return contentType(extname(name)) || 'application/octet-stream';
}

// What "this name is not a file we serve" looks like. Anything else (EMFILE:
// out of file descriptors, EIO) is the server's problem, not a 404.
const ABSENT = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'EACCES', 'EPERM', 'ENAMETOOLONG']);

function absent(err: unknown): undefined {
  if (ABSENT.has((err as NodeJS.ErrnoException).code ?? '')) return undefined;
  throw err;
}

/**
 * The files of one folder, by name. `root` must be a real path (no symlink
 * in it): a file is served only if its own real path is inside it, so a
 * symlink that points out of the folder is treated as absent.
 */
export class MediaDir {
  readonly root: string;
  readonly #prefix: string;

  constructor(root: string) {
    this.root = root;
    this.#prefix = root.endsWith(sep) ? root : root + sep; // MEDIA_DIR=/ works too
  }

  /**
   * Whether the real path `real` may be served: inside the folder, and no
   * component of it below the folder is a dotfile or dot-folder. mediaName
   * refuses a dotted *name*; this judges where a symlink *leads*
   * (`ln -s .env clip.mp4`, `ln -s .git/config x.txt`), which realpath has
   * resolved component by component.
   */
  #inside(real: string): boolean {
    if (!real.startsWith(this.#prefix)) return false;
    return !real
      .slice(this.#prefix.length)
      .split(sep)
      .some((part) => part.startsWith('.'));
  }

  /**
   * Opens `name` (already checked by mediaName) for reading; undefined when
   * it does not exist, is not a regular file, or resolves outside the folder.
   */
  async open(name: string): Promise<MediaFile | undefined> {
    let real: string;
    try {
      real = await realpathAsync(join(this.root, name));
    } catch (err) {
      return absent(err);
    }
    if (!this.#inside(real)) return undefined;
    let fd: number;
    try {
      fd = await openAsync(real, OPEN_FLAGS);
    } catch (err) {
      return absent(err);
    }
    try {
      const stat = await fstatBig(fd);
      if (!stat.isFile()) {
        close(fd, () => {});
        return undefined;
      }
      return { fd, stat, size: Number(stat.size), type: typeOf(name) };
    } catch {
      close(fd, () => {});
      return undefined;
    }
  }

  /** Up to `limit` servable files, sorted by name, with their size, type and duration. */
  async list(limit: number): Promise<ListedFile[]> {
    const names = (await readdir(this.root))
      .filter((n) => !n.startsWith('.'))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const listed: ListedFile[] = [];
    // One file at a time: a listing of a big folder must not open a thousand files at once.
    for (const name of names) {
      if (listed.length >= limit) break;
      const file = await this.open(name);
      if (file === undefined) continue;
      let duration: number | undefined;
      try {
        if (/^(video|audio)\/(mp4|quicktime)$/.test(file.type)) {
          duration = await mp4Duration(file.fd, file.size).catch(() => undefined);
        }
      } finally {
        close(file.fd, () => {});
      }
      listed.push({
        name,
        size: file.size,
        type: file.type,
        duration: duration ?? null,
        url: `/videos/${encodeURIComponent(name)}`,
      });
    }
    return listed;
  }
}
