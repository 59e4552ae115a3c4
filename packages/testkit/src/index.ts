export {
  type Balancer,
  freePort,
  type HaproxyOptions,
  makeTestPki,
  startHaproxy,
  startNginxStream,
  startPrependingRelay,
  type TestPki,
} from './balancers.js';
export { expectConfigRefused } from './config-refusal.js';
export {
  expectRefusal,
  type Http1App,
  type Http1SuiteOptions,
  http1HardeningSuite,
} from './http1-suite.js';
export { LogCapture, type LogLine } from './log-capture.js';
export {
  type ProxyProtocolSuiteOptions,
  type ProxyTestApp,
  proxyProtocolHttpSuite,
} from './proxy-suite.js';
export {
  type Example,
  type ExampleResult,
  readExamples,
  runExample,
  substitutePorts,
} from './readme-examples.js';
export { type ReadmeSuiteOptions, readmeSuite } from './readme-suite.js';
export { connect, metricValue, sha256, tcpNoDelayOf } from './sockets.js';
export {
  captureLogs,
  type ReadyApp,
  type SpawnedApp,
  spawnApp,
  startApp,
} from './spawn-app.js';
export { readyz, useApps } from './use-apps.js';
export { procStatusBytes, waitUntil } from './wait.js';
export { bodyOf, pump, type Watched, watch, wire } from './wire.js';
