// The naive file server video-streamer is compared with: every GET streams
// the whole file with createReadStream(file).pipe(res), default read size
// (64 KiB), no Range, no validators. Usage: node video-streamer-naive.mjs <port> <host>
// with NETLAB_MEDIA_DIR set to the folder of the files.
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';

const [port = '8091', host = '127.0.0.1'] = process.argv.slice(2);
const dir = process.env.NETLAB_MEDIA_DIR ?? '.';

http
  .createServer((req, res) => {
    const file = join(dir, decodeURIComponent(req.url.replace(/^\/videos\//, '')));
    let size;
    try {
      size = statSync(file).size;
    } catch {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': size });
    createReadStream(file).pipe(res);
  })
  .listen(Number(port), host);
