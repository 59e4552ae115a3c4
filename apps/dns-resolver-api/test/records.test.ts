import type { CaaRecord } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { toRecords } from '../src/records.js';

describe('toRecords: what each Node version hands back', () => {
  // Node 20's resolveCaa gives { critical, issue }; Node 24's puts
  // type: 'CAA' first, as every Node ≥ 22 does in ANY answers.
  it.each([
    ['Node 20', { critical: 0, issue: 'letsencrypt.org' }],
    ['Node 24', { type: 'CAA', critical: 0, issue: 'letsencrypt.org' }],
  ])('CAA as %s shapes it', (_node, record) => {
    const { answers } = toRecords('example.test', 'CAA', [record as CaaRecord]);
    expect(answers).toEqual([
      { name: 'example.test', type: 257, data: '0 issue "letsencrypt.org"' },
    ]);
  });

  it('CAA inside ANY, with a flag and a value to escape', () => {
    const any = [{ type: 'CAA', critical: 128, iodef: 'mailto:"x"@example.test' }];
    const { answers } = toRecords('example.test', 'ANY', any as never);
    expect(answers).toEqual([
      { name: 'example.test', type: 257, data: '128 iodef "mailto:\\"x\\"@example.test"' },
    ]);
  });
});
