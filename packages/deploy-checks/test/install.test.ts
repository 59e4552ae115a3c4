import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from './compose-file.js';

interface Pkg {
  name: string;
  bin?: Record<string, string> | string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const packages: Array<{ dir: string; pkg: Pkg }> = ['apps', 'packages'].flatMap((top) =>
  readdirSync(join(root, top))
    .filter((d) => existsSync(join(root, top, d, 'package.json')))
    .map((d) => ({
      dir: `${top}/${d}`,
      pkg: JSON.parse(readFileSync(join(root, top, d, 'package.json'), 'utf8')) as Pkg,
    })),
);

describe('a fresh install prints no warning', () => {
  it('no workspace package another one depends on has a bin in its build output', () => {
    // pnpm links a dependency's bins at install time, before anything is
    // built: a bin under dist/ is "Failed to create bin at …" on every
    // fresh install (and in every Docker build).
    const needed = new Set(
      packages.flatMap(({ pkg }) =>
        Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((d) =>
          d.startsWith('@netlab/'),
        ),
      ),
    );
    const offending = packages
      .filter(({ pkg }) => needed.has(pkg.name))
      .flatMap(({ dir, pkg }) =>
        Object.values(typeof pkg.bin === 'string' ? { bin: pkg.bin } : (pkg.bin ?? {}))
          .filter((file) => file.replace(/^\.\//, '').startsWith('dist/'))
          .map((file) => `${dir}: bin ${file}`),
      );
    expect(offending).toEqual([]);
  });

  it('the Dockerfile deploys without the legacy implementation (its warning)', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/pnpm --filter "@netlab\/\$\{APP\}" deploy --prod/);
    expect(dockerfile).not.toMatch(/deploy[^\n]*--legacy/);
  });
});
