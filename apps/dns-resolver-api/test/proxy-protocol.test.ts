import { proxyProtocolHttpSuite } from '@netlab/testkit';
import { startApi } from './helpers.js';

proxyProtocolHttpSuite({ app: 'dns-resolver-api', path: '/', start: (env) => startApi(env) });
