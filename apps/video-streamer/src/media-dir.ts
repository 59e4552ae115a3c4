import { type BigIntStats, close, constants, fstat, open, realpath, stat } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, extname, join, sep } from 'node:path';
import { promisify } from 'node:util';
import { contentType } from 'mime-types';
import { InfoCache } from './info-cache.js';
import { mp4Info } from './mp4-info.js';
import { type MediaInfo, UNKNOWN } from './read-at.js';
import { webmInfo } from './webm-info.js';

const openAsync = promisify(open);
const realpathAsync = promisify(realpath);
const statBig = (path: string) =>
  new Promise<BigIntStats>((resolve, reject) =>
    stat(path, { bigint: true }, (err, st) => (err ? reject(err) : resolve(st))),
  );
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
  /** Last modification, ISO 8601 (UTC). */
  mtime: string;
  /** Seconds, from an MP4's `mvhd` or a WebM's Info; null when unknown. */
  duration: number | null;
  /** Of the first video track; null when unknown or none. */
  width: number | null;
  height: number | null;
  /** One RFC 6381 codec string per track (`avc1.4d401e`, `mp4a.40.2`, `vp9`, `opus`); empty when unknown. */
  codecs: string[];
  url: string;
  /** Same-named WebVTT files: `clip.vtt`, or `clip.en.vtt` with `lang: "en"`. */
  subtitles: Array<{ url: string; lang: string | null }>;
  /** A same-named picture (`clip.jpg`, `.jpeg`, `.png`, `.webp`), or null. */
  poster: string | null;
}

export interface ListQuery {
  offset: number;
  limit: number;
  /** Every servable file, not only audio and video. */
  all: boolean;
}

export interface Listing {
  files: ListedFile[];
  /** How many files the whole listing holds (every page). */
  total: number;
}

export interface MediaDirOptions {
  /** Most files whose parsed headers are remembered (see InfoCache). */
  infoCacheEntries: number;
  /** Called each time a file is opened to read its headers (a metric). */
  onProbe?: () => void;
}

// Types a player is pointed at: audio and video, and HLS/DASH playlists.
const MEDIA_TYPE = /^(video|audio)\/|^application\/(vnd\.apple\.mpegurl|x-mpegurl|dash\+xml)/;
const POSTER_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp'];
// Stats in flight at once while listing: enough to keep the thread pool busy, not to flood it.
const STAT_BATCH = 16;

/** Whether a file of this Content-Type is audio or video (listed by default). */
export const isMedia = (type: string) => MEDIA_TYPE.test(type);

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
  readonly #cache: InfoCache;
  readonly #onProbe: () => void;
  /** The folder's entries, kept while its mtime says none was added, removed or renamed. */
  #entries: { key: string; names: Array<{ name: string; link: boolean }> } | undefined;
  readonly #inFlight = new Map<string, Promise<Listing>>();

  constructor(root: string, opts: MediaDirOptions = { infoCacheEntries: 10_000 }) {
    this.root = root;
    this.#prefix = root.endsWith(sep) ? root : root + sep; // MEDIA_DIR=/ works too
    this.#cache = new InfoCache(opts.infoCacheEntries);
    this.#onProbe = opts.onProbe ?? (() => {});
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

  /**
   * One page of the servable files, sorted by name: audio and video only
   * unless `all`. A file is opened (to read its headers) only the first time
   * it is listed with this inode, size and mtime; after that a listing costs
   * a readdir (skipped too while the folder's mtime is unchanged), a stat per
   * file on the page, and a realpath per symlink.
   */
  list(query: ListQuery): Promise<Listing> {
    // Requests for the same page while one is being made share its answer:
    // 20 clients polling a big folder cost one listing, not 20.
    const key = `${query.offset}:${query.limit}:${query.all}`;
    let pending = this.#inFlight.get(key);
    if (pending === undefined) {
      pending = this.#list(query).finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, pending);
    }
    return pending;
  }

  async #list(query: ListQuery): Promise<Listing> {
    const names = await this.#names();
    // A symlink's target is resolved, judged and stat'ed once, here: what is
    // listed for it is what open() would serve, never a target swapped in later.
    const links = await batched(names, ({ name, link }) =>
      link ? this.#servableLink(name) : Promise.resolve(undefined),
    );
    const linked = new Map<string, BigIntStats>();
    const servable: string[] = [];
    for (const [i, { name, link }] of names.entries()) {
      const st = links[i];
      if (st !== undefined) linked.set(name, st);
      if (!link || st !== undefined) servable.push(name);
    }
    const present = new Set(servable);
    const subtitles = subtitlesByStem(servable);
    const listed = query.all ? servable : servable.filter((n) => isMedia(typeOf(n)));
    const page = listed.slice(query.offset, query.offset + query.limit);
    const stats = await batched(page, async (n) => linked.get(n) ?? this.#stat(n));
    const files: ListedFile[] = [];
    // One file at a time: a listing of a big folder must not open a thousand files at once.
    for (const [i, name] of page.entries()) {
      const st = stats[i];
      if (st === undefined) continue; // gone, or no longer a file, since readdir
      const type = typeOf(name);
      const info = await this.#info(name, type, st);
      const stem = name.slice(0, name.length - extname(name).length);
      files.push({
        name,
        size: Number(st.size),
        type,
        mtime: new Date(Number(st.mtimeNs / 1_000_000n)).toISOString(),
        ...info,
        codecs: [...info.codecs],
        url: urlOf(name),
        subtitles: isMedia(type) ? (subtitles.get(stem) ?? []) : [],
        poster: isMedia(type) ? posterOf(stem, present) : null,
      });
    }
    return { files, total: listed.length };
  }

  /** The folder's non-dot entries that may be files (regular, or symlinks to check), sorted. */
  async #names(): Promise<Array<{ name: string; link: boolean }>> {
    const dir = await statBig(this.root);
    const key = `${dir.ino}:${dir.mtimeNs}:${dir.ctimeNs}`;
    if (this.#entries?.key === key) return this.#entries.names;
    const names = (await readdir(this.root, { withFileTypes: true }))
      .filter((d) => !d.name.startsWith('.') && (d.isFile() || d.isSymbolicLink()))
      .map((d) => ({ name: d.name, link: d.isSymbolicLink() }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.#entries = { key, names };
    return names;
  }

  /** A symlink's target when open() would serve it (resolved inside, no dot in the way, a file). */
  async #servableLink(name: string): Promise<BigIntStats | undefined> {
    try {
      const real = await realpathAsync(join(this.root, name));
      if (!this.#inside(real)) return undefined;
      const st = await statBig(real);
      return st.isFile() ? st : undefined;
    } catch (err) {
      return absent(err);
    }
  }

  async #stat(name: string): Promise<BigIntStats | undefined> {
    try {
      const st = await statBig(join(this.root, name));
      return st.isFile() ? st : undefined;
    } catch (err) {
      return absent(err);
    }
  }

  /** Duration, size and codecs: from the cache, or read from the file's headers once. */
  async #info(name: string, type: string, st: BigIntStats): Promise<MediaInfo> {
    const probe = probeOf(type);
    if (probe === undefined) return UNKNOWN;
    const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${type}`;
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached;
    const file = await this.open(name);
    if (file === undefined) return UNKNOWN;
    let info = UNKNOWN;
    try {
      this.#onProbe();
      info = await probe(file.fd, file.size).catch(() => UNKNOWN);
    } finally {
      close(file.fd, () => {});
    }
    // Keyed by what was opened: if it changed since the stat, the next listing sees it.
    const s = file.stat;
    this.#cache.set(`${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${type}`, info);
    return info;
  }
}

/** `fn` of every item, STAT_BATCH at a time, in order. */
async function batched<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += STAT_BATCH) {
    out.push(...(await Promise.all(items.slice(i, i + STAT_BATCH).map(fn))));
  }
  return out;
}

/** How to read the headers of a file of this type, if we know how. */
function probeOf(type: string): ((fd: number, size: number) => Promise<MediaInfo>) | undefined {
  if (/^(video|audio)\/(mp4|quicktime|x-m4v)$/.test(type)) return mp4Info;
  if (/^(video|audio)\/(webm|x-matroska)$/.test(type)) return webmInfo;
  return undefined;
}

const urlOf = (name: string) => `/videos/${encodeURIComponent(name)}`;

// `clip.en.vtt`, `clip.pt-BR.vtt`: a BCP 47-looking tag between the stem and `.vtt`.
const LANG = /^(.+)\.([A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*)$/;

/** The WebVTT files by the stem they belong to: `stem.vtt` (no language), `stem.<lang>.vtt`. */
function subtitlesByStem(names: readonly string[]): Map<string, ListedFile['subtitles']> {
  const byStem = new Map<string, ListedFile['subtitles']>();
  const add = (stem: string, url: string, lang: string | null) => {
    const list = byStem.get(stem) ?? [];
    list.push({ url, lang });
    byStem.set(stem, list);
  };
  for (const n of names) {
    if (extname(n) !== '.vtt') continue;
    const base = basename(n, '.vtt');
    add(base, urlOf(n), null);
    const m = LANG.exec(base);
    if (m !== null) add(m[1]!, urlOf(n), m[2]!);
  }
  return byStem;
}

function posterOf(stem: string, present: ReadonlySet<string>): string | null {
  for (const ext of POSTER_EXTENSIONS) if (present.has(stem + ext)) return urlOf(stem + ext);
  return null;
}
