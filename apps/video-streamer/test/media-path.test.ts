import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mediaName } from '../src/media-path.js';

const ROOT = '/srv/media';

describe('mediaName properties', () => {
  // Raw names built from the pieces traversal attempts are made of.
  const piece = fc.constantFrom(
    '.',
    '..',
    '/',
    '\\',
    '%2e',
    '%2E',
    '%2f',
    '%2F',
    '%5c',
    '%00',
    '%25',
    '%',
    'a',
    'clip.mp4',
    '%c0%af',
    '%e2%80%ae',
  );
  const raw = fc.oneof(
    fc.array(piece, { maxLength: 8 }).map((p) => p.join('')),
    fc.string(),
  );

  it('any name it accepts is one plain segment that stays inside the folder', () => {
    fc.assert(
      fc.property(raw, (r) => {
        const result = mediaName(r);
        if (!('name' in result)) {
          expect([
            'NETLAB_ERR_BAD_PATH',
            'NETLAB_ERR_FORBIDDEN_PATH',
            'NETLAB_ERR_NOT_FOUND',
          ]).toContain(result.code);
          return;
        }
        const { name } = result;
        expect(name).not.toMatch(/[/\\\0]/);
        expect(name.startsWith('.')).toBe(false);
        expect(resolve(join(ROOT, name)).startsWith(`${ROOT}/`)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('decodes exactly once', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter((s) => !/[/\\\0]/.test(s) && !s.startsWith('.')),
        (name) => {
          expect(mediaName(encodeURIComponent(name))).toEqual({ name });
        },
      ),
    );
  });
});
