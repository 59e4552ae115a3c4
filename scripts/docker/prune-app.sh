#!/bin/sh
# What `pnpm deploy --prod` copies but nothing runs, removed from the app
# folder it made (the Dockerfile's deploy stage): source maps, TypeScript
# declarations, docs, and the test/example/benchmark folders dependencies
# publish. Licence files stay. tcp-echo's app layer: 9.7 MB → 2.9 MB.
#   scripts/docker/prune-app.sh /out
set -eu
dir=${1:?usage: prune-app.sh <deployed app folder>}
find "$dir" -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \
  -o -name '*.tsbuildinfo' -o -name '*.md' -o -name '*.markdown' \) -delete
find "$dir/node_modules" -depth -type d \( -name test -o -name tests -o -name __tests__ \
  -o -name docs -o -name example -o -name examples -o -name benchmark -o -name benchmarks \
  -o -name .github \) -exec rm -rf {} +
rm -f "$dir/pnpm-lock.yaml"
