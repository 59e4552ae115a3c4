import { bool, type ConfigOf, commonVars, int } from '@netlab/common';
import { proxyProtocolVars } from '@netlab/proxy-protocol';

/** Every variable tcp-echo reads; the README table is generated from this. */
export const schema = {
  ...commonVars({ port: 7000, adminPort: 9000 }),
  MAX_CONNECTIONS: int({
    default: 1000,
    min: 1,
    max: 1_000_000,
    doc: 'Open connections at most; one more is closed at once, counted and logged.',
  }),
  IDLE_TIMEOUT_MS: int({
    default: 60_000,
    min: 0,
    max: 86_400_000,
    doc: 'A connection with no traffic either way for this long is closed (0: never).',
  }),
  TCP_KEEPALIVE_MS: int({
    default: 30_000,
    min: 0,
    max: 86_400_000,
    doc: 'Delay before the first TCP keepalive probe on an idle connection (0: keepalive off).',
  }),
  TCP_NODELAY: bool(
    true,
    'Disable Nagle, so small echoes go back at once instead of waiting to coalesce.',
  ),
  ...proxyProtocolVars(),
};

export type EchoConfig = ConfigOf<typeof schema>;
