/**
 * netlab/1, the wire format of docs/tls-protocol.md: the constants both the
 * server and the client library use. The spec is the source of truth; this
 * file is its table in code.
 */

/** The ALPN protocol id. A client that offers ALPN without it is refused in the handshake. */
export const ALPN = 'netlab/1';
export const VERSION = 0x01;
/** version (1) + type (1) + flags (2) + request id (4) + payload length (4). */
export const HEADER_BYTES = 12;
/** Payload size of a full STREAM DATA frame. */
export const DATA_CHUNK_BYTES = 64 * 1024;

export const RequestType = {
  PING: 0x01,
  ECHO: 0x02,
  INFO: 0x03,
  TIME: 0x04,
  STREAM: 0x05,
  BYE: 0x06,
} as const;

export const ResponseType = {
  PONG: 0x81,
  ECHO_REPLY: 0x82,
  INFO_REPLY: 0x83,
  TIME_REPLY: 0x84,
  DATA: 0x85,
  STREAM_END: 0x86,
  BYE_ACK: 0x87,
  ERROR: 0xff,
} as const;

/** The error code table of the spec. Codes are stable; names are for logs and metrics. */
export const ErrorCode = {
  UNKNOWN_TYPE: 1,
  FRAME_TOO_LARGE: 2,
  MALFORMED_FRAME: 3,
  BAD_PAYLOAD: 4,
  TOO_MANY_IN_FLIGHT: 5,
  STREAM_TOO_LARGE: 6,
  BAD_VERSION: 7,
  SHUTTING_DOWN: 8,
  IDLE_TIMEOUT: 9,
  FRAME_TIMEOUT: 10,
} as const;
export type ErrorName = keyof typeof ErrorCode;

const TYPE_NAMES = new Map<number, string>(
  [...Object.entries(RequestType), ...Object.entries(ResponseType)].map(([name, type]) => [
    type,
    name,
  ]),
);
const ERROR_NAMES = new Map<number, ErrorName>(
  Object.entries(ErrorCode).map(([name, code]) => [code, name as ErrorName]),
);

/** `PING`, `DATA`, … or `0x42` for a type the spec does not define. */
export function typeName(type: number): string {
  return TYPE_NAMES.get(type) ?? `0x${type.toString(16).padStart(2, '0')}`;
}

export function errorName(code: number): string {
  return ERROR_NAMES.get(code) ?? `E${code}`;
}

export interface Frame {
  type: number;
  /** Request id, echoed in every response frame to that request. */
  id: number;
  payload: Buffer;
}

const EMPTY = Buffer.alloc(0);

/** One whole frame as bytes. */
export function encodeFrame(type: number, id: number, payload: Buffer = EMPTY): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  writeHeader(frame, type, id, payload.length);
  payload.copy(frame, HEADER_BYTES);
  return frame;
}

/** Writes a frame header into `target` at `at` (a block of many frames: no view made for it). */
export function writeHeader(
  target: Buffer,
  type: number,
  id: number,
  length: number,
  at = 0,
): void {
  target[at] = VERSION;
  target[at + 1] = type;
  target[at + 2] = 0;
  target[at + 3] = 0;
  target.writeUInt32BE(id >>> 0, at + 4);
  target.writeUInt32BE(length, at + 8);
}

/** An ERROR frame: u16 code, then a UTF-8 message for people. */
export function encodeError(id: number, code: number, message: string): Buffer {
  return encodeFrame(ResponseType.ERROR, id, encodeErrorPayload(code, message));
}

/** The payload of an ERROR frame. */
export function encodeErrorPayload(code: number, message: string): Buffer {
  const text = Buffer.from(message, 'utf8');
  const payload = Buffer.allocUnsafe(2 + text.length);
  payload.writeUInt16BE(code, 0);
  text.copy(payload, 2);
  return payload;
}

export function decodeError(payload: Buffer): { code: number; message: string } {
  if (payload.length < 2) return { code: 0, message: 'error frame without a code' };
  return { code: payload.readUInt16BE(0), message: payload.subarray(2).toString('utf8') };
}

/** A u64 payload (STREAM's byte count, STREAM_END's total). */
export function encodeU64(value: number): Buffer {
  const payload = Buffer.allocUnsafe(8);
  payload.writeBigUInt64BE(BigInt(value));
  return payload;
}

/** Reads a u64 payload; undefined when it is not exactly 8 bytes or exceeds 2^53 - 1. */
export function decodeU64(payload: Buffer): number | undefined {
  if (payload.length !== 8) return undefined;
  const value = payload.readBigUInt64BE();
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(value);
}
