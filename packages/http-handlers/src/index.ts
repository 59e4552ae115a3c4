export { prefersJson } from './accept.js';
export {
  type AccessEntry,
  type AccessLog,
  type AccessLogOptions,
  createAccessLog,
} from './access-log.js';
export { HTTP_ERRORS, HttpError, type HttpErrorCode } from './errors.js';
export { createHttpHandler, type HttpHandler, type HttpHandlerOptions } from './handler.js';
export { isSaneRequestId, requestIdGenerator } from './request-id.js';
export {
  errorBody,
  type HttpRequest,
  type HttpResponse,
  rawErrorResponse,
} from './respond.js';
export { RequestStats, ROUTES, type RouteName } from './stats.js';
export { type Identity, whoami } from './whoami.js';
