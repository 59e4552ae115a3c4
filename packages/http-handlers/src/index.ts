export { prefersJson } from './accept.js';
export {
  type AccessEntry,
  type AccessLog,
  type AccessLogOptions,
  type AccessOrigin,
  createAccessLog,
} from './access-log.js';
export {
  type AnswerControl,
  type AnswerLimits,
  FAULT_KINDS,
  mayControl,
  readControl,
  seeded,
} from './answer-control.js';
export { clientErrorCode } from './client-errors.js';
export { answerVars, guardVars, webSocketVars } from './config.js';
export {
  type ConnectionMetrics,
  createConnectionMetrics,
  createHttpMetrics,
  type RequestCounts,
} from './connection-metrics.js';
export { HTTP_ERRORS, HttpError, type HttpErrorCode } from './errors.js';
export {
  type GuardedHandler,
  type GuardedServer,
  type HttpGuardOptions,
  type HttpGuards,
  installHttpGuards,
  isServing,
  lingeringClose,
} from './guards.js';
export {
  type Cut,
  type CutReason,
  createHttpHandler,
  type HttpHandler,
  type HttpHandlerOptions,
  logCutLine,
  logRefusalLine,
  type Refusal,
} from './handler.js';
export { declaresBody, headProblem, isHostPort, requestProblem } from './request-checks.js';
export { isSaneRequestId, requestIdGenerator } from './request-id.js';
export {
  errorBody,
  type HttpRequest,
  type HttpResponse,
  rawErrorResponse,
} from './respond.js';
export {
  closeIdleHttp,
  type HttpServerLimits,
  type HttpServing,
  type ServedHandler,
  type ServeHttpDeps,
  serveHttp,
} from './serve.js';
export {
  type SimpleRequestLine,
  simpleRequestLine,
  watchForSimpleRequest,
} from './simple-request.js';
export { RequestStats, ROUTES, type RouteName } from './stats.js';
export {
  MAX_CHUNK_PADDING,
  MAX_STREAM_COUNT,
  MIN_STREAM_INTERVAL_MS,
  readStreamParams,
  type StreamLimits,
  type StreamParams,
} from './streaming.js';
export {
  installWebSocketEcho,
  readWsControl,
  type WebSocketEcho,
  type WebSocketOptions,
  type WsControl,
} from './websocket.js';
export { type Identity, originForm, unmapped, whoami } from './whoami.js';
