// The image's HEALTHCHECK: ready means GET /readyz on the admin port answers
// 200 (503 while starting or draining). Node's own http, so the image needs
// no curl. The port: the first argument, else ADMIN_PORT (the image sets the
// app's default). Exit 0 healthy, 1 not.
import { get } from 'node:http';

// biome-ignore lint/suspicious/noUndeclaredEnvVars: read inside the container, by no turbo task
const port = Number(process.argv[2] ?? process.env.ADMIN_PORT);
const req = get({ host: '127.0.0.1', port, path: '/readyz', timeout: 3000 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timed out')));
req.on('error', (err) => {
  console.error(`readyz on 127.0.0.1:${port}: ${err.message}`);
  process.exit(1);
});
