import { hostileSuite } from './suite.js';

hostileSuite({ app: 'video-streamer', path: '/api/videos', bigPath: '/videos/sample.mp4' });
