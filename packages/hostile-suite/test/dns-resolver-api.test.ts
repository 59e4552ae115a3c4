import { hostileSuite } from './suite.js';

// `/` needs no DNS server. The pipelining client asks /lookup, which waits
// on the thread pool (at most LOOKUP_CONCURRENCY at once, 503 past its queue):
// requests the server works on for a while, not answered as they are parsed.
hostileSuite({
  app: 'dns-resolver-api',
  path: '/',
  pipelinePath: '/lookup?name=localhost&family=4',
});
