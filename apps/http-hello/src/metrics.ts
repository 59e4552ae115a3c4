import type { Registry } from '@netlab/common';
import {
  type ConnectionMetrics,
  createHttpMetrics,
  type RequestStats,
} from '@netlab/http-handlers';

export type HelloMetrics = ConnectionMetrics;

/**
 * The HTTP series every netlab HTTP server has (@netlab/http-handlers):
 * request counts and open connections are read at scrape time (from the
 * handler's RequestStats and the server's ConnectionSet) rather than bumped
 * per request, so serving a request touches no metric object at all.
 */
export function createHelloMetrics(
  registry: Registry,
  stats: RequestStats,
  openConnections: () => number,
): HelloMetrics {
  return createHttpMetrics(registry, stats, openConnections);
}
