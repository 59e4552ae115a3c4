import { hostileSuite } from './suite.js';

// The admin server (packages/common) of any app: http-hello's here.
// Its header deadline is its own (5 s), checked only every so often by
// Node: slowloris connections are closed within 31 s.
hostileSuite({
  app: 'http-hello',
  admin: true,
  path: '/livez',
  bigPath: '/metrics',
  slowlorisCloseMs: 31_000,
});
