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
 * A Content-Security-Policy that allows the page nothing but its own
 * script file (/player.js: never inline, so a hostile file name cannot run
 * any even if escaping were missed), its inline style, and media, tracks
 * and pictures from this server.
 */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; media-src 'self'; style-src 'unsafe-inline'; img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/**
 * The player page: an HTML5 <video> for the chosen file (`/?v=name`, else
 * the first), with its same-named poster and WebVTT subtitles, a live panel
 * of what the network did (player.js), and the audio and video files as
 * links. The browser's own player does the seeking, with Range requests
 * (Chrome asks `bytes=0-`, then `bytes=N-` on a seek; Safari first asks
 * `bytes=0-1` and needs a 206).
 */
export function playerPage(files: readonly ListedFile[], chosen: string | undefined): string {
  const current = files.find((f) => f.name === chosen) ?? files[0];
  const items = files
    .map((f) => {
      const label = `${escapeHtml(f.name)} <small>${escapeHtml(describe(f))}</small>`;
      const href = `/?v=${encodeURIComponent(f.name)}`;
      return f === current
        ? `<li aria-current="true"><strong>${label}</strong></li>`
        : `<li><a href="${escapeHtml(href)}">${label}</a></li>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>netlab video-streamer</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 52rem; padding: 0 1rem; }
video { width: 100%; background: #000; }
small, #events { color: #666; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
td, th { padding: 0.1rem 0.6rem; text-align: right; border-bottom: 1px solid #ddd; }
#events { max-height: 12rem; overflow: auto; font-size: 0.85rem; }
</style>
<script src="/player.js" defer></script>
</head>
<body>
<h1>video-streamer</h1>
${current === undefined ? '<p>No audio or video files in the media folder.</p>' : player(current)}
<h2>Files</h2>
<ul>
${items}
</ul>
<p><a href="/api/videos">/api/videos</a> lists them as JSON (<a href="/api/videos?all=1">every file</a>).</p>
</body>
</html>
`;
}

function player(f: ListedFile): string {
  const poster = f.poster === null ? '' : ` poster="${escapeHtml(f.poster)}"`;
  const tracks = f.subtitles
    .map((t, i) => {
      const lang = t.lang === null ? '' : ` srclang="${escapeHtml(t.lang)}"`;
      const label = escapeHtml(t.lang ?? 'subtitles');
      return `\n<track kind="subtitles" src="${escapeHtml(t.url)}"${lang} label="${label}"${i === 0 ? ' default' : ''}>`;
    })
    .join('');
  return `<video id="player" controls preload="metadata" src="${escapeHtml(f.url)}"${poster}>${tracks}
</video>
<p><a href="${escapeHtml(f.url)}">${escapeHtml(f.name)}</a> <small>${escapeHtml(describe(f))}</small></p>
<h2>Network</h2>
<p id="summary">Waiting for the player…</p>
<table>
<thead><tr><th>#</th><th>start</th><th>took</th><th>status</th><th>body</th><th>rate</th></tr></thead>
<tbody id="requests"></tbody>
</table>
<ol id="events" reversed></ol>`;
}

/** `video/mp4, 640×360, avc1.4d401e mp4a.40.2, 123.4 KiB, 6.0 s` */
function describe(f: ListedFile): string {
  const parts = [f.type];
  if (f.width !== null && f.height !== null) parts.push(`${f.width}×${f.height}`);
  if (f.codecs.length > 0) parts.push(f.codecs.join(' '));
  parts.push(formatSize(f.size));
  if (f.duration !== null) parts.push(`${f.duration.toFixed(1)} s`);
  return parts.join(', ');
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
