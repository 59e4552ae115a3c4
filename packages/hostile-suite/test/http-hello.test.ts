import { hostileSuite } from './suite.js';

hostileSuite({ app: 'http-hello', path: '/whoami', bigPath: '/whoami' });
