import { hostileSuite } from './suite.js';

// The admin server (packages/common) of any app: http-hello's here.
// Its header deadline is its own (5 s), checked every 0.5 s: slowloris
// connections are closed (408) within about 6 s.
hostileSuite({
  app: 'http-hello',
  admin: true,
  path: '/livez',
  bigPath: '/metrics',
  slowlorisCloseMs: 7_000,
});
