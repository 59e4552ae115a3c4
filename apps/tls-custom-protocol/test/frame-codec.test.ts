import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameDecoder } from '../src/frame-codec.js';
import {
  decodeError,
  decodeU64,
  encodeError,
  encodeFrame,
  encodeU64,
  type Frame,
  HEADER_BYTES,
  RequestType,
  ResponseType,
} from '../src/protocol.js';

const server = (max = 1 << 20) => new FrameDecoder({ maxFrameBytes: max, side: 'server' });

const arbFrame = fc.record({
  type: fc.integer({ min: 0x00, max: 0x7f }),
  id: fc.integer({ min: 0, max: 0xffff_ffff }),
  payload: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
});

const same = (frames: Frame[]) =>
  frames.map((f) => ({ type: f.type, id: f.id, payload: f.payload.toString('hex') }));

/** Cuts `bytes` at the given offsets (sorted, deduplicated) into chunks. */
function cut(bytes: Buffer, offsets: number[]): Buffer[] {
  const points = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let last = 0;
  for (const p of [...points, bytes.length]) {
    chunks.push(bytes.subarray(last, p));
    last = p;
  }
  return chunks;
}

describe('frame codec', () => {
  it('decodes the spec worked example (PING id 1, BYE id 2)', () => {
    const bytes = Buffer.from('010100000000000100000000' + '010600000000000200000000', 'hex');
    expect(same(server().push(bytes))).toEqual([
      { type: RequestType.PING, id: 1, payload: '' },
      { type: RequestType.BYE, id: 2, payload: '' },
    ]);
    expect(encodeFrame(ResponseType.PONG, 1).toString('hex')).toBe('018100000000000100000000');
  });

  it('any sequence of frames, cut anywhere, decodes to the same frames', () => {
    fc.assert(
      fc.property(
        fc.array(arbFrame, { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (frames, offsets) => {
          const bytes = Buffer.concat(frames.map((f) => encodeFrame(f.type, f.id, f.payload)));
          const decoder = server();
          const out = cut(bytes, offsets).flatMap((c) => decoder.push(c));
          expect(same(out)).toEqual(same(frames));
          expect(decoder.error).toBeUndefined();
          expect(decoder.buffered).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('frames dribbled one byte at a time, or coalesced into one chunk, decode alike', () => {
    fc.assert(
      fc.property(fc.array(arbFrame, { minLength: 1, maxLength: 8 }), (frames) => {
        const bytes = Buffer.concat(frames.map((f) => encodeFrame(f.type, f.id, f.payload)));
        const dribble = server();
        const byByte: Frame[] = [];
        for (let i = 0; i < bytes.length; i++)
          byByte.push(...dribble.push(bytes.subarray(i, i + 1)));
        expect(same(byByte)).toEqual(same(frames));
        expect(same(server().push(bytes))).toEqual(same(frames));
      }),
    );
  });

  it('decodes payloads over 64 KiB: the length is all 32 bits, not 16', () => {
    // 70,000 = 0x00011170 and 2^20 + 3 = 0x00100003: a length read from the
    // wrong bytes or with the wrong width (u16) gives another frame boundary.
    const sizes = [65_535, 65_536, 70_000, 2 ** 20 + 3];
    const frames = sizes.map((n, i) => ({
      type: RequestType.ECHO,
      id: i + 1,
      payload: Buffer.alloc(n, i + 1),
    }));
    const bytes = Buffer.concat([
      ...frames.map((f) => encodeFrame(f.type, f.id, f.payload)),
      encodeFrame(RequestType.PING, 99),
    ]);
    const expected = [...same(frames), { type: RequestType.PING, id: 99, payload: '' }];
    const whole = server(2 ** 21);
    expect(same(whole.push(bytes))).toEqual(expected);
    // The same bytes in TLS-record-sized chunks (16 KiB), taken one frame at a time.
    const chunked = server(2 ** 21);
    const out: Frame[] = [];
    for (let at = 0; at < bytes.length; at += 16_384) {
      chunked.append(bytes.subarray(at, at + 16_384));
      for (let f = chunked.next(); f !== undefined; f = chunked.next()) out.push(f);
    }
    expect(same(out)).toEqual(expected);
    expect(out.map((f) => f.payload.length)).toEqual([...sizes, 0]);
    expect(chunked.buffered).toBe(0);
  });

  it('ready says whether next() has a frame: not for a partial one, yes for a whole or a bad header', () => {
    const decoder = server(1024);
    const ping = encodeFrame(RequestType.PING, 1);
    decoder.append(ping.subarray(0, 11));
    expect(decoder.ready).toBe(false);
    decoder.append(ping.subarray(11));
    expect(decoder.ready).toBe(true);
    expect(decoder.next()?.id).toBe(1);
    expect(decoder.ready).toBe(false);
    const echo = encodeFrame(RequestType.ECHO, 2, Buffer.alloc(100));
    decoder.append(echo.subarray(0, 50));
    expect(decoder.ready).toBe(false);
    expect(decoder.next()).toBeUndefined();
    expect(decoder.buffered).toBe(50);
    const bad = server(1024);
    bad.append(Buffer.from('018100000000000100000000', 'hex'));
    expect(bad.ready).toBe(true);
    expect(bad.next()).toBeUndefined();
    expect(bad.error?.code).toBe('NETLAB_ERR_MALFORMED_FRAME');
  });

  it('refuses an oversized length from the 12 header bytes alone, before any payload', () => {
    const decoder = server(1024);
    const header = Buffer.alloc(HEADER_BYTES);
    encodeFrame(RequestType.ECHO, 9, Buffer.alloc(0)).copy(header);
    header.writeUInt32BE(0xffff_fff0, 8); // claims 4 GiB
    const before = process.memoryUsage().arrayBuffers;
    expect(decoder.push(header)).toEqual([]);
    expect(decoder.error?.code).toBe('NETLAB_ERR_FRAME_TOO_LARGE');
    expect(decoder.error?.id).toBe(9);
    // Nothing of the claimed size was allocated, and nothing more is kept.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024);
    expect(decoder.push(Buffer.alloc(4096))).toEqual([]);
    expect(decoder.buffered).toBe(0);
  });

  it('accepts a frame of exactly the limit and refuses one byte more', () => {
    expect(server(1024).push(encodeFrame(RequestType.ECHO, 1, Buffer.alloc(1024)))).toHaveLength(1);
    const over = server(1024);
    over.push(encodeFrame(RequestType.ECHO, 1, Buffer.alloc(1025)));
    expect(over.error?.code).toBe('NETLAB_ERR_FRAME_TOO_LARGE');
  });

  it.each([
    ['a version other than 1', '02010000000000010000000000', 'NETLAB_ERR_BAD_VERSION'],
    ['reserved flags set', '01010001000000010000000000', 'NETLAB_ERR_MALFORMED_FRAME'],
    [
      'a response type sent as a request',
      '01810000000000010000000000',
      'NETLAB_ERR_MALFORMED_FRAME',
    ],
  ])('ends decoding at %s, after handing out the good frames before it', (_, bad, code) => {
    const good = encodeFrame(RequestType.PING, 5);
    const decoder = server();
    const frames = decoder.push(Buffer.concat([good, Buffer.from(bad, 'hex'), good]));
    expect(same(frames)).toEqual([{ type: RequestType.PING, id: 5, payload: '' }]);
    expect(decoder.error?.code).toBe(code);
    expect(decoder.push(good)).toEqual([]);
  });

  it('a client decoder takes responses and refuses request types', () => {
    const client = new FrameDecoder({ maxFrameBytes: 1024, side: 'client' });
    expect(client.push(encodeError(3, 1, 'nope'))).toHaveLength(1);
    client.push(encodeFrame(RequestType.PING, 1));
    expect(client.error?.code).toBe('NETLAB_ERR_MALFORMED_FRAME');
  });

  it('round-trips u64 payloads and error frames', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (n) => {
        expect(decodeU64(encodeU64(n))).toBe(n);
      }),
    );
    expect(decodeU64(Buffer.alloc(7))).toBeUndefined();
    expect(decodeU64(Buffer.from('ffffffffffffffff', 'hex'))).toBeUndefined();
    const error = encodeError(4, 5, 'too many');
    expect(decodeError(error.subarray(HEADER_BYTES))).toEqual({ code: 5, message: 'too many' });
  });
});

describe('protocol helpers at their edges', () => {
  it('decodeError: a payload too short for a code is told as such, not thrown', () => {
    expect(decodeError(Buffer.alloc(0))).toEqual({
      code: 0,
      message: 'error frame without a code',
    });
    expect(decodeError(Buffer.from([0x01]))).toEqual({
      code: 0,
      message: 'error frame without a code',
    });
    expect(decodeError(Buffer.from([0x00, 0x05]))).toEqual({ code: 5, message: '' });
  });

  it('encodeFrame takes any id a number holds, as the u32 on the wire', () => {
    expect(encodeFrame(RequestType.PING, -1).readUInt32BE(4)).toBe(0xffff_ffff);
    expect(encodeFrame(RequestType.PING, 2 ** 32 + 5).readUInt32BE(4)).toBe(5);
  });
});
