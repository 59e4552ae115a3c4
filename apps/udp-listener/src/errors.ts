import { NetlabError } from '@netlab/common';

/** The multicast group in UDP_MULTICAST_GROUPS could not be joined: the start fails. */
export class MulticastJoinError extends NetlabError {
  readonly group: string;

  constructor(group: string, cause: unknown) {
    const why = (cause as NodeJS.ErrnoException | undefined)?.code ?? String(cause);
    super('NETLAB_ERR_MULTICAST_JOIN', `cannot join multicast group ${group} (${why})`, { cause });
    this.name = 'MulticastJoinError';
    this.group = group;
  }
}
