import { readFileSync } from 'node:fs';

export const SERVICE = 'video-streamer';

export const { version } = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as { version: string };
