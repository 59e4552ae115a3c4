/**
 * Every error netlab raises on purpose carries a stable `code`, the way Node
 * core (`ERR_*`), undici (`UND_ERR_*`) and fastify (`FST_ERR_*`) do. Tests and
 * callers branch on `code`; messages are for people and may change.
 */
export class NetlabError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NetlabError';
    this.code = code;
  }
}

export interface ConfigIssue {
  readonly variable: string;
  readonly message: string;
}

export class ConfigError extends NetlabError {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super('NETLAB_ERR_CONFIG', issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** The one line a person sees per bad variable: `PORT: expected an integer 0-65535, got "abc"`. */
export function formatIssue(issue: ConfigIssue): string {
  return `${issue.variable}: ${issue.message}`;
}

/** Why a cluster primary gave up. */
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
