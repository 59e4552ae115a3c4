import { once } from 'node:events';
import net from 'node:net';
import { waitUntil } from '@netlab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameDecoder } from '../src/frame-codec.js';
import { Output } from '../src/output.js';
import { ResponseType } from '../src/protocol.js';

// Output on a real loopback TCP connection (TLS changes nothing here: it is
// the socket's writable side that is under test).
const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

async function pair(): Promise<{ server: net.Socket; client: net.Socket }> {
  const listener = net.createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const { port } = listener.address() as net.AddressInfo;
  const client = net.connect(port, '127.0.0.1');
  const [server] = (await once(listener, 'connection')) as [net.Socket];
  cleanup.push(() => {
    client.destroy();
    server.destroy();
    listener.close();
  });
  return { server, client };
}

describe('Output', () => {
  it('sends small, large and shared frames byte for byte, in order', async () => {
    const { server, client } = await pair();
    const output = new Output(server, () => {});
    const shared = Buffer.alloc(70_000, 7);
    const sent: Array<{ type: number; id: number; payload: string }> = [];
    for (let id = 1; id <= 3000; id++) {
      const size = [0, 1, 5000, 16_372, 16_373, 40_000][id % 6]!;
      const payload = Buffer.alloc(size, id % 251);
      if (id % 500 === 0) {
        output.frame(ResponseType.DATA, id, shared, true);
        sent.push({ type: ResponseType.DATA, id, payload: shared.toString('hex') });
      } else {
        output.frame(ResponseType.ECHO_REPLY, id, payload);
        sent.push({ type: ResponseType.ECHO_REPLY, id, payload: payload.toString('hex') });
        // Not shared: Output took a copy (or packed it), so the caller's
        // buffer (a view into a read chunk, in the server) is free again.
        payload.fill(0xee);
      }
      if (id % 7 === 0) output.flush();
    }
    output.end();
    const decoder = new FrameDecoder({ maxFrameBytes: 1 << 20, side: 'client' });
    const received: typeof sent = [];
    client.on('data', (chunk: Buffer) => {
      for (const f of decoder.push(chunk))
        received.push({ type: f.type, id: f.id, payload: f.payload.toString('hex') });
    });
    await once(client, 'end');
    expect(received.length).toBe(sent.length);
    expect(received).toEqual(sent);
  });

  it('gives the socket one batch at a time: answers queued meanwhile are counted, not handed to the socket', async () => {
    const { server, client } = await pair();
    client.pause(); // never reads
    let written = 0;
    const output = new Output(server, () => written++);
    // 1,000,000 PONG-sized frames, each flushed as if it were the answer to
    // one read (a client sending one request per TLS record): 12 MB, more
    // than the kernel's buffers on both sides take.
    for (let id = 1; id <= 1_000_000; id++) {
      output.frame(ResponseType.PONG, id);
      output.flush();
    }
    let last = -1;
    await waitUntil(
      () => {
        const settled = written === last;
        last = written;
        return settled;
      },
      { intervalMs: 200, what: 'the socket to stop taking batches' },
    );
    // In the socket: one batch (64 KiB) at most; the rest waits in Output,
    // packed in blocks, and is counted there.
    expect(server.writableLength).toBeLessThanOrEqual(64 * 1024 + 16 * 1024);
    expect(output.buffered).toBeGreaterThan(12_000_000 - server.bytesWritten - 64 * 1024 - 1);
    expect(output.buffered + server.bytesWritten).toBe(12_000_000 + server.writableLength);
  });

  it('reuses a block only once the socket has written it: a client that reads late still gets every byte', async () => {
    const { server, client } = await pair();
    client.pause(); // reads only once the kernel's buffers are full
    const total = 20_000;
    const payloadOf = (id: number) => Buffer.alloc(1000, id % 251);
    let produced = 0;
    // As the server does: more answers are made only when a batch has been
    // written (onWritten), into blocks that may be ones an earlier batch used.
    const produce = (n: number) => {
      for (let i = 0; i < n && produced < total; i++) {
        produced++;
        output.frame(ResponseType.ECHO_REPLY, produced, payloadOf(produced));
      }
      output.flush();
      if (produced === total) output.end();
    };
    const output: Output = new Output(server, () => produce(100));
    produce(5000);
    const decoder = new FrameDecoder({ maxFrameBytes: 1 << 20, side: 'client' });
    let received = 0;
    let wrong = 0;
    client.on('data', (chunk: Buffer) => {
      for (const f of decoder.push(chunk)) {
        received++;
        if (f.id !== received || !f.payload.equals(payloadOf(f.id))) wrong++;
      }
    });
    await waitUntil(() => server.writableLength > 0, {
      what: 'a write the kernel cannot take at once',
    });
    client.resume();
    await once(client, 'end');
    expect(wrong).toBe(0);
    expect(received).toBe(total);
  });
});
