import { NetlabError } from '@netlab/common';
import { ErrorCode, type ErrorName } from './protocol.js';

/**
 * A violation of netlab/1 found while decoding or handling a frame. `code`
 * is the stable `NETLAB_ERR_…` string for logs and tests; `wire` is the
 * spec's numeric code sent in the ERROR frame; `id` is the request it
 * concerns (0: the connection).
 */
export class ProtocolError extends NetlabError {
  readonly wire: number;
  readonly errorName: ErrorName;
  readonly id: number;

  constructor(name: ErrorName, message: string, id = 0) {
    super(`NETLAB_ERR_${name}`, message);
    this.name = 'ProtocolError';
    this.errorName = name;
    this.wire = ErrorCode[name];
    this.id = id;
  }
}

/**
 * What a client sees when the server answers a request with an ERROR frame:
 * `code` is `NETLAB_ERR_<NAME>` of the spec's table, `wire` the number.
 */
export class RemoteError extends NetlabError {
  readonly wire: number;

  constructor(wire: number, name: string, message: string) {
    super(`NETLAB_ERR_${name}`, message);
    this.name = 'RemoteError';
    this.wire = wire;
  }
}

/** The client's own failures: the connection closed or failed with requests unanswered. */
export class ClientError extends NetlabError {
  constructor(
    code: 'NETLAB_ERR_CONNECTION_CLOSED' | 'NETLAB_ERR_PROTOCOL',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'ClientError';
  }
}
