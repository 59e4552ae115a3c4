import { type ConfigOf, commonVars, int } from '@netlab/common';
import { proxyProtocolVars } from '@netlab/proxy-protocol';
import { tlsVars } from '@netlab/tls';

const MiB = 1024 * 1024;

/** Every variable tls-custom-protocol reads; the README table is generated from this. */
export const schema = {
  ...commonVars({ port: 7443, adminPort: 9005 }),
  ...tlsVars(),
  ...proxyProtocolVars(),
  MAX_CONNECTIONS: int({
    default: 1000,
    min: 1,
    max: 1_000_000,
    doc: 'Open connections at most (TLS handshakes included); one more is closed at once, counted and logged.',
  }),
  IDLE_TIMEOUT_MS: int({
    default: 60_000,
    min: 0,
    max: 86_400_000,
    doc: 'A connection with no traffic either way for this long gets an IDLE_TIMEOUT error frame and is closed (0: never).',
  }),
  FRAME_TIMEOUT_MS: int({
    default: 30_000,
    min: 100,
    max: 3_600_000,
    doc: 'A frame must arrive whole within this time of its first byte; a client dripping a frame slower gets a FRAME_TIMEOUT error frame and the connection closes.',
  }),
  MAX_FRAME_BYTES: int({
    default: MiB,
    min: 1024,
    max: 64 * MiB,
    doc: 'Largest frame payload accepted; a header claiming more gets FRAME_TOO_LARGE and the connection closes, before any of the payload is read.',
  }),
  MAX_IN_FLIGHT: int({
    default: 256,
    min: 1,
    max: 65_536,
    doc: 'Requests per connection received and not yet answered; one more gets TOO_MANY_IN_FLIGHT.',
  }),
  MAX_BUFFERED_BYTES: int({
    default: MiB,
    min: 64 * 1024,
    max: 256 * MiB,
    doc: 'Answers waiting for a slow client, per connection (what they cost in memory, not only their bytes): above it the server stops producing STREAM data and stops reading requests until the client catches up.',
  }),
  MAX_STREAM_BYTES: int({
    default: 16 * 1024 * MiB,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    doc: 'Largest STREAM a client may ask for; more gets STREAM_TOO_LARGE.',
  }),
};

export type ProtocolConfig = ConfigOf<typeof schema>;
