export {
  type AdminRoute,
  type AdminRoutes,
  type AdminServer,
  createAdminServer,
  type Readiness,
} from './admin-server.js';
export { type WorkerConfig, workerVars } from './cluster-config.js';
export {
  type ClusterDeps,
  type ClusterMessage,
  type ClusterPrimary,
  createClusterPrimary,
} from './cluster-primary.js';
export { runClusterWorker, type WorkerProcessLike } from './cluster-worker.js';
export { type CommonConfig, commonVars, LOG_LEVELS, type LogLevel } from './common-config.js';
export {
  bool,
  type ConfigOf,
  configTable,
  type Env,
  int,
  loadConfig,
  oneOf,
  parseConfig,
  port,
  type Schema,
  string,
  type VarSpec,
} from './config.js';
export { ConnectionSet, drain, limitConnections, sweepIdle } from './connections.js';
export {
  ClusterError,
  type ClusterErrorCode,
  ConfigError,
  type ConfigIssue,
  formatIssue,
  NetlabError,
} from './errors.js';
export { FdDestination } from './fd-destination.js';
export {
  EXIT_CONFIG,
  EXIT_FAILURE,
  EXIT_OK,
  type ProcessLike,
  type Running,
  runService,
  type Service,
  type ServiceContext,
  type ServiceDefinition,
} from './lifecycle.js';
export { listen } from './listen.js';
export { createLogger, flushLogger, type Logger, type LoggerOptions } from './logger.js';
export {
  Counter,
  createRegistry,
  Gauge,
  Histogram,
  METRIC_PREFIX,
  type MetricsSource,
  Registry,
} from './metrics.js';
export { peerAddress } from './peer-address.js';
export { editDistance, type UnknownVariable, unknownVariables } from './unknown-variables.js';
