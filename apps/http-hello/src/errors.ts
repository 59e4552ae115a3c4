import { NetlabError } from '@netlab/common';

/** Why a cluster primary gave up. Client-facing errors live in @netlab/http-handlers. */
export type ClusterErrorCode =
  /** Workers crashed more than WORKER_MAX_RESTARTS times within WORKER_RESTART_WINDOW_MS. */
  | 'NETLAB_ERR_RESTART_STORM'
  /** A worker exited before it was listening (port taken, bad environment). */
  | 'NETLAB_ERR_WORKER_START';

export class ClusterError extends NetlabError {
  constructor(code: ClusterErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ClusterError';
  }
}
