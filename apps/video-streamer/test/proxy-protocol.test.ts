import { proxyProtocolHttpSuite } from '@netlab/testkit';
import { SAMPLE_MEDIA_DIR } from '../src/server.js';
import { startStreamer } from './helpers.js';

proxyProtocolHttpSuite({
  app: 'video-streamer',
  path: '/api/videos',
  start: (env) => startStreamer(SAMPLE_MEDIA_DIR, env),
});
