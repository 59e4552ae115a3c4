#!/usr/bin/env bash
# The test suite on a Node major other than the one on PATH: Node 24's
# official build from the npm registry (scripts/node-dist.sh), first on
# PATH for turbo, pnpm and vitest. The images ship Node 24 while a machine
# may have 20 (this CI); .ci/run runs the packages that lean on Node's
# internals this way.
#
#   scripts/test-node.sh 24                                  every package
#   scripts/test-node.sh 24 --filter @netlab/http-handlers   turbo's filters
set -euo pipefail
cd "$(dirname "$0")/.."
major=${1:?usage: scripts/test-node.sh <major> [turbo options]}
shift
dir=$(scripts/node-dist.sh "$major")
export PATH="$dir/bin:$PATH"
echo "test-node: $(node --version)" >&2
# --force: turbo's cache key does not include the Node version.
exec npx turbo run test --force --output-logs=errors-only "$@"
