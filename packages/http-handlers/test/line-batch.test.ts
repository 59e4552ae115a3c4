import { describe, expect, it } from 'vitest';
import { LineBatch } from '../src/line-batch.js';

const head = Buffer.from('{"n":');

/** A destination that takes strings and records every write. */
function recorder() {
  const writes: string[] = [];
  return { writes, target: { write: (chunk: string) => writes.push(chunk) } };
}

describe('LineBatch', () => {
  it('writes what was added, in order, once flushed', () => {
    const { writes, target } = recorder();
    const batch = new LineBatch(target, 1024);
    batch.add(head, '1}\n');
    batch.add(head, '"é€"}\n');
    expect(writes).toEqual([]);
    batch.flush();
    expect(writes).toEqual(['{"n":1}\n{"n":"é€"}\n']);
    batch.flush();
    expect(writes).toHaveLength(1);
  });

  it('never writes more than maxWriteBytes at once, whatever the characters', () => {
    const { writes, target } = recorder();
    const batch = new LineBatch(target, 256);
    const lines = Array.from({ length: 100 }, (_, i) => `"${'€é'.repeat(i % 7)}${i}"}\n`);
    for (const line of lines) batch.add(head, line);
    batch.flush();
    expect(writes.length).toBeGreaterThan(1);
    for (const w of writes) expect(Buffer.byteLength(w)).toBeLessThanOrEqual(256);
    expect(writes.join('')).toBe(lines.map((l) => `{"n":${l}`).join(''));
  });

  it('writes a line longer than a whole batch on its own, after what came before', () => {
    const { writes, target } = recorder();
    const batch = new LineBatch(target, 64);
    const huge = `"${'x'.repeat(500)}"}\n`;
    batch.add(head, '1}\n');
    batch.add(head, huge);
    batch.add(head, '2}\n');
    batch.flush();
    expect(writes).toEqual(['{"n":1}\n', `{"n":${huge}`, '{"n":2}\n']);
  });

  it('hands a destination that takes bytes the encoded bytes, never a string', () => {
    const chunks: Buffer[] = [];
    const destination = {
      write: (): never => {
        throw new Error('written as a string');
      },
      writeBytes: (bytes: Uint8Array) => chunks.push(Buffer.from(bytes)),
    };
    const batch = new LineBatch(destination, 4096);
    for (let i = 0; i < 1000; i++) batch.add(head, `"é${i}"}\n`);
    batch.flush();
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(4096);
    expect(Buffer.concat(chunks).toString()).toBe(
      Array.from({ length: 1000 }, (_, i) => `{"n":"é${i}"}\n`).join(''),
    );
  });
});
