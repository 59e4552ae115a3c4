import { workersSuite } from './suite.js';

workersSuite({ app: 'http-hello', path: '/whoami' });
workersSuite({ app: 'https-secure', tls: true, path: '/whoami' });
