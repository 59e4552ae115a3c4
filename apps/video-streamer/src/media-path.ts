import type { StreamerErrorCode } from './errors.js';

/**
 * The file name in a `/videos/{name}` request, from the raw request target
 * (Node does not normalise it: `/videos/../x` arrives as written).
 *
 * Only the files directly in MEDIA_DIR are served, so a name is one path
 * segment. It is percent-decoded exactly once: decoding twice would let
 * `%252e%252e` become `..` after the checks. In order:
 * - bad percent-encoding (`%zz`, or bytes that are not UTF-8, like `%99`) → 400;
 * - a NUL byte (`%00`) → 400: the OS would end the path there;
 * - a separator, raw or encoded (`../x`, `//etc/passwd`, `a/b`, `%2f`, `%5c`,
 *   `\`: one on Windows and to some proxies), or a name that is `.` or `..`
 *   (raw or as `%2e%2e`) → 403;
 * - a dotfile (`.hidden`, `.env`) → 404, as if it were not there.
 * Symlinks are checked when the file is opened (media-dir.ts).
 */
export function mediaName(raw: string): { name: string } | { code: StreamerErrorCode } {
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    return { code: 'NETLAB_ERR_BAD_PATH' };
  }
  if (name.includes('\0')) return { code: 'NETLAB_ERR_BAD_PATH' };
  if (name.includes('/') || name.includes('\\') || name === '.' || name === '..') {
    return { code: 'NETLAB_ERR_FORBIDDEN_PATH' };
  }
  if (name === '' || name.startsWith('.')) return { code: 'NETLAB_ERR_NOT_FOUND' };
  return { name };
}
