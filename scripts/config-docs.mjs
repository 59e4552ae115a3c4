#!/usr/bin/env node
// Writes each app's README config table from its config declarations
// (apps/<app>/dist/config.js → `schema`), between the markers
// <!-- config:start --> and <!-- config:end -->. With --check it only
// reports drift and exits 1; the apps' README tests check the same thing.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = new URL('..', import.meta.url).pathname;
const { configTable } = await import(
  pathToFileURL(join(root, 'packages/common/dist/index.js')).href
);
const write = process.argv.includes('--write');
let drift = 0;

for (const app of readdirSync(join(root, 'apps'))) {
  const configJs = join(root, 'apps', app, 'dist/config.js');
  const readme = join(root, 'apps', app, 'README.md');
  if (!existsSync(configJs) || !existsSync(readme)) continue;
  const { schema } = await import(pathToFileURL(configJs).href);
  const text = readFileSync(readme, 'utf8');
  const pattern = /(<!-- config:start -->)[\s\S]*?(<!-- config:end -->)/;
  if (!pattern.test(text)) {
    console.error(`${app}: README has no <!-- config:start --> / <!-- config:end --> markers`);
    drift++;
    continue;
  }
  const next = text.replace(pattern, `$1\n${configTable(schema)}\n$2`);
  if (next === text) continue;
  if (write) {
    writeFileSync(readme, next);
    console.log(`${app}: README config table updated`);
  } else {
    console.error(`${app}: README config table is out of date (pnpm docs:config)`);
    drift++;
  }
}
process.exitCode = drift > 0 ? 1 : 0;
