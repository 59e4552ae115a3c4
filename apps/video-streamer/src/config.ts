import { statSync } from 'node:fs';
import { type ConfigOf, commonVars, int, string, type VarSpec } from '@netlab/common';
import { guardVars } from '@netlab/http-handlers';
import { proxyProtocolVars } from '@netlab/proxy-protocol';

/**
 * A folder that exists. Not pure, unlike the other parsers: a MEDIA_DIR
 * that is missing is a deployment mistake like a malformed number, and
 * should be reported the same way (one line, exit 78), not as a crash.
 */
function directory(opts: { doc: string }): VarSpec<string | undefined> {
  const base = string({ default: undefined, doc: opts.doc });
  return {
    ...base,
    kind: 'path of a folder',
    parse(raw) {
      try {
        if (statSync(raw).isDirectory()) return { value: raw };
        return { error: `expected a folder, got "${raw}" (not a folder)` };
      } catch (err) {
        return {
          error: `expected a folder, got "${raw}" (${(err as NodeJS.ErrnoException).code})`,
        };
      }
    },
  };
}

/** Every variable video-streamer reads; the README table is generated from this. */
export const schema = {
  ...commonVars({ port: 8090, adminPort: 9006 }),
  MEDIA_DIR: directory({
    doc: 'Folder whose files are served (not its subfolders, not dotfiles). Unset: the sample media shipped with the app (`apps/video-streamer/media`).',
  }),
  CACHE_CONTROL: string({
    default: 'public, max-age=3600',
    maxLength: 1024,
    doc: 'Cache-Control of every media file response (and its 304s). The page and the list are always `no-cache`.',
  }),
  STREAM_CHUNK_BYTES: int({
    default: 256 * 1024,
    min: 16 * 1024,
    max: 16 * 1024 * 1024,
    doc: 'Size of each file read, and so of each write to the socket. A download holds one to four such chunks (see READ_AHEAD_BYTES); bigger is faster up to a point (see bench/).',
  }),
  READ_AHEAD_BYTES: int({
    default: 32 * 1024 * 1024,
    min: 0,
    max: 4 * 1024 * 1024 * 1024,
    doc: 'Memory all downloads share to read ahead of their sockets. Each download always has one STREAM_CHUNK_BYTES buffer and gets up to three more from here while it lasts, so memory stays under MAX_CONNECTIONS x STREAM_CHUNK_BYTES + this, however many clients stop reading.',
  }),
  MAX_LISTED_FILES: int({
    default: 1000,
    min: 1,
    max: 100_000,
    doc: 'Most files one /api/videos page holds: the default and the largest `?limit=` (more: 400 NETLAB_ERR_BAD_QUERY; the rest come with `?offset=`, see its Link header). The player page lists the first this many by name. Every file is served by URL however many there are.',
  }),
  INFO_CACHE_ENTRIES: int({
    default: 10_000,
    min: 1,
    max: 1_000_000,
    doc: 'Most files whose parsed headers (duration, size, codecs) are remembered, by inode, size and mtime, so that listing them again opens no file. Least recently listed go first; each entry is a few hundred bytes.',
  }),
  MAX_RANGES: int({
    default: 32,
    min: 1,
    max: 1000,
    doc: 'Most ranges one Range header may list; more get 416 NETLAB_ERR_TOO_MANY_RANGES. Ranges that overlap or touch are coalesced first, so a multipart/byteranges body never holds a byte twice (the 2011 Apache range DoS).',
  }),
  MAX_CONNECTIONS: int({
    default: 1000,
    min: 1,
    max: 1_000_000,
    doc: 'Open connections at most; one more is closed at once. Each download holds an open file and at least one STREAM_CHUNK_BYTES buffer.',
  }),
  HEADERS_TIMEOUT_MS: int({
    default: 10_000,
    min: 1,
    max: 600_000,
    doc: 'A client must send its complete request headers within this time, or gets 408 and is closed (slowloris).',
  }),
  KEEP_ALIVE_TIMEOUT_MS: int({
    default: 5_000,
    min: 0,
    max: 600_000,
    doc: 'An idle keep-alive connection is closed after this long without a new request (0: no limit but IDLE_TIMEOUT_MS).',
  }),
  IDLE_TIMEOUT_MS: int({
    default: 60_000,
    min: 0,
    max: 86_400_000,
    doc: 'A connection with no traffic either way for this long is closed, e.g. a player that paused and stopped reading its download; its file is closed with it (0: never).',
  }),
  MAX_HEADER_SIZE: int({
    default: 16_384,
    min: 1024,
    max: 1_048_576,
    doc: 'Largest request head in bytes; above it the answer is 431. It also bounds how many ranges one Range header can hold.',
  }),
  ...guardVars(),
  ...proxyProtocolVars(),
};

export type StreamerConfig = ConfigOf<typeof schema>;
