import { execFileSync } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawGet, type Started, startStreamer, tempDir } from './helpers.js';

// Outside MEDIA_DIR, with a content no served file has.
const SECRET = 'TOP-SECRET-OUTSIDE';

let app: Started;
let root: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  root = await tempDir();
  const media = join(root.path, 'media');
  await mkdir(join(media, 'sub'), { recursive: true });
  await writeFile(join(root.path, 'package.json'), SECRET);
  await writeFile(join(root.path, 'secret.mp4'), SECRET);
  await writeFile(join(media, 'ok.mp4'), 'fine');
  await writeFile(join(media, 'a b%.mp4'), 'spaced');
  await writeFile(join(media, '.hidden'), SECRET);
  await writeFile(join(media, 'sub', 'inner.mp4'), SECRET);
  await symlink(join(root.path, 'secret.mp4'), join(media, 'out.mp4'));
  await symlink('../secret.mp4', join(media, 'relative-out.mp4'));
  await symlink('/etc/passwd', join(media, 'passwd.mp4'));
  await symlink(join(media, 'ok.mp4'), join(media, 'in.mp4'));
  // Symlinks whose own names are fine but which lead to a dotfile, or into a
  // dot-folder, inside MEDIA_DIR: the resolved target is judged too.
  await writeFile(join(media, '.env'), SECRET);
  await symlink('.env', join(media, 'dotlink.txt'));
  await mkdir(join(media, '.git'));
  await writeFile(join(media, '.git', 'config'), SECRET);
  await symlink('.git/config', join(media, 'gitconfig.mp4'));
  execFileSync('mkfifo', [join(media, 'pipe.mp4')]);
  app = await startStreamer(media);
});
afterAll(async () => {
  await app.close();
  await root.remove();
});

describe('paths that must never reach a file outside MEDIA_DIR (raw request lines)', () => {
  it.each([
    ['/videos/../package.json', 403],
    ['/videos/../../../../etc/passwd', 403],
    ['/videos/%2e%2e/%2e%2e/etc/passwd', 403],
    ['/videos/%2e%2e', 403],
    ['/videos/%2E%2E%2Fpackage.json', 403],
    ['/videos/..%2f..%2fetc%2fpasswd', 403],
    ['/videos/..%2fpackage.json', 403],
    ['/videos/..%5c..%5cpackage.json', 403],
    ['/videos/..\\package.json', 403], // a backslash is a separator on Windows and to some proxies
    ['/videos//etc/passwd', 403],
    ['/videos/%2fetc%2fpasswd', 403],
    ['/videos/sub/inner.mp4', 403],
    ['/videos/ok.mp4%00.txt', 400],
    ['/videos/%00', 400],
    ['/videos/%99', 400],
    ['/videos/%zz', 400],
    ['/videos/%', 400],
    ['/videos/%252e%252e%252fpackage.json', 404], // decoded once: a name with "%2e" in it
    ['/videos/.hidden', 404],
    ['/videos/%2ehidden', 404],
    ['/videos/out.mp4', 404],
    ['/videos/relative-out.mp4', 404],
    ['/videos/passwd.mp4', 404],
    ['/videos/dotlink.txt', 404],
    ['/videos/gitconfig.mp4', 404],
    ['/videos/pipe.mp4', 404],
    ['/videos/sub', 404],
  ])('%s → %i, never the file', async (path, status) => {
    const res = await rawGet(app.port, path);
    expect(res.status).toBe(status);
    expect(res.text).not.toContain(SECRET);
    expect(res.text).not.toContain('root:');
    if (status !== 400 || res.text.includes('application/json')) {
      expect(res.text).toMatch(/"code":"NETLAB_ERR_(FORBIDDEN_PATH|NOT_FOUND|BAD_PATH)"/);
    }
  });

  it.each([
    ['/videos/ok.mp4', 'fine'],
    ['/videos/in.mp4', 'fine'], // a symlink that stays inside is served
    ['/videos/a%20b%25.mp4', 'spaced'],
    ['/videos/ok.mp4?x=../../etc/passwd', 'fine'],
    ['http://example.test/videos/ok.mp4', 'fine'], // absolute-form (RFC 9112 §3.2.2)
  ])('%s → 200 %s', async (path, body) => {
    const res = await rawGet(app.port, path);
    expect(res.status).toBe(200);
    expect(res.text.endsWith(`\r\n\r\n${body}`)).toBe(true);
  });

  it('leaves symlinks to dotfiles out of /api/videos?all=1', async () => {
    const res = await rawGet(app.port, '/api/videos?all=1');
    expect(res.status).toBe(200);
    const names = (
      JSON.parse(res.text.slice(res.text.indexOf('\r\n\r\n') + 4)) as Array<{ name: string }>
    ).map((f) => f.name);
    expect(names).toEqual(['a b%.mp4', 'in.mp4', 'ok.mp4']);
    // A symlink that stays inside is listed with its target's size.
    expect(res.text).toContain('"name":"in.mp4","size":4,');
    expect(res.text).not.toContain(SECRET);
  });

  it('serves a MEDIA_DIR that itself lies under a dot-folder (~/.cache/videos): only names below it are judged', async () => {
    const dotted = join(root.path, '.cache', 'videos');
    await mkdir(dotted, { recursive: true });
    await writeFile(join(dotted, 'clip.mp4'), 'fine');
    const app2 = await startStreamer(dotted);
    try {
      const res = await rawGet(app2.port, '/videos/clip.mp4');
      expect(res.status).toBe(200);
      expect(res.text.endsWith('\r\n\r\nfine')).toBe(true);
    } finally {
      await app2.close();
    }
  });

  it('answers a client that half-closes right after its request (nc -N, socat)', async () => {
    // rawGet sends the request with end(): a FIN follows it at once.
    const res = await rawGet(app.port, '/videos/ok.mp4');
    expect(res.status).toBe(200);
  });

  it('keeps serving after every refusal', async () => {
    expect((await rawGet(app.port, '/videos/ok.mp4')).status).toBe(200);
  });
});
