import type { ListedFile } from './media-dir.js';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
/** File names come from whoever fills MEDIA_DIR: never put one in HTML unescaped. */
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/**
 * A Content-Security-Policy that allows the page nothing but its own inline
 * style and media from this server: no script at all, so a hostile file
 * name cannot run any even if escaping were missed.
 */
export const PAGE_CSP =
  "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/**
 * The player page: the files as links, and an HTML5 <video> for the chosen
 * one (`/?v=name`, else the first). No script: the browser's own player
 * does the seeking, with Range requests (Chrome asks `bytes=0-`, then
 * `bytes=N-` on a seek; Safari first asks `bytes=0-1` and needs a 206).
 */
export function playerPage(files: readonly ListedFile[], chosen: string | undefined): string {
  const current = files.find((f) => f.name === chosen) ?? files[0];
  const items = files
    .map((f) => {
      const label = `${escapeHtml(f.name)} <small>${escapeHtml(f.type)}, ${formatSize(f.size)}${
        f.duration === null ? '' : `, ${f.duration.toFixed(1)} s`
      }</small>`;
      const href = `/?v=${encodeURIComponent(f.name)}`;
      return f === current
        ? `<li aria-current="true"><strong>${label}</strong></li>`
        : `<li><a href="${escapeHtml(href)}">${label}</a></li>`;
    })
    .join('\n');
  const player =
    current === undefined
      ? '<p>No files in the media folder.</p>'
      : `<video id="player" controls preload="metadata" src="${escapeHtml(current.url)}"></video>
<p><a href="${escapeHtml(current.url)}">${escapeHtml(current.name)}</a></p>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>netlab video-streamer</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 52rem; padding: 0 1rem; }
video { width: 100%; background: #000; }
small { color: #666; }
</style>
</head>
<body>
<h1>video-streamer</h1>
${player}
<h2>Files</h2>
<ul>
${items}
</ul>
<p><a href="/api/videos">/api/videos</a> lists them as JSON.</p>
</body>
</html>
`;
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
